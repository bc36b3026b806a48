"""Where webhooks may go: refusing private, loopback, link-local and metadata addresses.

The name is resolved here, and a connection is opened only to an address that passes, so a refused
endpoint is never even connected to: a partner who points its URL at an inner address learns nothing
about which of its ports are open. The address the socket connected to is checked again, for
whatever reached it another way. A name that resolves to a public address when registered and to
169.254.169.254 at delivery time (DNS rebinding) is refused at delivery.
"""

from __future__ import annotations

import ipaddress
import socket

from urllib3.exceptions import NameResolutionError

# Beyond what ipaddress calls not global: the IETF's protocol assignments (192.0.0.8 among them) and
# IPv6's deprecated site-local space, both reachable inside some networks.
_ALSO_FORBIDDEN = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("fec0::/10"))
# A NAT64 gateway reaches the IPv4 address in the last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class ForbiddenAddress(OSError):
    """The endpoint resolved to an address webhooks may not reach."""


def is_forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 addresses that stand for an IPv4 one are judged by it: ::ffff:a.b.c.d on a dual-stack
        # socket, a NAT64 gateway's 64:ff9b::a.b.c.d, and, as well as by themselves, 6to4's.
        if ip.ipv4_mapped is not None:
            return is_forbidden(str(ip.ipv4_mapped))
        if ip in _NAT64:
            return is_forbidden(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.sixtofour is not None and is_forbidden(str(ip.sixtofour)):
            return True
    return (
        not ip.is_global  # private, loopback, shared (100.64.0.0/10), documentation, benchmarking …
        or ip.is_link_local  # includes 169.254.169.254, the cloud metadata service
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or any(ip in network for network in _ALSO_FORBIDDEN)
    )


def _refuse(address: str) -> ForbiddenAddress:
    return ForbiddenAddress(f"refused to deliver to the private address {address}")


def _checked(sock: socket.socket) -> socket.socket:
    peer = sock.getpeername()[0]
    if is_forbidden(peer):
        sock.close()
        raise _refuse(peer)
    return sock


class RefusesPrivateAddresses:
    """A urllib3 connection that resolves, refuses before connecting if any address is forbidden, then
    connects to the vetted ones."""

    host: str
    port: int
    _dns_host: str

    def _new_conn(self) -> socket.socket:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:  # UnicodeError: a label empty or too long
            raise NameResolutionError(self.host, self, exc) from exc  # type: ignore[arg-type]
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        forbidden = [address for address in addresses if is_forbidden(address)]
        if forbidden:  # a name that mixes public and inner addresses is refused whole
            raise _refuse(forbidden[0])
        name = self._dns_host
        failed: Exception | None = None
        for address in addresses:  # urllib3 connects to the address given, keeping the name for TLS
            self._dns_host = address
            try:
                return _checked(super()._new_conn())  # type: ignore[misc]
            except ForbiddenAddress:
                raise
            except Exception as exc:  # this address failed; try the next, as urllib3 would
                failed = exc
            finally:
                self._dns_host = name
        raise failed or NameResolutionError(self.host, self, socket.gaierror("no address"))  # type: ignore[arg-type]
