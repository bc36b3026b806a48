"""The worker's side of the logs: JSON lines, and the request id carried from the API into actors.

A message enqueued while a request id is bound (during an API request, or inside an actor that was
itself started by one) carries that id in its options; the worker binds it again around the message,
so the actor's log lines, the webhook attempt's line and any message the actor sends in turn (a
retry) share the id of the call that started the story.
"""

from __future__ import annotations

from contextvars import Token

from dramatiq.middleware import Middleware

from telemetry import logs

OPTION = "request_id"


class RequestIdPropagation(Middleware):
    def __init__(self) -> None:
        self._tokens: dict[str, Token] = {}

    def before_enqueue(self, broker, message, delay):
        current = logs.request_id.get()
        if current and OPTION not in message.options:
            message.options[OPTION] = current

    def before_process_message(self, broker, message):
        self._tokens[message.message_id] = logs.request_id.set(message.options.get(OPTION))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        token = self._tokens.pop(message.message_id, None)
        if token is not None:
            logs.request_id.reset(token)

    after_skip_message = after_process_message


class JsonLogs(Middleware):
    """Inside ``dramatiq workers``, whose processes pipe their log lines to the parent: JSON lines, in
    batches, at ``level`` (LOG_LEVEL), every one of them out before the process closes its pipe."""

    def __init__(self, level: str = "INFO") -> None:
        self.level = level

    def after_process_boot(self, broker):
        logs.use_json_lines_in_batches(self.level)

    def after_worker_shutdown(self, broker, worker):
        # Dramatiq logs a last line or two, then closes the pipe and ends the process without the
        # interpreter's exit hooks: nothing may wait in a batch from here on.
        logs.stop_batching()
