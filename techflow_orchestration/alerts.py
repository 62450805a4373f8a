"""Alert delivery: the Dagster log, a JSON-lines file, and an optional webhook.

Sensors decide *when* something is worth telling (once per failure, once on recovery); this module
only decides *how*. Every alert is appended to $TECHFLOW_DATA_DIR/alerts/alerts.jsonl so there is
a durable record even without a webhook; a webhook that is down is logged, never fatal, because a
broken chat integration must not stop the freshness sensor from recording the next alert.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

WEBHOOK_TIMEOUT_SECONDS = 5


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
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:
                response.read()
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning(
                f"Could not POST alert to TECHFLOW_ALERT_WEBHOOK={self.webhook_url}: {exc}. "
                f"The alert is still recorded in {self.alerts_file}."
            )


def read_alerts(alerts_file: Path) -> list[dict[str, Any]]:
    """Every alert recorded so far, oldest first (used by the summary and the tests)."""
    if not alerts_file.exists():
        return []
    lines = alerts_file.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
