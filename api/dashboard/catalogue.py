"""A partner's products and their prices; a product is taken off the marketplace, or put back, here."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api.auth import current_principal
from api.dashboard.session import login_required
from api.pagination import page_rows
from api.schemas import ProductUpdate
from api.validation import parse_flag
from models import catalogue
from models.db import db
from models.keys import PARTNER

bp = Blueprint("catalogue", __name__)


@bp.get("/products")
@login_required(PARTNER)
def list_products():
    mine = catalogue.Product.select().where(catalogue.Product.partner == current_principal().partner_id)
    products, has_more = page_rows(mine, catalogue.Product, request.args)
    return render_template(
        "dashboard/products.html",
        products=products,
        has_more=has_more,
        prices=catalogue.prices_by_product([product.id for product in products]),
    )


@bp.post("/products/<prod_id>/enabled")
@login_required(PARTNER)
def set_enabled(prod_id: str):
    changes = ProductUpdate(enabled=parse_flag("enabled", request.form.get("enabled", ""))).model_dump(
        exclude_unset=True
    )
    with db.atomic():
        product = catalogue.get_product(prod_id, partner_id=current_principal().partner_id)
        product = catalogue.update_product(product, changes)
    shown = (
        "is on the marketplace again" if product.enabled else "is off the marketplace: it cannot be ordered"
    )
    flash(f"{product.name} {shown}.")
    return redirect(url_for(".list_products"))
