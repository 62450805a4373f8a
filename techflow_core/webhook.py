"""The alert webhook's rule ($TECHFLOW_ALERT_WEBHOOK): an https:// URL with a host, or http:// to a
loopback address (a local relay, the tests). The URL is a secret (a Slack-style hook is authorised
by its path), so a refused value is named by its variable only, never shown.

Checked once at start, where settings are parsed, and again by the alert sink before each POST.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

from techflow_core.errors import SettingsError

WEBHOOK_ENV = "TECHFLOW_ALERT_WEBHOOK"
WEBHOOK_RULE = "an https:// URL with a host (http:// only to a loopback address, e.g. 127.0.0.1)"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_allowed_webhook(url: str) -> bool:
    """https with a host, or http to a loopback host."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if not host:
        return False
    return scheme == "https" or (scheme == "http" and _is_loopback(host))


def validate_webhook_url(url: str) -> str:
    """The URL itself if `is_allowed_webhook`; else a SettingsError that names the variable and the
    rule and shows no part of the value (any part of it may be the secret)."""
    if not is_allowed_webhook(url):
        raise SettingsError(
            f"{WEBHOOK_ENV} must be {WEBHOOK_RULE}; its value is not shown (it is a secret). Fix "
            "it, or unset it to keep alerts in the log and the alerts file only."
        )
    return url.strip()
