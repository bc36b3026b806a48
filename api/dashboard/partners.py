"""Operators' partners: each endpoint's health, enabling a disabled endpoint, rotating a signing secret."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from api.dashboard.session import login_required
from api.pagination import page_rows
from models import delivery_stats, partners, redelivery
from models.db import db
from models.keys import OPERATOR
from workers.delivery import send_now

bp = Blueprint("partners", __name__)


@bp.get("/partners")
@login_required(OPERATOR)
def list_partners():
    rows, has_more = page_rows(partners.Partner.select(), partners.Partner, request.args)
    return render_template(
        "dashboard/partners.html",
        partners=rows,
        has_more=has_more,
        delivery_counts=delivery_stats.counts_by_partner(),
    )


@bp.post("/partners/<partner_id>/endpoint/enable")
@login_required(OPERATOR)
def enable_endpoint(partner_id: str):
    with db.atomic():
        enabled = partners.enable_endpoint(partner_id)
        released = redelivery.release_held(partner_id)
    send_now(released)
    name = partners.get_partner(partner_id).name
    if enabled:
        flash(f"{name}'s endpoint is enabled; {len(released)} held deliveries are on their way.")
    else:
        flash(f"{name}'s endpoint was already enabled.")
    return redirect(url_for(".list_partners"))


@bp.post("/partners/<partner_id>/secret/rotate")
@login_required(OPERATOR)
def rotate_secret(partner_id: str):
    with db.atomic():
        secret, previous_expires_at = partners.rotate_secret(partners.get_partner(partner_id).id)
    return render_template(
        "dashboard/secret.html",
        partner=partners.get_partner(partner_id),
        secret=secret,
        previous_expires_at=previous_expires_at,
    )
