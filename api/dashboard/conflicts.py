"""Operators' reconciliation conflicts: each order whose payment transaction reconciliation may not bring
in line with it (models/reconciliation.py), newest first, with what the order calls for.

Nothing here changes a transaction: a final one cannot change status, through the API or otherwise, and
an operator settles it with the payment provider, as the page says.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from api.dashboard.session import login_required
from api.pagination import page_rows
from models import reconciliation
from models.keys import OPERATOR
from models.reconciliation import ReconciliationConflict

bp = Blueprint("conflicts", __name__)


@bp.get("/conflicts")
@login_required(OPERATOR)
def list_conflicts():
    rows, has_more = page_rows(
        reconciliation.conflicts(in_full=True),
        ReconciliationConflict,
        request.args,
        created=ReconciliationConflict.detected_at,
    )
    return render_template("dashboard/conflicts.html", conflicts=rows, has_more=has_more)
