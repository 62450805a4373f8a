"""Alert delivery: every alert lands in the JSON-lines file; the webhook gets the same JSON. The
webhook URL is a secret: read through EnvVar, only http(s), never in a log line or a record."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from dagster import EnvVar, build_sensor_context

from techflow_core.settings import TechflowSettings
from techflow_orchestration.alerts import (
    WEBHOOK_ENV,
    Alert,
    AlertKind,
    AlertSink,
    AlertStatus,
    read_alerts,
    run_failure_alert,
)
from techflow_orchestration.lib.resources import alerts_resource

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
    assert "Alert webhook POST failed: URLError" in caplog.text


SECRET_PATH = "/services/T000/B000/s3cr3t-token"


@pytest.fixture
def failing_webhook():
    """A webhook that answers 500, at a URL whose path is the secret."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{SECRET_PATH}"
    server.shutdown()


@pytest.mark.parametrize("refused", ["http://127.0.0.1:9" + SECRET_PATH, None])
def test_a_failed_post_logs_no_url_and_no_secret(tmp_path, caplog, failing_webhook, refused):
    url = refused or failing_webhook  # connection refused, or an HTTP 500 answer
    sink = AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url)
    with caplog.at_level(logging.DEBUG):
        sink.emit(_alert(), LOG)

    assert "Alert webhook POST failed" in caplog.text
    assert "s3cr3t" not in caplog.text and url not in caplog.text
    assert "s3cr3t" not in sink.alerts_file.read_text()
    if refused is None:
        assert "HTTPError 500" in caplog.text


# Every piece of these values but the scheme carries "zq", so the error can be searched for any
# of them.
@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/zqfile",
        "ftp://zqhost.example/zqpath",
        "zqhost.example/zqpath",
        "https:///zqpath",  # no host
        "http://zqhost.example/zqpath",  # clear text across a network
        "zqtoken:zqhost.example/zqpath",  # the text before a colon parses as a scheme
        "zqtoken:https://zqhost.example",
        "https://zqhost.example:zqport/zqpath",  # a malformed port
        "javascript:zqcode",
    ],
)
def test_only_https_urls_are_accepted_and_the_error_shows_no_part_of_the_value(tmp_path, url):
    with pytest.raises(ValueError, match=WEBHOOK_ENV) as refused:
        AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url)
    assert "zq" not in str(refused.value)
    with pytest.raises(ValueError, match=WEBHOOK_ENV) as refused:
        TechflowSettings.from_env({WEBHOOK_ENV: url, "TECHFLOW_AS_OF": "2025-06-01"})
    assert "zq" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/services/T000/B000/x",
        "http://127.0.0.1:8080/hook",
        "http://127.8.9.10/hook",
        "http://[::1]:8080/hook",
        "http://localhost:8080/hook",
    ],
)
def test_https_anywhere_and_http_to_a_loopback_address_are_accepted(tmp_path, url):
    assert AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url).webhook_url == url


def test_the_sink_and_the_settings_never_show_the_url_in_a_repr(tmp_path):
    url = "https://hooks.example.com" + SECRET_PATH
    sink = AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url)
    settings = TechflowSettings.from_env({WEBHOOK_ENV: url, "TECHFLOW_AS_OF": "2025-06-01"})
    for shown in (repr(sink), str(sink), repr(settings)):
        assert "s3cr3t" not in shown and "hooks.example.com" not in shown


def test_an_alert_with_a_dedupe_key_is_recorded_and_sent_once(tmp_path, webhook_server):
    url, received = webhook_server
    sink = AlertSink(alerts_file=tmp_path / "alerts.jsonl", webhook_url=url)
    alert = run_failure_alert("techflow_daily", "run-1", "failed")
    assert sink.emit(alert, LOG) is True
    assert sink.emit(run_failure_alert("techflow_daily", "run-1", "told again"), LOG) is False
    assert sink.emit(run_failure_alert("techflow_daily", "run-2", "another run"), LOG) is True
    assert [r["details"]["run_id"] for r in read_alerts(sink.alerts_file)] == ["run-1", "run-2"]
    assert len(received) == 2


def test_the_resource_reads_the_webhook_through_env_var_and_never_holds_its_value(tmp_path):
    url = "https://hooks.example.com" + SECRET_PATH
    settings = TechflowSettings.from_env(
        {WEBHOOK_ENV: url, "TECHFLOW_AS_OF": "2025-06-01", "TECHFLOW_DATA_DIR": str(tmp_path)}
    )
    resource = alerts_resource(settings)

    assert isinstance(resource.webhook_url, EnvVar) and resource.webhook_url == WEBHOOK_ENV
    # What the UI's Resources page is built from: the configured values, here {"env": <name>}.
    configured = resource.get_resource_definition().config_schema.default_value_as_json_str
    assert json.loads(configured)["webhook_url"] == {"env": WEBHOOK_ENV}
    assert "s3cr3t" not in configured and "s3cr3t" not in repr(settings)
    # Unset: no webhook, nothing to resolve.
    unset = TechflowSettings.from_env({"TECHFLOW_AS_OF": "2025-06-01"})
    assert alerts_resource(unset).webhook_url is None


def test_a_sensor_gets_the_webhook_resolved_from_the_environment(
    tmp_path, webhook_server, monkeypatch
):
    url, received = webhook_server
    monkeypatch.setenv(WEBHOOK_ENV, url)
    monkeypatch.setenv("TECHFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TECHFLOW_AS_OF", "2025-06-01")
    resource = alerts_resource(TechflowSettings.from_env())

    with build_sensor_context(resources={"alerts": resource}) as context:
        sink = context.resources.alerts.sink()
        assert sink.webhook_url == url
        sink.emit(_alert(), LOG)

    assert received == read_alerts(sink.alerts_file)
