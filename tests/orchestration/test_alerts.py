"""Alert delivery: every alert lands in the JSON-lines file; the webhook gets the same JSON."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from techflow_orchestration.alerts import Alert, AlertKind, AlertSink, AlertStatus, read_alerts

LOG = logging.getLogger("test_alerts")


def _alert(subject: str = "fct_mrr_daily") -> Alert:
    return Alert(AlertKind.FRESHNESS, AlertStatus.FAILING, subject, "stale")


def test_alerts_are_appended_one_json_object_per_line(tmp_path):
    sink = AlertSink(alerts_file=tmp_path / "alerts" / "alerts.jsonl")
    sink.emit(_alert("a"), LOG)
    sink.emit(_alert("b"), LOG)

    records = read_alerts(sink.alerts_file)
    assert [r["subject"] for r in records] == ["a", "b"]
    assert records[0]["kind"] == "freshness" and records[0]["status"] == "failing"


@pytest.fixture
def webhook_server():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep pytest output clean
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_webhook_receives_the_same_alert_as_the_file(tmp_path, webhook_server):
    url, received = webhook_server
    sink = AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url)
    sink.emit(_alert(), LOG)

    assert received == read_alerts(sink.alerts_file)


def test_unreachable_webhook_is_logged_and_the_alert_still_recorded(tmp_path, caplog):
    # Port 9 (discard) on localhost: connection refused, immediately.
    sink = AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url="http://127.0.0.1:9/")
    with caplog.at_level(logging.WARNING):
        sink.emit(_alert(), LOG)

    assert len(read_alerts(sink.alerts_file)) == 1
    assert "Could not POST alert" in caplog.text
