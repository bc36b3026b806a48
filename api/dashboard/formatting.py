"""How values read on a page: money with its currency, UTC times, durations, transaction statuses.
Registered as Jinja filters."""

from __future__ import annotations

from datetime import datetime

from models.currencies import to_decimal
from models.transactions import STATUSES


def money(amount: int, currency: str) -> str:
    """``(3999, "GBP")`` -> ``"39.99 GBP"``: the amount in major units with its ISO code."""
    return f"{to_decimal(amount, currency):,} {currency}"


def when(moment: datetime | None) -> str:
    """A stored (naive UTC) timestamp as people read it, to the second."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def milliseconds(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value:,} ms" if value < 10_000 else f"{value / 1000:.1f} s"


def transaction_status(status: int | None) -> str:
    """A transaction's status as its word: ``4`` -> ``"Failed"``."""
    return "—" if status is None else STATUSES[status]


def link_args(args: dict[str, str]) -> dict[str, str]:
    """A page's query string, fit to pass to ``url_for``: without the names it reserves for itself
    (``_method``, ``_external``, ``_anchor``, ``_scheme``), which a visitor could otherwise set."""
    return {name: value for name, value in args.items() if not name.startswith("_")}


FILTERS = {
    "link_args": link_args,
    "money": money,
    "when": when,
    "milliseconds": milliseconds,
    "transaction_status": transaction_status,
}
