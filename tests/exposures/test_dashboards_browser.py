"""The dashboards as a finance or marketing lead opens them: in real Chromium, offline.

Each page is served from its directory on 127.0.0.1 with the network otherwise cut off (any
request to another host fails the test), loads with no console error, draws every chart, and
shows KPI tiles equal to the semantic layer's metrics. Screenshots land in artifacts/.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dagster import AssetKey

from techflow_core.paths import REPO_ROOT
from techflow_orchestration.lib.keys import DASHBOARD_KEYS
from tests.exposures.conftest import ExposureWorld
from tests.orchestration.test_ui import CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

ARTIFACTS = REPO_ROOT / "artifacts"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def served(exposure_world: ExposureWorld) -> Iterator[str]:
    directory = exposure_world.data_dir / "dashboards"
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def expected_tiles(world: ExposureWorld, tiles: list[list[str]]) -> dict[str, float | None]:
    """Each tile's metric, asked of the semantic layer the way a person would: for the month the
    tile names (data-month), or over the whole period for a tile of no month."""
    month = "metric_time__month"
    out: dict[str, float | None] = {}
    with world.store() as store:
        for metric, _, tile_month in tiles:
            if not tile_month:
                value = store.query([metric])[metric][0]
            else:
                frame = store.query([metric], [month])
                rows = [
                    r
                    for r in frame.iter_rows(named=True)
                    if r[month].date().isoformat() == tile_month
                ]
                value = rows[0][metric]
            out[metric] = None if value is None else float(value)
    return out


@pytest.mark.parametrize("key", DASHBOARD_KEYS, ids=lambda k: k.to_user_string())
def test_a_dashboard_loads_offline_draws_every_chart_and_shows_the_metrics(
    exposure_world: ExposureWorld,
    served: str,
    chromium: Path,
    key: AssetKey,
) -> None:
    from playwright.sync_api import sync_playwright

    name = key.path[-1]
    meta = exposure_world.instance.get_latest_materialization_event(key).asset_materialization
    charts = meta.metadata["charts"].value
    errors: list[str] = []
    foreign: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        def only_local(route) -> None:
            if route.request.url.startswith(served):
                route.continue_()
            else:
                foreign.append(route.request.url)
                route.abort()

        page.route("**/*", only_local)
        page.goto(f"{served}/{name}.html", wait_until="load")
        page.wait_for_function(
            f"document.querySelectorAll('.chart .js-plotly-plot .main-svg').length >= {charts}",
            timeout=60_000,
        )
        # A drawn chart has trace groups (bars, lines, funnel, waterfall) or a heatmap image.
        drawn = page.eval_on_selector_all(
            ".chart .js-plotly-plot",
            "plots => plots.map(p => p.querySelectorAll('.main-svg g.trace, .main-svg g.hm image')"
            ".length)",
        )
        tiles = page.eval_on_selector_all(
            ".kpi", "els => els.map(e => [e.dataset.metric, e.dataset.value, e.dataset.month])"
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        browser.close()

    assert errors == [], errors
    assert foreign == [], f"the page fetched from the network: {foreign}"
    assert len(drawn) == charts and all(n > 0 for n in drawn), drawn
    shown = {metric: (float(value) if value else None) for metric, value, _ in tiles}
    recorded = {
        k.removeprefix("kpi/") for k in meta.metadata if k.startswith("kpi/")
    }  # the tiles the materialization recorded
    assert shown.keys() == recorded
    want = expected_tiles(exposure_world, tiles)
    assert shown.keys() == want.keys()
    for metric, value in want.items():
        assert shown[metric] == (None if value is None else pytest.approx(value)), metric
