"""`make docs`: generate the dbt docs site and serve it on 127.0.0.1, on a free port.

The site is the three files dbt's docs page needs (index.html, manifest.json, catalog.json),
copied to $TECHFLOW_DATA_DIR/docs/site; the push-to-main workflow uploads the same directory.
Serving binds port 0 and prints the port the OS chose, so there is no race between finding a
free port and taking it, and only 127.0.0.1 can reach it.

dbt reads the catalog from the published warehouse through the profile's `published` target,
read-only: generating the docs never takes the warehouse's writer lock, so it cannot fail a
build, nor be failed by one.

The site folder (`--out`) is one the docs own: created here and marked with SITE_MARKER. A
folder that is neither new, empty, nor marked (`--out .`, a home directory) is refused before
anything runs, and nothing in it is touched; in an owned folder only the site's files are
replaced.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from slim_ci.dbt_cli import DbtProject, read_json
from slim_ci.docs_coverage import undocumented
from slim_ci.errors import BadInput, StepFailed
from slim_ci.settings import CiSettings
from techflow_core.durable import replace_durably

SITE_FILES = ("index.html", "manifest.json", "catalog.json")
# Marks a folder as a docs site this module created, so it may write into it again.
SITE_MARKER = ".techflow-docs-site"
# The profile's read-only target on the published warehouse (techflow_dbt/profiles.yml).
DOCS_TARGET = "published"


def claim_site_dir(out_dir: Path) -> Path:
    """Make `out_dir` a folder the docs own, or refuse it (BadInput) before anything is written:
    it must not exist yet, be empty, or carry SITE_MARKER from an earlier run."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInput(f"--out {out_dir} is a file, not a folder: choose a new folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).exists():
        raise BadInput(
            f"--out {out_dir} is not empty and was not made by `make docs` (no {SITE_MARKER} "
            "in it): choose a new or empty folder. Nothing in it was touched."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SITE_MARKER).write_text(
        "This folder is a dbt docs site written by `python -m slim_ci.docs`; its site files are "
        "replaced on every run.\n",
        encoding="utf-8",
    )
    return out_dir


def generate(settings: CiSettings, target: str, out_dir: Path, echo: bool = True) -> Path:
    """Run `dbt docs generate` against the warehouse and collect the site in `out_dir` (a folder
    the docs own: claim_site_dir).

    Without a built warehouse the site is still generated (descriptions and lineage), just with
    an empty catalog, rather than dbt creating an empty warehouse file to read it from.
    """
    claim_site_dir(out_dir)
    warehouse = settings.warehouse
    built = warehouse.exists()
    if not built:
        print(
            f"docs: no warehouse at {warehouse}: generating without column types "
            "(run `make run` first for a full catalog)"
        )
    target_path = settings.data_dir / "docs" / "target"
    dbt = DbtProject(
        project_dir=settings.project_dir,
        target=target,
        target_path=target_path,
        env={
            "TECHFLOW_DATA_DIR": str(settings.data_dir),
            # dbt connects even for an empty catalog; in memory, so no empty file is left behind.
            "TECHFLOW_WAREHOUSE": str(warehouse) if built else ":memory:",
        },
    )
    args = ["docs", "generate"] if built else ["docs", "generate", "--empty-catalog"]
    dbt.run(*args, echo=echo)
    for name in SITE_FILES:  # each file replaced whole (a server may be reading the old one)
        partial = out_dir / f".{name}.tmp-{os.getpid()}"
        shutil.copy2(target_path / name, partial)
        replace_durably(partial, out_dir / name, sync_dir=False)
    return out_dir


def report_coverage(site: Path) -> None:
    """Print what still lacks a description (the docs-coverage test fails on the same list)."""
    missing = undocumented(read_json(site / "manifest.json"), read_json(site / "catalog.json"))
    for item in missing[:10]:
        print(f"docs: {item}")
    more = f" (all: python -m slim_ci.docs_coverage {site})" if len(missing) > 10 else ""
    print(f"docs: {len(missing)} undocumented item(s){more}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass  # one line per asset request drowns the URL the user needs


def make_server(site: Path, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for `site` on 127.0.0.1 (port 0: any free port, see server_address)."""
    missing = [name for name in SITE_FILES if not (site / name).exists()]
    if missing:
        raise BadInput(f"{site} has no {', '.join(missing)}: run `make docs` to generate the site")
    handler = partial(_QuietHandler, directory=str(site))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m slim_ci.docs", description=__doc__)
    parser.add_argument(
        "--target",
        default=DOCS_TARGET,
        help=f"dbt target to document (default {DOCS_TARGET}: the published warehouse, read-only)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="site folder (default $DATA/docs/site): new, empty, or made by an earlier run",
    )
    parser.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    parser.add_argument("--no-serve", action="store_true", help="only generate the site")
    args = parser.parse_args(argv)
    settings = CiSettings.from_env()
    out_dir = (args.out or settings.data_dir / "docs" / "site").resolve()
    try:
        site = generate(settings, args.target, out_dir)
        report_coverage(site)
        if args.no_serve:
            print(f"docs: site written to {site}")
            return 0
        server = make_server(site, args.port)
    except BadInput as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 2
    except StepFailed as exc:
        print(f"docs: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"docs: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"docs: serving {site} on http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
