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


def test_docs_refuse_a_folder_they_did_not_make_and_touch_nothing_in_it(tmp_path, monkeypatch):
    """`--out .` (or any folder of someone's files) is refused before dbt runs; nothing in it is
    deleted or written."""
    from slim_ci.docs import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("keep me")
    (tmp_path / "project").mkdir()
    for out in (".", str(tmp_path)):
        assert main(["--out", out, "--no-serve"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "project"]
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_docs_write_into_a_new_an_empty_or_their_own_folder(tmp_path) -> None:
    from slim_ci.docs import SITE_MARKER, claim_site_dir

    new = claim_site_dir(tmp_path / "new" / "site")
    empty = tmp_path / "empty"
    empty.mkdir()
    claim_site_dir(empty)
    for owned in (new, empty):
        assert (owned / SITE_MARKER).exists()
        (owned / "index.html").write_text("an earlier site")
        assert claim_site_dir(owned) == owned  # marked: its own, again
    with pytest.raises(BadInput, match="is a file"):
        claim_site_dir(new / "index.html")
