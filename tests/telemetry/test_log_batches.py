"""A worker's log lines travel in batches, in order, and none is left behind."""

import logging
import threading

import pytest

from telemetry.log_batches import BatchedStreamHandler
from tests.helpers import wait_until


class Writes:
    """A stream that records each write: a batch is one write."""

    def __init__(self):
        self.writes: list[str] = []
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            self.writes.append(text)

    def flush(self) -> None:
        pass

    def lines(self) -> list[str]:
        return "".join(self.writes).splitlines()


@pytest.fixture
def logged():
    stream = Writes()
    handler = BatchedStreamHandler(stream, interval=0.2)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"courier.test.batches.{id(stream)}")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    yield logger, stream, handler
    logger.removeHandler(handler)
    handler.close()


def test_lines_of_the_same_moment_are_written_together_after_a_short_wait(logged):
    logger, stream, _ = logged
    for n in range(5):
        logger.info("attempt %s", n)

    assert stream.writes == []  # held for the batch
    wait_until(lambda: stream.writes, timeout=5)
    assert len(stream.writes) == 1
    assert stream.lines() == [f"INFO attempt {n}" for n in range(5)]


def test_a_warning_goes_at_once_with_every_line_before_it_in_order(logged):
    logger, stream, _ = logged
    logger.info("attempt 1")
    logger.warning("attempt 2 failed")

    assert stream.writes == ["INFO attempt 1\nWARNING attempt 2 failed\n"]


def test_a_full_batch_is_written_without_waiting(logged):
    logger, stream, handler = logged
    handler.max_lines = 3
    for n in range(3):
        logger.info("attempt %s", n)

    assert len(stream.writes) == 1 and len(stream.lines()) == 3


def test_flushing_writes_what_is_held_so_a_stopping_worker_loses_nothing(logged):
    logger, stream, handler = logged
    logger.info("last words")

    handler.flush()

    assert stream.lines() == ["INFO last words"]


def test_lines_keep_coming_out_after_an_idle_spell(logged):
    logger, stream, _ = logged
    logger.info("first")
    wait_until(lambda: stream.writes, timeout=5)
    logger.info("second")

    wait_until(lambda: len(stream.writes) == 2, timeout=5)
    assert stream.lines() == ["INFO first", "INFO second"]


def test_once_batching_stops_what_was_held_and_every_later_line_are_written_at_once(logged):
    logger, stream, handler = logged
    logger.info("held")

    handler.stop_batching()
    assert stream.lines() == ["INFO held"]
    logger.info("last words")

    assert stream.lines() == ["INFO held", "INFO last words"]
