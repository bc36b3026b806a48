"""Operator commands: ``flask --app api partners …``, ``keys …``, ``deliveries …`` and
``reconciliation conflicts``.

Each prints JSON, so a script can read what it did; keys and secrets are shown this once only.
"""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from api.deliveries import attempt_json, delivery_json
from api.generic import conflicts
from api.partners import partner_json
from models import keys, partners, reconciliation, redelivery
from models.base import isoformat
from models.db import db
from models.deliveries import STATES, Attempt
from models.errors import DomainError
from workers.broker import reaches_a_worker
from workers.delivery import send_batches_now, send_now

partners_cli = AppGroup("partners", help="Manage partners (TPPs) and their endpoints.")
keys_cli = AppGroup("keys", help="Manage API keys.")
deliveries_cli = AppGroup("deliveries", help="Watch and re-queue webhook deliveries.")
reconciliation_cli = AppGroup("reconciliation", help="Payment transactions and their orders.")


def _emit(document: dict) -> None:
    click.echo(json.dumps(document, indent=2))


def _say_if_no_worker_hears(woken: int) -> None:
    if woken and not reaches_a_worker():
        click.echo(
            "note: REDIS_URL is not set, so this command's broker lives in this process alone. A running"
            " `make run` sends these deliveries when its sweeper finds them overdue (SWEEPER_GRACE_SECONDS,"
            " 60 s by default, plus up to 30 s); the API and the dashboard re-queue at once.",
            err=True,
        )


def _fail(exc: DomainError) -> None:
    fields = "".join(f"\n  {name}: {text}" for name, text in exc.fields.items())
    raise click.ClickException(exc.message + fields)


@partners_cli.command("create")
@click.option("--name", required=True, help="The partner's name.")
@click.option("--webhook-url", required=True, help="Where the partner receives orders.")
def create_partner(name: str, webhook_url: str) -> None:
    """Create a partner; print its id, API key and webhook signing secret."""
    try:
        with db.atomic():
            partner, secret = partners.create_partner(name, webhook_url)
            _, api_key = keys.issue_key(keys.PARTNER, partner)
    except DomainError as exc:
        _fail(exc)
    _emit(
        {
            "partner_id": partner.id,
            "name": partner.name,
            "webhook_url": partner.webhook_url,
            "api_key": api_key,
            "webhook_secret": secret,
        }
    )


@partners_cli.command("list")
def list_partners() -> None:
    """List partners and the health of their endpoints."""
    rows = partners.Partner.select().order_by(partners.Partner.created_at)
    _emit({"data": [partner_json(p) for p in rows]})


@partners_cli.command("enable")
@click.argument("partner_id")
def enable_partner(partner_id: str) -> None:
    """Enable a disabled endpoint; its held deliveries go out at once."""
    try:
        with db.atomic():
            partners.enable_endpoint(partner_id)
            released = redelivery.release_held(partner_id)
    except DomainError as exc:
        _fail(exc)
    send_now(released)
    _say_if_no_worker_hears(len(released))
    _emit({"partner_id": partner_id, "endpoint_enabled": True, "released_deliveries": len(released)})


@partners_cli.command("rotate-secret")
@click.argument("partner_id")
def rotate_secret(partner_id: str) -> None:
    """Issue a new webhook secret; the old one keeps signing for 24 hours."""
    try:
        with db.atomic():
            secret, expires_at = partners.rotate_secret(partner_id)
    except DomainError as exc:
        _fail(exc)
    _emit(
        {
            "partner_id": partner_id,
            "webhook_secret": secret,
            "previous_secret_expires_at": isoformat(expires_at),
        }
    )


@keys_cli.command("create")
@click.option("--role", type=click.Choice(keys.ROLES), required=True)
@click.option("--partner", "partner_id", help="The partner a partner key belongs to.")
def create_key(role: str, partner_id: str | None) -> None:
    """Issue an API key; print it (it is not stored, only its digest is)."""
    try:
        with db.atomic():
            partner = partners.get_partner(partner_id) if partner_id else None
            key, plaintext = keys.issue_key(role, partner)
    except DomainError as exc:
        _fail(exc)
    _emit({"key_id": key.id, "role": role, "partner_id": partner_id, "api_key": plaintext})


