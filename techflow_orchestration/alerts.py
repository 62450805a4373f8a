"""Alert delivery: the Dagster log, a JSON-lines file, and an optional webhook.

Sensors decide *when* something is worth telling (once per failure, once on recovery); this module
only decides *how*. Every alert is appended to $TECHFLOW_DATA_DIR/alerts/alerts.jsonl so there is
a durable record even without a webhook; a webhook that is down is logged, never fatal, because a
broken chat integration must not stop the freshness sensor from recording the next alert.

The webhook URL ($TECHFLOW_ALERT_WEBHOOK) is a secret — a Slack-style hook is authorised by its
path — so no part of it appears in a log line, an error message, a repr or an alert record: a
refused URL is reported by the variable's name, a failed POST by the error class and HTTP
status. Only https:// is accepted, or http:// to a loopback address (a local relay, the tests):
the secret must not cross a network in clear text, and urllib would also open `file://` and
`ftp://`. A redirect must obey the same rule.

An alert may carry a `dedupe_key` ("run_failure:<run id>"): the sink then records and sends it
only if no alert with that key was recorded before, checked and appended under a file lock, so a
run failure told by `make run`, by the dead-run releaser and by the run-failure sensor — even two
of them at the same moment — is one alert.
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

from techflow_core.webhook import (
    WEBHOOK_ENV,
    WEBHOOK_RULE,
    is_allowed_webhook,
    validate_webhook_url,
)
from techflow_orchestration.lib.write_lock import exclusive

WEBHOOK_TIMEOUT_SECONDS = 5


class _AllowedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL the webhook itself could be (urllib's default also allows
    ftp, and http anywhere)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        if not is_allowed_webhook(newurl):
            raise urllib.error.HTTPError(
                req.full_url, code, f"redirect refused: not {WEBHOOK_RULE}", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


_OPENER = urllib.request.build_opener(_AllowedRedirects)


class AlertKind(StrEnum):
    FRESHNESS = "freshness"
    RUN_FAILURE = "run_failure"
    # A run holding the warehouse's pool slot whose process cannot be checked from this machine
    # (another host, no recorded process): someone has to decide (dead_runs.py).
    STUCK_RUN = "stuck_run"


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
    # Set: the alert is recorded and sent at most once per key (see the module docstring).
    dedupe_key: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=str)


def run_failure_alert(
    job_name: str, run_id: str, message: str, partition: str | None = None
) -> Alert:
    """The alert for a failed run, whoever notices it first (sensor, `make run`, the releaser)."""
    return Alert(
        kind=AlertKind.RUN_FAILURE,
        status=AlertStatus.FAILING,
        subject=job_name,
        message=message,
        details={"run_id": run_id, "partition": partition},
        dedupe_key=f"run_failure:{run_id}",
    )


def run_recovery_alert(job_name: str, run_id: str, failed_run_id: str) -> Alert:
    return Alert(
        kind=AlertKind.RUN_FAILURE,
        status=AlertStatus.RECOVERED,
        subject=job_name,
        message=f"succeeded again after failed run {failed_run_id}",
        details={"run_id": run_id, "failed_run_id": failed_run_id},
        dedupe_key=f"run_recovery:{run_id}",
    )


@dataclass(frozen=True)
class AlertSink:
    alerts_file: Path
    webhook_url: str | None = field(default=None, repr=False)  # a secret: never in a repr

    def __post_init__(self) -> None:
        if self.webhook_url:
            validate_webhook_url(self.webhook_url)

    def emit(self, alert: Alert, log: logging.Logger | Any) -> bool:
        """Deliver one alert to every channel. `log` is a Dagster context log or a stdlib logger.
        False (and nothing delivered) when an alert with its dedupe key was recorded before."""
        if not self._append(alert):
            return False
        line = f"[{alert.kind}:{alert.status}] {alert.subject}: {alert.message}"
        if alert.status is AlertStatus.FAILING:
            log.error(line)
        else:
            log.info(line)
        if self.webhook_url:
            self._post(alert, log)
        return True

    def _append(self, alert: Alert) -> bool:
        self.alerts_file.parent.mkdir(parents=True, exist_ok=True)
        lock = self.alerts_file.with_name(self.alerts_file.name + ".lock")
        with exclusive(lock, "alert sink"):
            if alert.dedupe_key is not None and any(
                record.get("dedupe_key") == alert.dedupe_key
                for record in read_alerts(self.alerts_file)
            ):
                return False
            with self.alerts_file.open("a", encoding="utf-8") as fh:
                fh.write(alert.to_json() + "\n")
        return True

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
            # No part of the URL, nor str(exc) (which can quote it): the error class and an
            # HTTP status only.
            status = f" {exc.code}" if isinstance(exc, urllib.error.HTTPError) else ""
            log.warning(
                f"Alert webhook POST failed: {type(exc).__name__}{status} ({WEBHOOK_ENV}). The "
                f"alert is still recorded in {self.alerts_file}."
            )


def read_alerts(alerts_file: Path) -> list[dict[str, Any]]:
    """Every alert recorded so far, oldest first (used by the summary and the tests)."""
    if not alerts_file.exists():
        return []
    lines = alerts_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
