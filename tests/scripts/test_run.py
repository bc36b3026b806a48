"""What a new user sees: ``make run`` starts everything and an order settles within a second."""

import os
import re
import socket
import subprocess
import sys
import time

from tests.conftest import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_embedded_system_settles_the_demo_order_within_a_second(tmp_path):
    # A new user's shell: none of the test run's settings (the demo must allow loopback webhooks itself).
    ignored = ("DATABASE_URL", "REDIS_URL", "WEBHOOK_ALLOW_PRIVATE_NETWORKS")
    environment = {k: v for k, v in os.environ.items() if k not in ignored}
    environment["DATABASE_URL"] = f"sqlite:///{tmp_path}/courier.db"
    command = [
        sys.executable, "-m", "scripts.run",
        "--port", str(free_port()), "--partner-port", str(free_port()),
        "--credentials", str(tmp_path / "demo.json"),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "after" in line and line.startswith("Demo order"):
                break
    finally:
        process.terminate()
        process.wait(20)
    output = "".join(lines)
    assert "marketplace key  ck_" in output and "webhook secret   whsec_" in output
    settled = re.search(r"Demo order (po_\w+): (\w+) after ([\d.]+)s", output)
    assert settled, output
    assert settled.group(2) == "Succesful"
    assert float(settled.group(3)) < 1.0
