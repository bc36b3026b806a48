"""The raw limit's client: bare ``requests.Session`` loops posting webhook-sized bodies to a receiver.

    python -m scripts.bench.raw_sender URL --count N --concurrency C --payload BYTES [--gevent]

One process; ``--concurrency`` loops in it, as threads, or as greenlets with ``--gevent`` (the way the
worker dyno runs its deliveries), each with a session of its own.
"""

from __future__ import annotations

import sys

if "--gevent" in sys.argv:  # before anything imports the socket module
    from gevent import monkey

    monkey.patch_all()

import argparse
import json
import threading
import time
import uuid

import requests

from scripts.bench.harness import sample_payload


def loop(url: str, count: int, body: bytes) -> None:
    session = requests.Session()
    for _ in range(count):
        headers = {
            "Content-Type": "application/json",
            "webhook-id": "msg_" + uuid.uuid4().hex,
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1," + "x" * 44,
        }
        session.post(url, data=body, headers=headers, timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True, help="requests in all, from this process")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--payload", type=int, default=1024)
    parser.add_argument("--gevent", action="store_true")
    args = parser.parse_args()
    body = json.dumps(sample_payload(args.payload)).encode()
    loops = [
        threading.Thread(target=loop, args=(args.url, args.count // args.concurrency, body))
        for _ in range(args.concurrency)
    ]
    for each in loops:
        each.start()
    for each in loops:
        each.join()


if __name__ == "__main__":
    main()
