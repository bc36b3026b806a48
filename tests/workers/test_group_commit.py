import threading

import pytest

from tests.helpers import wait_until
from workers.group_commit import GroupCommit


class Recorder:
    """A write that records each batch, and can be held in the middle of one."""

    def __init__(self, fail_on: str | None = None):
        self.batches: list[list[str]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.fail_on = fail_on

    def __call__(self, items):
        self.batches.append(list(items))
        self.entered.set()
        self.release.wait(5)
        if self.fail_on in items:
            raise RuntimeError("the database said no")
        return [item.upper() for item in items]


def submit_in_threads(group, items):
    results, errors = {}, {}

    def run(item):
        try:
            results[item] = group.submit(item)
        except Exception as exc:
            errors[item] = exc

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    return threads, results, errors


def queued_behind_a_write(group, write, items):
    """``items`` submitted, each from a thread, while a first write is held; then the write released.
    Returns the first writer's results, then the others' results and errors, once every thread ended."""
    write.release.clear()
    first, first_results, _ = submit_in_threads(group, ["first"])
    write.entered.wait(5)
    others, results, errors = submit_in_threads(group, items)
    wait_until(lambda: len(group._queued) == len(items))
    write.release.set()
    for thread in first + others:
        thread.join(5)
    return first_results, results, errors


def test_a_writer_alone_writes_at_once():
    write = Recorder()

    assert GroupCommit(write).submit("a") == "A"
    assert write.batches == [["a"]]


def test_writers_arriving_during_a_write_are_written_together_each_with_its_result():
    write = Recorder()

    first_results, results, errors = queued_behind_a_write(GroupCommit(write), write, ["b", "c", "d"])

    assert len(write.batches) == 2 and write.batches[0] == ["first"]
    assert sorted(write.batches[1]) == ["b", "c", "d"]
    assert first_results == {"first": "FIRST"} and results == {"b": "B", "c": "C", "d": "D"} and not errors


def test_a_failed_batch_is_written_again_one_by_one_so_only_the_bad_item_fails():
    write = Recorder(fail_on="bad")
    group = GroupCommit(write)

    first_results, results, errors = queued_behind_a_write(group, write, ["b", "bad", "c"])

    assert first_results == {"first": "FIRST"} and results == {"b": "B", "c": "C"}
    assert list(errors) == ["bad"] and isinstance(errors["bad"], RuntimeError)
    assert sorted(write.batches[1]) == ["b", "bad", "c"] and sorted(write.batches[2:]) == [
        ["b"],
        ["bad"],
        ["c"],
    ]
    assert group.submit("e") == "E"


def test_where_no_item_can_fail_alone_a_failed_batch_fails_each_writer_without_writing_again():
    write = Recorder(fail_on="bad")
    group = GroupCommit(write, retry_items_alone=False)

    first_results, results, errors = queued_behind_a_write(group, write, ["b", "bad", "c"])

    assert first_results == {"first": "FIRST"} and not results
    assert sorted(errors) == ["b", "bad", "c"] and len({id(error) for error in errors.values()}) == 1
    assert len(write.batches) == 2
    assert group.submit("e") == "E"


class Stopped(BaseException):
    """What stopping a greenlet raises in it (gevent's GreenletExit, Dramatiq's Shutdown)."""


def test_a_writer_stopped_mid_write_fails_the_others_and_the_queue_goes_on():
    write = Recorder()
    group = GroupCommit(write)
    write.release.clear()
    first, _, _ = submit_in_threads(group, ["first"])
    write.entered.wait(5)
    stopped = {}

    def stopping_writer():
        try:
            group.submit("stopper")
        except Stopped:
            stopped["stopper"] = True

    threading.Thread(target=stopping_writer).start()
    wait_until(lambda: len(group._queued) == 1)
    others, results, errors = submit_in_threads(group, ["b", "c"])
    wait_until(lambda: len(group._queued) == 3)
    real_write = group._write

    def stop_on_the_stoppers_batch(items):
        if "stopper" in items:
            raise Stopped()
        return real_write(items)

    group._write = stop_on_the_stoppers_batch
    write.release.set()
    for thread in first + others:
        thread.join(5)

    assert stopped == {"stopper": True} and not results
    assert {item: type(error).__name__ for item, error in errors.items()} == {
        "b": "WriterStopped",
        "c": "WriterStopped",
    }
    assert group.submit("e") == "E"


def test_a_batch_holds_at_most_max_batch_items():
    write = Recorder()

    _, results, _ = queued_behind_a_write(GroupCommit(write, max_batch=2), write, ["b", "c", "d", "e", "f"])

    assert [len(batch) for batch in write.batches] == [1, 2, 2, 1]
    assert results == {item: item.upper() for item in "bcdef"}


@pytest.mark.parametrize("size", [1, 50])
def test_nothing_is_lost_when_many_write_at_once(size):
    write = Recorder()
    group = GroupCommit(write, max_batch=size)
    items = [f"item-{n}" for n in range(200)]

    threads, results, errors = submit_in_threads(group, items)
    for thread in threads:
        thread.join(10)

    assert results == {item: item.upper() for item in items} and not errors
    assert sorted(item for batch in write.batches for item in batch) == sorted(items)
