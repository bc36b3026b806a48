"""Courier's records, one module per aggregate. ``MODELS`` lists every table in dependency order."""

from models.buyers import Buyer
from models.catalogue import Price, Product
from models.dashboard_sessions import DashboardSession
from models.deliveries import Attempt, Delivery
from models.idempotency import IdempotencyKey
from models.keys import ApiKey
from models.orders import Order
from models.partners import Partner, WebhookSecret
from models.reconciliation import ReconciliationConflict
from models.sellers import Seller, SellerProduct
from models.transactions import Transaction
from models.users import EndUser

MODELS = [
    Partner,
    WebhookSecret,
    ApiKey,
    DashboardSession,
    Product,
    Price,
    EndUser,
    Order,
    Delivery,
    Attempt,
    Buyer,
    Seller,
    SellerProduct,
    Transaction,
    ReconciliationConflict,
    IdempotencyKey,
]

__all__ = ["MODELS"]
