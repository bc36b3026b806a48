"""Where webhooks may go: refusing private, loopback, link-local and metadata addresses.

The check is made on the address the socket actually connected to, after DNS resolution, so a name
that resolves to a public address when registered and to 169.254.169.254 at delivery time (DNS
rebinding) is still refused. Nothing is sent on a refused connection.
"""

from __future__ import annotations

import ipaddress

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

# Not covered by ipaddress's is_private: carrier-grade NAT space, used inside some clouds.
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")


class ForbiddenAddress(OSError):
    """The endpoint resolved to an address webhooks may not reach."""


def is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local  # includes 169.254.169.254, the cloud metadata service
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in _SHARED_ADDRESS_SPACE
    )


def _checked(sock):
    peer = sock.getpeername()[0]
    if is_forbidden(peer):
        sock.close()
        raise ForbiddenAddress(f"refused to deliver to the private address {peer}")
    return sock


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _checked(super()._new_conn())


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _checked(super()._new_conn())


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


# For a urllib3 PoolManager whose connections must refuse private addresses.
PUBLIC_ONLY_POOLS = {"http": _GuardedHTTPConnectionPool, "https": _GuardedHTTPSConnectionPool}
