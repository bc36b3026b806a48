"""Operator commands: ``flask --app api partners create …``, ``flask --app api keys create …`` and
``flask --app api reconciliation conflicts``.

Each prints JSON, so a script can read what it made; keys and secrets are shown this once only.
"""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from api.generic import conflicts
from models import keys, partners, reconciliation
from models.db import db
from models.errors import DomainError

partners_cli = AppGroup("partners", help="Manage partners (TPPs).")
keys_cli = AppGroup("keys", help="Manage API keys.")
reconciliation_cli = AppGroup("reconciliation", help="Payment transactions and their orders.")


def _emit(document: dict) -> None:
    click.echo(json.dumps(document, indent=2))


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
    """List partners and the state of their endpoints."""
    rows = partners.Partner.select().order_by(partners.Partner.created_at)
    _emit(
        {
            "data": [
                {
                    "partner_id": p.id,
                    "name": p.name,
                    "webhook_url": p.webhook_url,
                    "endpoint_enabled": p.endpoint_enabled,
                    "disabled_reason": p.disabled_reason,
                }
                for p in rows
            ]
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


@reconciliation_cli.command("conflicts")
def list_conflicts() -> None:
    """List the transactions reconciliation may not bring in line with their orders, newest first."""
    _emit({"objects": conflicts.documents(list(reconciliation.conflicts()))})
