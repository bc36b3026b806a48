"""One attempt's time limit bounds the whole attempt, on the worker dyno's gevent."""

import json
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

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
