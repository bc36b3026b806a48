"""Several of Dramatiq's Redis operations in one round trip.

Dramatiq's Redis broker makes each operation (an enqueue, an acknowledgement) one call of its Lua
script, ``dispatch``, and each call a round trip. Where several happen at the same moment (the acks a
worker's greenlets make together, the messages an order sends) a ``Pipeline`` gathers the calls, and
plain commands beside them (wake-up tokens), and sends them all at once.
"""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from redis.exceptions import NoScriptError


class Pipeline:
    def __init__(self, broker: RedisBroker):
        self.broker = broker
        self._calls: list[tuple[bool, tuple]] = []  # (a call of the script?, its arguments)

    def __len__(self) -> int:
        return len(self._calls)

    def script(self, command: str, queue_name: str, *args: object) -> None:
        """A call of Dramatiq's script, as ``RedisBroker.do_<command>(queue_name, *args)`` makes it."""
        self._calls.append((True, (command, queue_name, *args)))

    def command(self, *args: object) -> None:
        """A plain Redis command: ``command("LPUSH", key, 1)``."""
        self._calls.append((False, args))

    def send(self, raise_on_error: bool = True) -> list[object]:
        """Every call's reply, in order. Raises the first error among them, or (``raise_on_error``
        False) returns each error in its call's place; a connection that fails always raises."""
        script = self.broker.scripts["dispatch"]
        replies = self._execute(script.sha, self._calls)
        missing = [n for n, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            # Redis restarted (or was flushed) since the script was loaded: load it, and send again
            # from the first call that failed for want of it, so that a wake-up token still follows
            # its message (a token sent twice costs a consumer one empty fetch).
            script.sha = self.broker.client.script_load(script.script)
            again = [
                n
                for n in range(missing[0], len(self._calls))
                if not self._calls[n][0] or isinstance(replies[n], NoScriptError)
            ]
            for n, reply in zip(
                again, self._execute(script.sha, [self._calls[n] for n in again]), strict=True
            ):
                replies[n] = reply
        if raise_on_error:
            for reply in replies:
                if isinstance(reply, Exception):
                    raise reply
        return replies

    def _execute(self, sha: str, calls: list[tuple[bool, tuple]]) -> list[object]:
        broker, now = self.broker, current_millis()
        with broker.client.pipeline(transaction=False) as pipeline:
            for is_script, args in calls:
                if not is_script:
                    pipeline.execute_command(*args)
                    continue
                command, queue_name, *rest = args
                # EVALSHA itself: a script registered with a redis-py pipeline costs a SCRIPT EXISTS
                # round trip on every execute. The arguments are those RedisBroker._dispatch passes
                # (Dramatiq 2.2, pinned); the script also beats this broker's heartbeat.
                pipeline.evalsha(
                    sha,
                    1,
                    broker.namespace,
                    command,
                    now,
                    queue_name,
                    broker.broker_id,
                    broker.heartbeat_timeout,
                    broker.dead_message_ttl,
                    broker._should_do_maintenance(command),
                    broker._max_unpack_size(),
                    *rest,
                )
            return pipeline.execute(raise_on_error=False)
