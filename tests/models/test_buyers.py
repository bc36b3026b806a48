import hashlib
import threading

import pytest
from werkzeug.security import check_password_hash

from models import buyers
from models.db import close_connection
from tests import factories

LOCKOUT = 300


def at_once(count: int, action):
    """Run ``action`` in ``count`` threads released together; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action()
        finally:
            close_connection()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_pin_is_stored_only_as_a_slow_password_hash():
    buyer = factories.buyer(pin="8472")

    stored = buyers.get_buyer(buyer.id).pin_hash

    assert "8472" not in stored
    digests = {hashlib.new(name, b"8472").hexdigest() for name in ("md5", "sha1", "sha256", "sha512")}
    assert stored not in digests
    assert stored.startswith("scrypt:")
    assert check_password_hash(stored, "8472") and not check_password_hash(stored, "8473")


def test_two_buyers_with_the_same_pin_store_different_hashes():
    assert factories.buyer(pin="1234").pin_hash != factories.buyer(pin="1234").pin_hash


@pytest.mark.parametrize(
    "pin, message",
    [
        ("123", "PIN must be exactly 4 numbers long"),
        ("12345", "PIN must be exactly 4 numbers long"),
        ("", "PIN must be exactly 4 numbers long"),
        ("12a4", "PIN may only consist of numbers"),
        ("١٢٣٤", "PIN may only consist of numbers"),  # Arabic-Indic digits pass str.isdigit()
        ("²²²²", "PIN may only consist of numbers"),
    ],
)
def test_a_pin_is_exactly_four_ascii_digits(pin, message):
    with pytest.raises(ValueError, match=message):
        buyers.check_pin_format(pin)


def test_concurrent_wrong_pins_all_count():
    buyer = factories.buyer(pin="1234", confirmed=True)

    checks = at_once(3, lambda: buyers.verify_pin(buyer.uuid, "0000", LOCKOUT))

    assert [check.valid for check in checks] == [False] * 3
    assert buyers.get_buyer(buyer.id).pin_failures == 3


def test_concurrent_wrong_pins_past_the_limit_lock_once_and_count_no_further():
    buyer = factories.buyer(pin="1234", confirmed=True)
    buyers.Buyer.update(pin_failures=3).where(buyers.Buyer.id == buyer.id).execute()

    checks = at_once(4, lambda: buyers.verify_pin(buyer.uuid, "0000", LOCKOUT))

    after = buyers.get_buyer(buyer.id)
    assert after.pin_failures == 5
    assert after.is_locked(LOCKOUT)
    # The one that made the fifth failure already says locked, as do those refused by the lock.
    assert sum(check.locked for check in checks) >= 3
    assert not any(check.valid for check in checks)
