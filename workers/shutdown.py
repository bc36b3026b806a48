"""Stopping a worker dyno without abandoning the deliveries in flight.

A dyno being stopped gets SIGTERM in every one of its processes, and then, 30 seconds later, SIGKILL.
Dramatiq's main process passes the SIGTERM on to its worker processes, so each worker process receives
two at once, and Dramatiq takes the second as "stop now, whatever is running": the deliveries in
flight would be cut off mid-request and left claimed until their leases lapse.

Here a SIGTERM that arrives within a few seconds of the first is taken for that echo and ignored. The
worker then stops as Dramatiq means it to: it takes no new message, hands back the ones it fetched but
had not started, and lets those in flight finish, within ``--worker-shutdown-timeout`` (the Procfile
gives 25 s, under the dyno's 30). A later SIGTERM still means "now".
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from dramatiq.middleware import Middleware

logger = logging.getLogger(__name__)

ECHO_SECONDS = 5.0


class DynoShutdown(Middleware):
    # Before the boot, not after it: the worker's threads take messages as soon as they start, before
    # Dramatiq reports the worker booted. Installed after the boot, an echo arriving in that window
    # (the main thread slow to get there on a busy machine) was taken as "stop now": a CI run was left
    # with deliveries claimed, reproduced by delaying the after-boot hook and sending the echo 0.3 s late.
    def before_worker_boot(self, broker, worker):
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers belong to the main thread
        dramatiqs = signal.getsignal(signal.SIGTERM)
        if not callable(dramatiqs):
            return  # not under the dramatiq command (embedded, or tests): nothing to correct
        first: float | None = None

        def on_sigterm(signum, frame):
            nonlocal first
            now = time.monotonic()
            if first is not None and now - first < ECHO_SECONDS:
                logger.info("ignoring a repeated SIGTERM: the dyno's, passed on by the main process")
                return
            if first is None:
                first = now
            dramatiqs(signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
