"""Debian's Chromium, driven by Playwright: for the browser tests and the dashboard's screenshots.

Playwright never downloads a browser here; it drives the system's ``/usr/bin/chromium`` (``apt-get
install chromium``), headless, with no background network traffic. Each launch runs on a fresh
temporary profile that Playwright makes and removes, and each browser context has its own cookies.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("COURIER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """The system's Chromium, headless, on a fresh profile."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
