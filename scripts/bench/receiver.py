"""A partner endpoint for benchmarks and drills: fast, scriptable, and keeping its own record.

An asyncio HTTP/1.1 server with keep-alive, so that the receiver is never what limits a benchmark:
it answers from memory, and a delay (``--delay 0.3``) is a sleep on the event loop, which costs no
CPU however many requests wait. It records every webhook it gets; ``GET /stats`` returns the record
(how many, how many distinct ``webhook-id``, the duplicates, and when each id first arrived).

    python -m scripts.bench.receiver --port 9100 [--delay 0.3] [--hang] [--fail-first 200]

``--hang`` holds every request open and never answers (an endpoint that times out); ``--fail-first N``
answers the first N requests with a rotation of 500s, dropped connections and hangs, then recovers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
SERVER_ERROR = b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail"


@dataclass
class Record:
    received: int = 0
    first_seen: dict[str, float] = field(default_factory=dict)
    seen: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0

    def add(self, webhook_id: str) -> None:
        self.received += 1
        self.seen[webhook_id] += 1
        self.first_seen.setdefault(webhook_id, time.time())

    def stats(self) -> dict:
        return {
            "received": self.received,
            "unique": len(self.seen),
            "duplicates": sum(count - 1 for count in self.seen.values()),
            "max_in_flight": self.max_in_flight,
            "first_seen": self.first_seen,
        }


class Receiver:
    def __init__(self, delay: float = 0.0, hang: bool = False, fail_first: int = 0) -> None:
        self.delay = delay
        self.hang = hang
        self.fail_first = fail_first
        self.record = Record()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in header_lines:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length:
                    await reader.readexactly(length)
                if request_line.startswith("GET /stats"):
                    body = json.dumps(self.record.stats()).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                self.record.in_flight += 1
                self.record.max_in_flight = max(self.record.max_in_flight, self.record.in_flight)
                try:
                    if not await self.answer(headers, writer):
                        return
                finally:
                    self.record.in_flight -= 1
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def answer(self, headers: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        """Answer one webhook; False when the connection is to be dropped."""
        number = self.record.received
        if self.hang:
            await asyncio.sleep(3600)
            return False
        if number < self.fail_first:
            self.record.received += 1  # counted as received, not as delivered
            outcome = number % 3
            if outcome == 0:
                writer.write(SERVER_ERROR)
                await writer.drain()
                return True
            if outcome == 1:
                return False  # drop the connection without an answer
            await asyncio.sleep(3600)  # hang until the sender's timeout
            return False
        if self.delay:
            await asyncio.sleep(self.delay)
        self.record.add(headers.get("webhook-id", ""))
        writer.write(OK)
        await writer.drain()
        return True


async def serve(host: str, port: int, receiver: Receiver) -> None:
    server = await asyncio.start_server(receiver.handle, host, port, backlog=4096, limit=1 << 20)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--hang", action="store_true", help="never answer")
    parser.add_argument("--fail-first", type=int, default=0, help="fail the first N requests")
    args = parser.parse_args()
    receiver = Receiver(delay=args.delay, hang=args.hang, fail_first=args.fail_first)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port, receiver))


if __name__ == "__main__":
    main()
