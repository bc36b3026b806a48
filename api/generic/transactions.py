"""Transactions: ``/generic/transaction/``.

A PATCH changes ``status``, ``notes`` or ``uid_pay`` under Solitude's rules (models/transactions.py).
A status change to a transaction tied to a Courier order asks for it to be reconciled with the order,
which has the last word.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint

from api.auth import allow
from api.generic.resources import accepted, listing, require_version, uri
from api.generic.responses import TransactionList, TransactionOut
from api.generic.schemas import NoQuery, TransactionCreate, TransactionQuery, TransactionUpdate
from api.idempotency import idempotent
from api.openapi import documented
from api.responses import ErrorOut
from api.validation import parse_body, read_query
from models import transactions
from models.base import isoformat
from models.currencies import to_decimal
from models.db import db
from models.keys import MARKETPLACE, OPERATOR
from models.sellers import SellerProduct
from models.transactions import Transaction
from workers import reconcile

bp = Blueprint("transactions", __name__)


def transaction_json(transaction: Transaction, relations: list[int]) -> dict[str, Any]:
    """The document's fields, in its order; ``relations`` are the ids of the children."""
    return {
        "amount": format(to_decimal(transaction.amount, transaction.currency), "f"),
        "buyer": uri("buyer", transaction.buyer_id),
        "created": isoformat(transaction.created_at),
        "currency": transaction.currency,
        "notes": transaction.notes,
        "provider": transaction.provider,
        "related": uri("transaction", transaction.related_id),
        "relations": [uri("transaction", child) for child in relations],
        "resource_pk": transaction.id,
        "resource_uri": uri("transaction", transaction.id),
        "seller_product": uri("product", transaction.seller_product_id),
        "status": transaction.status,
        "type": transaction.type,
        "uid_pay": transaction.uid_pay,
        "uid_support": transaction.uid_support,
        "uuid": transaction.uuid,
    }


def documents(rows: Sequence[Transaction]) -> list[dict[str, Any]]:
    relations = transactions.relations_of([row.id for row in rows])
    return [transaction_json(row, relations[row.id]) for row in rows]


@bp.get("/transaction/")
@documented(
    "List transactions, newest first", query=TransactionQuery, responses={200: TransactionList, 304: None}
)
@allow(OPERATOR, MARKETPLACE)
def list_transactions():
    """Newest first, filtered by ``uuid``, ``provider``, ``status`` and ``seller`` (its resource_pk)."""
    params = read_query(TransactionQuery)
    query = Transaction.select()
    if params.uuid is not None:
        query = query.where(Transaction.uuid == params.uuid)
    if params.provider is not None:
        query = query.where(Transaction.provider == params.provider)
    if params.status is not None:
        query = query.where(Transaction.status == params.status)
    if params.seller is not None:
        products = SellerProduct.select(SellerProduct.id).where(SellerProduct.seller == params.seller)
        query = query.where(Transaction.seller_product.in_(products))
    return listing(query.order_by(Transaction.id.desc()), params, documents)


@bp.get("/transaction/<int:transaction_id>/")
@documented("Get a transaction", query=NoQuery, responses={200: TransactionOut, 304: None})
@allow(OPERATOR, MARKETPLACE)
def get_transaction(transaction_id: int):
    read_query(NoQuery)
    return documents([transactions.get_transaction(transaction_id)])[0]


@bp.post("/transaction/")
@documented(
    "Create a transaction",
    body=TransactionCreate,
    responses={201: TransactionOut, 404: ErrorOut, 409: ErrorOut},
)
@allow(OPERATOR, MARKETPLACE)
@idempotent
def create_transaction():
    """A transaction; without a ``uuid`` it is given one."""
    body = parse_body(TransactionCreate)
    with db.atomic():
        transaction = transactions.create_transaction(body.model_dump())
    return documents([transaction])[0], 201


@bp.patch("/transaction/<int:transaction_id>/")
@documented(
    "Change a transaction's status, notes or uid_pay",
    body=TransactionUpdate,
    responses={202: None, 412: ErrorOut},
)
@allow(OPERATOR, MARKETPLACE)
def update_transaction(transaction_id: int):
    """Returns nothing when it worked (Solitude's 202)."""
    with db.atomic():
        transaction = transactions.get_transaction(transaction_id, lock=True)
        require_version(documents([transaction])[0])
        changes = parse_body(TransactionUpdate).model_dump(exclude_unset=True)
        transaction = transactions.update_transaction(transaction, changes)
    if transaction.order_id is not None and transaction.reconcile_requested_at is not None:
        reconcile.enqueue(transaction.order_id)
    return accepted()
