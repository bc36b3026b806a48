"""Headers every answer carries, whatever produced it: what caches may keep, and HTTPS from then on.

API answers hold API keys, webhook secrets, customers' details and orders, so no cache may store one
(Stripe's API answers say the same). The payments API's GETs are the exception: they carry a strong
ETag so that a client can ask again cheaply, and say so (``private, no-cache``: revalidate every time,
and never in a shared cache). An answer that chose its own policy (static files, the dashboard's pages)
keeps it.

Over HTTPS (gunicorn trusts the router's ``X-Forwarded-Proto``: ``FORWARDED_ALLOW_IPS``) every answer
also tells browsers to use nothing else for a year (HSTS). Over plain HTTP the header is left out, as
RFC 6797 requires: there it could be forged, and on a laptop it would pin ``localhost`` to HTTPS.
"""

from __future__ import annotations

from flask import Flask, Response, request

HSTS = "max-age=31536000"


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
