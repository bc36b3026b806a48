"""Changing an order's status together with what must change with it, in the caller's transaction.

An order's payment transaction follows the order (models/reconciliation.py), so every change of status
flags it for reconciling in the same database transaction. The API and the dashboard change orders
only through here; after the commit, they send the reconciliation (``workers.reconcile.enqueue``).
"""

from __future__ import annotations

from models import orders, reconciliation


def answer(order: orders.Order, status: str, output: dict[str, str]) -> orders.Order:
    """The partner's answer (see ``orders.answer``); its transaction is flagged to follow."""
    answered = orders.answer(order, status, output)
    reconciliation.request(answered.id)
    return answered


def add_input(order: orders.Order, fields: dict[str, str], window_seconds: float) -> orders.Order:
    """The marketplace adds what the partner asked for (see ``orders.add_input``)."""
    resumed = orders.add_input(order, fields, window_seconds)
    reconciliation.request(resumed.id)
    return resumed
