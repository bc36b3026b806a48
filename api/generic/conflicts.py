"""Reconciliation conflicts: ``/generic/conflicts/``, for operators.

A conflict is an order's transaction that reconciliation may not move to what the order says, such as
a Cancelled transaction for an order its partner settled as Succesful, or a Completed one (a payment
taken) for an order that Failed. It is recorded once and left for
an operator to settle (models/reconciliation.py); ``flask --app api reconciliation conflicts`` lists
them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint

from api.auth import allow
from api.generic.resources import listing, uri
from api.generic.responses import ConflictList, ConflictOut
from api.generic.schemas import ListQuery, NoQuery
from api.openapi import documented
from api.validation import read_query
from models import reconciliation
from models.base import isoformat
from models.keys import OPERATOR
from models.reconciliation import ReconciliationConflict

bp = Blueprint("conflicts", __name__)


def conflict_json(conflict: ReconciliationConflict) -> dict[str, Any]:
    return {
        "resource_pk": conflict.id,
        "resource_uri": uri("conflicts", conflict.id),
        "transaction": uri("transaction", conflict.transaction_id),
        "transaction_status": conflict.transaction_status,
        "order": conflict.order_id,
        "order_status": conflict.order_status,
        "reason": conflict.reason,
        "detected": isoformat(conflict.detected_at),
    }


def documents(rows: Sequence[ReconciliationConflict]) -> list[dict[str, Any]]:
    return [conflict_json(conflict) for conflict in rows]


@bp.get("/conflicts/")
@documented(
    "List reconciliation conflicts, newest first", query=ListQuery, responses={200: ConflictList, 304: None}
)
@allow(OPERATOR)
def list_conflicts():
    """Newest first."""
    return listing(reconciliation.conflicts(), read_query(ListQuery), documents)


@bp.get("/conflicts/<int:conflict_id>/")
@documented("Get a reconciliation conflict", query=NoQuery, responses={200: ConflictOut, 304: None})
@allow(OPERATOR)
def get_conflict(conflict_id: int):
    read_query(NoQuery)
    return conflict_json(reconciliation.get_conflict(conflict_id))
