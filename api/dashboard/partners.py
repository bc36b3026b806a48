"""Operators' partners: each endpoint's health, enabling a disabled endpoint, rotating a signing secret."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for

from api.dashboard.formatting import when
from api.dashboard.session import login_required
from api.pagination import page_rows
from api.validation import parse_integer
from models import delivery_stats, partners, redelivery
from models.db import db
from models.errors import Conflict
from models.keys import OPERATOR
from workers.delivery import send_now

bp = Blueprint("partners", __name__)

# The session remembers the last secret its browser made, so that a reload of the page that showed it
# shows it again (the form is sent again, and finds that secret current).
MADE_HERE = "secret_made_here"


@bp.get("/partners")
@login_required(OPERATOR)
def list_partners():
    rows, has_more = page_rows(
        partners.with_secret_version(partners.Partner.select()), partners.Partner, request.args
    )
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
    """Rotates once per form: the form names the secret it was shown with, and a reload (which sends it
    again) finds that secret rotated already and shows again the one it made; a second operator's click
    on the same secret rotates nothing and shows nothing."""
    version = parse_integer(request.form.get("secret_version", ""))
    if version is None:
        abort(400, "This form does not say which secret it would replace. Open the partners page again.")
    with db.atomic():
        rotation = partners.rotate_secret_once(partner_id, version)
    if rotation.rotated:
        session[MADE_HERE] = rotation.secret_id
    elif session.get(MADE_HERE) != rotation.secret_id:
        # Rotated since this page was opened, by another operator or through the API: its secret is
        # for whoever made it, and a form kept from earlier must not become a way to read it.
        raise Conflict(
            f"This secret was rotated at {when(rotation.made_at)}, after this page was opened, and the "
            "new one was shown to whoever rotated it. Open the partners page again to rotate it again."
        )
    return render_template(
        "dashboard/secret.html", partner=partners.get_partner(partner_id), rotation=rotation
    )
