"""Benchmark 3: orders accepted per second by the API, against the framework's limit.

    python -m scripts.bench.api [--seconds 15] [--connections 16]

Both run under gunicorn with the Procfile's configuration (``gunicorn.conf.py``: WEB_CONCURRENCY
workers x WEB_THREADS threads): Courier's ``POST /orders`` (authentication, validation, the order,
its payment transaction and its delivery written in one transaction, two messages sent after the
commit), and a trivial Flask endpoint that reads the same JSON body. The load comes from ``wrk``
(Debian's package) on the same machine, with the same connections and duration for both.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.bench import harness

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
"""


def run_wrk(
    url: str, body: dict, key: str, seconds: int, connections: int
) -> tuple[float, float, float, dict[str, float]]:
    """Requests per second, p50 and p99 in ms as wrk measured them, and CPU ms per request by role."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(body=json.dumps(json.dumps(body)), key=key))
    before = harness.cpu_by_role()
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    after = harness.cpu_by_role()
    Path(script.name).unlink()
    rate = float(_search(r"Requests/sec:\s+([\d.]+)", output)[0])
    if re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        raise RuntimeError("some requests failed:\n" + output)
    requests = rate * seconds
    cpu = {role: (after[role] - before.get(role, 0.0)) * 1000 / requests for role in after}
    cpu = {role: ms for role, ms in cpu.items() if role in ("api", "postgresql", "redis")}
    return rate, _percentile(output, "50%"), _percentile(output, "99%"), cpu


def _search(pattern: str, output: str) -> tuple[str, ...]:
    found = re.search(pattern, output)
    if found is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return found.groups()


def _percentile(output: str, label: str) -> float:
    value, unit = _search(rf"{label}\s+([\d.]+)(us|ms|s)", output)
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def start_trivial(env: harness.Scratch) -> str:
    port = harness.free_port()
    env.start(
        str(Path(sys.executable).parent / "gunicorn"),
        "scripts.bench.trivial_app:create_app()",
        "--config",
        "gunicorn.conf.py",
        env={"PORT": str(port), "BIND_HOST": "127.0.0.1"},
    )
    url = f"http://127.0.0.1:{port}"
    harness.wait_until(lambda: harness._answers_post(url), 30, what="the trivial app")
    return url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("benchmark 3 needs wrk: apt-get install wrk")
    with harness.scratch("api") as env:
        shop = harness.make_shop(env.start_receiver())
        body = shop.order()
        load = (args.seconds, args.connections)
        courier = run_wrk(harness.start_api(env) + "/orders", body, shop.marketplace_key, *load)
        limit = run_wrk(start_trivial(env) + "/orders", body, "x", *load)
    print(f"API: POST /orders under gunicorn.conf.py; wrk, {args.connections} connections, {args.seconds} s")
    for name, (rate, p50, p99, cpu) in (("trivial Flask endpoint", limit), ("courier POST /orders", courier)):
        print(f"  {name:24} {rate:7.0f} req/s   p50 {p50:.1f} ms   p99 {p99:.1f} ms   ", end="")
        print(harness.describe_cpu(cpu).replace("per delivery", "per request"))
    print(f"  {'ratio':24} {courier[0] / limit[0]:7.2f}   (target >= 0.50)")


if __name__ == "__main__":
    main()
