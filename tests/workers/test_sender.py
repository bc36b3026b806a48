"""One attempt's time limit bounds the whole attempt: under the worker dyno's gevent, and in the threads of
``make run`` and the tests."""

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from tests.conftest import PROJECT_ROOT
from workers import sender

# A partner that answers a byte every 0.2 s: each wait for the network is short, the answer is not.
TRICKLE_UNDER_GEVENT = """
from gevent import monkey

monkey.patch_all()

import json, socket, threading, time
from workers import sender

server = socket.create_server(("127.0.0.1", 0))

def trickle():
    conn, _ = server.accept()
    conn.recv(65536)
    for byte in b"HTTP/1.1 200 OK\\r\\nX-Slow: " + b"a" * 30:
        conn.sendall(bytes([byte]))
        time.sleep(0.2)
    conn.close()

threading.Thread(target=trickle, daemon=True).start()
started = time.monotonic()
result = sender.post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, 1.0, allow_private=True)
outcome = {"seconds": time.monotonic() - started, "error": result.error, "status": result.status_code}
print(json.dumps(outcome))
"""


def test_a_partner_trickling_its_answer_is_cut_off_at_the_attempts_timeout():
    finished = subprocess.run(
        [sys.executable, "-c", TRICKLE_UNDER_GEVENT],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(finished.stdout.splitlines()[-1])

    assert result["status"] is None and result["error"] == "timed out after 1s"
    assert result["seconds"] < 3  # the trickle alone lasts 9 s


@contextmanager
def partner_answering(answer: bytes, pause_after: int) -> Iterator[str]:
    """A partner that sends the first ``pause_after`` bytes of its answer at once and the rest a byte
    every 0.2 s (9 s or more in all): each wait for the network is short, the answer is not."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer_slowly() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(answer[:pause_after])
            for byte in answer[pause_after:]:
                time.sleep(0.2)
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the sender gave up and closed the connection
                    return

    threading.Thread(target=answer_slowly, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    finally:
        server.close()


SLOW_BODY = b"a" * 45


def test_in_threads_a_partner_trickling_its_headers_is_cut_off_at_the_attempts_timeout() -> None:
    with partner_answering(b"HTTP/1.1 200 OK\r\nX-Slow: " + SLOW_BODY, 20) as url:
        started = time.monotonic()
        result = sender.post(url, b"{}", {}, 1.0, allow_private=True)
        seconds = time.monotonic() - started

    assert (result.status_code, result.error) == (None, "timed out after 1s")
    assert seconds < 3


SLOW_BODIES = {
    "a stated length": (b"HTTP/1.1 200 OK\r\nContent-Length: 45\r\n\r\n" + SLOW_BODY, 39),
    "an end with the connection": (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + SLOW_BODY, 38),
}


@pytest.mark.parametrize("body_with", SLOW_BODIES)
def test_in_threads_a_2xx_whose_body_trickles_is_cut_off_at_the_timeout_and_still_a_2xx(
    body_with: str,
) -> None:
    answer, pause_after = SLOW_BODIES[body_with]
    with partner_answering(answer, pause_after) as url:
        started = time.monotonic()
        result = sender.post(url, b"{}", {}, 1.0, allow_private=True)
        seconds = time.monotonic() - started

    assert (result.status_code, result.error) == (200, None)
    assert result.succeeded and result.response_excerpt == sender.BODY_CUT_OFF
    assert seconds < 3


class _AnswersAfterItsPath(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection alive between requests
    client_ports: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.client_ports.append(self.client_address[1])
        time.sleep(float(self.path.strip("/")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_in_threads_an_attempt_that_ended_leaves_the_kept_alive_connection_to_the_next() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AnswersAfterItsPath)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        quick = sender.post(f"{base}/0", b"{}", {}, 0.3, allow_private=True)
        # The first attempt's deadline passes while the second waits on the same connection.
        patient = sender.post(f"{base}/0.6", b"{}", {}, 5.0, allow_private=True)
    finally:
        server.shutdown()
        server.server_close()

    assert (quick.status_code, patient.status_code, patient.error) == (200, 200, None)
    assert len(set(_AnswersAfterItsPath.client_ports)) == 1  # the connection was kept and used again
