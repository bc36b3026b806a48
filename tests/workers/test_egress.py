import socket

import pytest

from workers import sender
from workers.egress import is_forbidden


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fd00:ec2::254",
        "::ffff:127.0.0.1",
        "224.0.0.1",
        "192.0.0.8",  # IETF protocol assignments
        "198.18.0.1",  # benchmarking
        "fec0::1",  # IPv6 site-local, deprecated but routed in places
        "2002:7f00:1::",  # 6to4: a relay takes it to 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64: a gateway takes it to 169.254.169.254
    ],
)
def test_private_loopback_link_local_and_metadata_addresses_are_forbidden(address):
    assert is_forbidden(address)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "8.8.8.8",
        "64:ff9b::808:808",
        "::ffff:8.8.8.8",
    ],
)
def test_public_addresses_are_allowed(address):
    assert not is_forbidden(address)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_webhook_to_a_private_address_is_refused_after_resolution(receiver, host):
    url = receiver.url.replace("127.0.0.1", host)

    result = sender.post(url, b"{}", {}, timeout=1, allow_private=False)

    assert result.status_code is None
    assert "private address" in result.error
    assert receiver.received == []


def test_a_forbidden_address_is_never_connected_to_so_its_ports_stay_unknown():
    listening = socket.create_server(("127.0.0.1", 0))
    listening.settimeout(0.5)
    port = listening.getsockname()[1]
    try:
        open_port = sender.post(f"http://127.0.0.1:{port}/", b"{}", {}, timeout=1)
        closed_port = sender.post("http://127.0.0.1:9/", b"{}", {}, timeout=1)

        with pytest.raises(TimeoutError):
            listening.accept()  # nobody knocked
    finally:
        listening.close()
    assert open_port.error == closed_port.error and "private address 127.0.0.1" in open_port.error


def test_private_addresses_are_reachable_when_allowed(receiver):
    result = sender.post(receiver.url, b"{}", {}, timeout=1, allow_private=True)

    assert result.status_code == 200


def test_a_refused_connection_is_recorded_as_refused_not_as_a_timeout():
    result = sender.post("http://127.0.0.1:9/webhooks", b"{}", {}, timeout=1, allow_private=True)

    assert result.status_code is None
    assert "timed out" not in result.error and "refused" in result.error.lower()


@pytest.mark.parametrize("allow_private", [False, True])
def test_a_host_name_dns_cannot_look_up_is_a_failed_attempt_not_an_error(allow_private):
    # Kept from before such names were refused when given: the delivery must still follow its schedule.
    result = sender.post("https://a..example.com/hook", b"{}", {}, timeout=1, allow_private=allow_private)

    assert result.status_code is None and result.error
