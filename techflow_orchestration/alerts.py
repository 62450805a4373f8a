"""Alert delivery: the Dagster log, a JSON-lines file, and an optional webhook.

Sensors decide *when* something is worth telling (once per failure, once on recovery); this module
only decides *how*. Every alert is appended to $TECHFLOW_DATA_DIR/alerts/alerts.jsonl so there is
a durable record even without a webhook; a webhook that is down is logged, never fatal, because a
broken chat integration must not stop the freshness sensor from recording the next alert.

The webhook URL ($TECHFLOW_ALERT_WEBHOOK) is a secret — a Slack-style hook is authorised by its
path — so it never appears in a log line, an error message or an alert record: a failed POST logs
the error class and the host only. Only http(s) URLs are accepted (urllib would also open
`file://` and `ftp://`), and a redirect may not leave http(s) either.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

WEBHOOK_TIMEOUT_SECONDS = 5
WEBHOOK_ENV = "TECHFLOW_ALERT_WEBHOOK"
WEBHOOK_SCHEMES = ("http", "https")


def validate_webhook_url(url: str) -> str:
    """The URL itself if it is an http(s) URL with a host; else a ValueError naming the variable
    (never echoing the value, which may be the secret)."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in WEBHOOK_SCHEMES or not parts.hostname:
        shown = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ValueError(
            f"{WEBHOOK_ENV} must be an http:// or https:// URL with a host (it has {shown}); "
            "fix it or unset it to keep alerts in the log and the alerts file only."
        )
    return url.strip()


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (urllib's default also allows ftp)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        if urllib.parse.urlsplit(newurl).scheme.lower() not in WEBHOOK_SCHEMES:
            raise urllib.error.HTTPError(
                req.full_url, code, "redirect to a non-http(s) URL refused", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


class AlertKind(StrEnum):
    FRESHNESS = "freshness"
    RUN_FAILURE = "run_failure"


class AlertStatus(StrEnum):
    FAILING = "failing"
    RECOVERED = "recovered"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    status: AlertStatus
    subject: str  # the asset key or job name the alert is about
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


@dataclass(frozen=True)
class AlertSink:
    alerts_file: Path
    webhook_url: str | None = None

    def __post_init__(self) -> None:
        if self.webhook_url:
            validate_webhook_url(self.webhook_url)

    def emit(self, alert: Alert, log: logging.Logger | Any) -> None:
        """Deliver one alert to every channel. `log` is a Dagster context log or a stdlib logger."""
        line = f"[{alert.kind}:{alert.status}] {alert.subject}: {alert.message}"
        if alert.status is AlertStatus.FAILING:
            log.error(line)
        else:
            log.info(line)
        self._append(alert)
        if self.webhook_url:
            self._post(alert, log)

    def _append(self, alert: Alert) -> None:
        self.alerts_file.parent.mkdir(parents=True, exist_ok=True)
        with self.alerts_file.open("a", encoding="utf-8") as fh:
            fh.write(alert.to_json() + "\n")

    def _post(self, alert: Alert, log: logging.Logger | Any) -> None:
        assert self.webhook_url is not None
        request = urllib.request.Request(
            self.webhook_url,
            data=alert.to_json().encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with _OPENER.open(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            # Neither the URL nor str(exc) (which can quote it): the error class, an HTTP status,
            # and the host at most.
            status = f" {exc.code}" if isinstance(exc, urllib.error.HTTPError) else ""
            host = urllib.parse.urlsplit(self.webhook_url).hostname
            log.warning(
                f"Alert webhook POST failed: {type(exc).__name__}{status} (host {host}, "
                f"{WEBHOOK_ENV}). The alert is still recorded in {self.alerts_file}."
            )


def read_alerts(alerts_file: Path) -> list[dict[str, Any]]:
    """Every alert recorded so far, oldest first (used by the summary and the tests)."""
    if not alerts_file.exists():
        return []
    lines = alerts_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
