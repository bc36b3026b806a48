"""Buyers of the generic payments API and their PINs.

A PIN is four digits. It is kept only as a slow password hash (Werkzeug's scrypt): a fast digest of
four digits is reversed by trying all 10,000. A buyer confirms a new PIN once, and from then on each
purchase verifies it. Five wrong PINs in a row lock the buyer out for a while (``PIN_LOCKOUT_SECONDS``);
while locked, no PIN is checked and nothing is counted, and when the lock lapses the count starts
again. Every change to the count is one conditional UPDATE, so concurrent wrong PINs all count and none
slips past the lock.

Hashing takes a tenth of a second, so it happens before any write: no transaction, and on SQLite no
write lock, is held while it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from peewee import AutoField, BooleanField, Case, CharField, DateTimeField, IntegerField
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import BaseModel, locked, unique, utcnow
from models.errors import Conflict, NotFound

MAX_PIN_FAILURES = 5
_PIN = re.compile(r"[0-9]{4}")  # ASCII digits only: str.isdigit() also accepts "²" and "٣"


class Buyer(BaseModel):
    id = AutoField()  # the resource_pk: integer ids, as Solitude had
    uuid = CharField(max_length=255, unique=True)
    pin_hash = CharField(max_length=255, null=True)
    pin_confirmed = BooleanField(default=False)
    new_pin_hash = CharField(max_length=255, null=True)
    needs_pin_reset = BooleanField(default=False)
    active = BooleanField(default=True)
    pin_failures = IntegerField(default=0)
    pin_locked_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("active", "id"), False),)

    def is_locked(self, lockout_seconds: float, now: datetime | None = None) -> bool:
        if self.pin_locked_at is None:
            return False
        return (now or utcnow()) < self.pin_locked_at + timedelta(seconds=lockout_seconds)

    def failures(self, lockout_seconds: float, now: datetime | None = None) -> int:
        """Consecutive wrong PINs; a lapsed lock leaves the buyer with a clean slate."""
        if self.pin_locked_at is not None and not self.is_locked(lockout_seconds, now):
            return 0
        return self.pin_failures


@dataclass(frozen=True)
class PinCheck:
    valid: bool
    locked: bool


def check_pin_format(pin: str) -> str:
    """The PIN, if it is four digits; the messages are Solitude's."""
    if len(pin) != 4:
        raise ValueError("PIN must be exactly 4 numbers long")
    if not _PIN.fullmatch(pin):
        raise ValueError("PIN may only consist of numbers")
    return pin


def hash_pin(pin: str) -> str:
    return generate_password_hash(check_pin_format(pin))


def _matches(pin_hash: str | None, pin: str) -> bool:
    return pin_hash is not None and check_password_hash(pin_hash, pin)


def create_buyer(uuid: str, pin: str | None = None) -> Buyer:
    pin_hash = hash_pin(pin) if pin is not None else None
    with unique("uuid", f"A buyer with uuid {uuid!r} already exists."):
        return Buyer.create(uuid=uuid, pin_hash=pin_hash)


def buyer_for(uuid: str) -> Buyer:
    """The buyer with ``uuid``, made (without a PIN) if there is none yet. Looked up first: a returning
    customer's buyer exists."""
    existing = Buyer.get_or_none(Buyer.uuid == uuid)
    if existing is not None:
        return existing
    Buyer.insert(uuid=uuid, created_at=utcnow()).on_conflict_ignore().execute()
    return Buyer.get(Buyer.uuid == uuid)


def get_buyer(buyer_id: int, *, field: str | None = None, lock: bool = False) -> Buyer:
    """The buyer; ``field`` names the request field that referred to it, if any. With ``lock``, its
    row is held until the transaction ends."""
    query = Buyer.select().where(Buyer.id == buyer_id)
    buyer = (locked(query) if lock else query).first()
    if buyer is None:
        raise NotFound(f"No buyer {buyer_id}.", fields={field: "does not exist"} if field else None)
    return buyer


def buyer_with_uuid(uuid: str) -> Buyer:
    buyer = Buyer.get_or_none(Buyer.uuid == uuid)
    if buyer is None:
        raise NotFound(f"No buyer with uuid {uuid!r}.", fields={"uuid": "Uuid does not exist."})
    return buyer