def _key_json(key: keys.ApiKey) -> dict:
    return {
        "key_id": key.id,
        "role": key.role,
        "partner_id": key.partner_id,
        "created_at": isoformat(key.created_at),
        "revoked_at": isoformat(key.revoked_at),
    }


@keys_cli.command("list")
@click.option("--partner", "partner_id", help="Only this partner's keys.")
def list_keys(partner_id: str | None) -> None:
    """List API keys (never the keys themselves: only their digests are stored)."""
    query = keys.ApiKey.select().order_by(keys.ApiKey.created_at)
    if partner_id:
        query = query.where(keys.ApiKey.partner == partner_id)
    _emit({"data": [_key_json(key) for key in query]})


@keys_cli.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Revoke a key: its next request is a 401, and its dashboard sessions end."""
    try:
        key = keys.revoke(key_id)
    except DomainError as exc:
        _fail(exc)
    _emit(_key_json(key))


def _filter_options(command):
    options = [
        click.option("--partner", "partner_id", help="Only this partner's deliveries."),
        click.option("--state", type=click.Choice(STATES), help="Only deliveries in this state."),
        click.option("--event", "event_type", help="Only this event type, e.g. order.created."),
        click.option("--since", type=click.DateTime(), help="Created at or after (UTC)."),
        click.option("--until", type=click.DateTime(), help="Created before (UTC)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _filters(partner_id, state, event_type, since, until) -> redelivery.Filters:
    return redelivery.Filters(
        partner_id=partner_id, state=state, event_type=event_type, created_after=since, created_before=until
    )


@deliveries_cli.command("list")
@_filter_options
@click.option("--limit", default=50, show_default=True)
def list_deliveries(partner_id, state, event_type, since, until, limit) -> None:
    """List deliveries, newest first."""
    query = redelivery.matching(_filters(partner_id, state, event_type, since, until))
    rows = query.order_by(redelivery.Delivery.created_at.desc()).limit(limit)
    _emit({"data": [delivery_json(row) for row in rows]})


@deliveries_cli.command("show")
@click.argument("delivery_id", type=int)
def show_delivery(delivery_id: int) -> None:
    """Show a delivery with its every attempt."""
    try:
        delivery = redelivery.get_delivery(delivery_id)
    except DomainError as exc:
        _fail(exc)
    attempts = Attempt.select().where(Attempt.delivery == delivery.id).order_by(Attempt.id)
    _emit({**delivery_json(delivery), "attempts": [attempt_json(a) for a in attempts]})


@deliveries_cli.command("requeue")
@click.argument("delivery_id", type=int)
def requeue_delivery(delivery_id: int) -> None:
    """Attempt one delivery again now, with the same webhook-id."""
    try:
        with db.atomic():
            requeued = redelivery.requeue(redelivery.get_delivery(delivery_id))
    except DomainError as exc:
        _fail(exc)
    if requeued:
        send_now([delivery_id])
        _say_if_no_worker_hears(1)
    _emit({"delivery_id": delivery_id, "requeued": requeued})


@deliveries_cli.command("requeue-all")
@_filter_options
@click.option("--dry-run", is_flag=True, help="Only say how many would go.")
def requeue_all(partner_id, state, event_type, since, until, dry_run) -> None:
    """Re-queue every matching delivery (the dead and retrying ones when no --state is given)."""
    try:
        filters = _filters(partner_id, state, event_type, since, until)
    except DomainError as exc:
        _fail(exc)
    matched = redelivery.count_requeueable(filters)
    if dry_run:
        _emit({"dry_run": True, "would_requeue": matched})
        return
    with click.progressbar(length=matched, label="re-queueing", file=sys.stderr) as bar:

        def counted(batches):
            for batch in batches:
                yield batch
                bar.update(len(batch))

        requeued = send_batches_now(counted(redelivery.requeue_batches(filters)))
    _say_if_no_worker_hears(requeued)
    _emit({"dry_run": False, "requeued": requeued})


@reconciliation_cli.command("conflicts")
def list_conflicts() -> None:
    """List the transactions reconciliation may not bring in line with their orders, newest first."""
    _emit({"objects": conflicts.documents(list(reconciliation.conflicts()))})
