"""`make docs` serves the generated site on 127.0.0.1 on a port the OS picked."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest

from slim_ci.docs import SITE_FILES, make_server
from slim_ci.errors import BadInput


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    for name in SITE_FILES:
        (site / name).write_text("<html>dbt docs</html>" if name.endswith("html") else "{}")
    return site


def test_the_site_is_served_on_loopback_on_a_free_port(tmp_path) -> None:
    server = make_server(_site(tmp_path))
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    assert port > 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "dbt docs" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json", timeout=10) as r:
            assert r.read() == b"{}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_incomplete_site_is_refused_with_how_to_make_it(tmp_path) -> None:
    site = _site(tmp_path)
    (site / "catalog.json").unlink()
    with pytest.raises(BadInput, match=r"has no catalog\.json: run `make docs`"):
        make_server(site)