def update_buyer(buyer: Buyer, changes: dict[str, Any]) -> None:
    """Apply a PATCH: ``active``, a first ``pin``, and the reset flow's ``needs_pin_reset`` and ``new_pin``.

    A PIN already set is changed only through the reset flow, which a locked-out buyer cannot finish:
    overwriting it directly would step around the lockout.
    """
    updates: dict[Any, Any] = {}
    guard = Buyer.id == buyer.id
    if "active" in changes:
        updates[Buyer.active] = changes["active"]
    if "pin" in changes:
        if buyer.pin_hash is not None:
            raise Conflict(
                "The buyer already has a PIN: change it with the reset flow "
                "(needs_pin_reset, then new_pin, then reset_confirm_pin).",
                fields={"pin": "is already set"},
                code="pin_already_set",
            )
        updates.update({Buyer.pin_hash: hash_pin(changes["pin"]), Buyer.pin_confirmed: False})
        guard &= Buyer.pin_hash.is_null()
    resetting = changes.get("needs_pin_reset", buyer.needs_pin_reset)
    if "needs_pin_reset" in changes:
        updates[Buyer.needs_pin_reset] = resetting
        if not resetting:  # the reset is called off: a new PIN waiting to be confirmed goes with it
            updates[Buyer.new_pin_hash] = None
    if "new_pin" in changes:
        if not resetting:
            raise Conflict(
                "Start the reset flow first: set needs_pin_reset to true, then send new_pin.",
                fields={"new_pin": "needs needs_pin_reset to be true"},
                code="no_pin_reset",
            )
        updates[Buyer.new_pin_hash] = hash_pin(changes["new_pin"])
        if "needs_pin_reset" not in changes:
            guard &= Buyer.needs_pin_reset == True  # noqa: E712  (SQL, not Python)
    if updates and not Buyer.update(updates).where(guard).execute():
        # The buyer changed between the read and the write: judge the request against what it is now.
        update_buyer(get_buyer(buyer.id), changes)


def confirm_pin(uuid: str, pin: str) -> bool:
    """Confirm a PIN just chosen. A confirmed PIN is checked with ``verify_pin``, which counts failures."""
    buyer = buyer_with_uuid(uuid)
    if buyer.pin_hash is None:
        raise Conflict("The buyer has no PIN to confirm.", fields={"pin": "The buyer has no PIN."})
    if buyer.pin_confirmed:
        # Answering here would let anyone test PINs without the lockout that verify_pin applies.
        raise Conflict(
            "The PIN is already confirmed; check it with verify_pin.",
            fields={"pin": "The PIN is already confirmed."},
        )
    if not _matches(buyer.pin_hash, pin):
        return False
    # Conditional on the hash read: a PIN replaced meanwhile is not confirmed by the old one.
    return bool(
        Buyer.update(pin_confirmed=True)
        .where((Buyer.id == buyer.id) & (Buyer.pin_hash == buyer.pin_hash))
        .execute()
    )


def _not_locked(lockout_seconds: float, now: datetime):
    return Buyer.pin_locked_at.is_null() | (Buyer.pin_locked_at <= now - timedelta(seconds=lockout_seconds))


def verify_pin(uuid: str, pin: str, lockout_seconds: float, now: datetime | None = None) -> PinCheck:
    """Check a purchase's PIN, counting the failures and locking the buyer out at the fifth in a row."""
    now = now or utcnow()
    buyer = buyer_with_uuid(uuid)
    locked = buyer.is_locked(lockout_seconds, now)
    if not buyer.pin_confirmed or locked:
        return PinCheck(valid=False, locked=locked)
    if _matches(buyer.pin_hash, pin):
        cleared = (
            Buyer.update(pin_failures=0, pin_locked_at=None)
            .where((Buyer.id == buyer.id) & _not_locked(lockout_seconds, now))
            .execute()
        )
        return PinCheck(valid=bool(cleared), locked=not cleared)  # no row: locked out meanwhile
    # A lock still on the row here has lapsed, so this failure is the first of a new count.
    failures = Case(None, [(Buyer.pin_locked_at.is_null(), Buyer.pin_failures + 1)], 1)
    counted = (
        Buyer.update(
            pin_failures=failures,
            pin_locked_at=Case(None, [(failures >= MAX_PIN_FAILURES, now)], None),
        )
        .where((Buyer.id == buyer.id) & _not_locked(lockout_seconds, now))
        .execute()
    )
    if not counted:  # another wrong PIN locked the buyer out first
        return PinCheck(valid=False, locked=True)
    return PinCheck(valid=False, locked=get_buyer(buyer.id).is_locked(lockout_seconds, now))


def reset_confirm_pin(uuid: str, pin: str, lockout_seconds: float, now: datetime | None = None) -> bool:
    """Confirm the new PIN of the reset flow: it becomes the buyer's PIN. A wrong one changes nothing."""
    now = now or utcnow()
    buyer = buyer_with_uuid(uuid)
    if buyer.is_locked(lockout_seconds, now):
        raise Conflict(
            "The buyer is locked out after too many wrong PINs; try again later.",
            fields={"pin": "The buyer is locked out."},
            code="locked_out",
        )
    if not buyer.needs_pin_reset or buyer.new_pin_hash is None:
        raise Conflict(
            "No PIN reset is in progress: set needs_pin_reset, then new_pin.",
            fields={"new_pin": "No new PIN has been set."},
            code="no_pin_reset",
        )
    if not _matches(buyer.new_pin_hash, pin):
        return False
    return bool(
        Buyer.update(
            pin_hash=Buyer.new_pin_hash,
            new_pin_hash=None,
            needs_pin_reset=False,
            pin_confirmed=True,
            pin_failures=0,
            pin_locked_at=None,
        )
        .where(
            (Buyer.id == buyer.id)
            & (Buyer.new_pin_hash == buyer.new_pin_hash)
            & _not_locked(lockout_seconds, now)
        )
        .execute()
    )
