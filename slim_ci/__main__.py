"""`make ci-slim`: the pull-request checks, run locally. See slim_ci.pipeline for the steps.

Exit codes: 0 all passed, 1 the build or the SQL lint failed, 2 bad input (one line says what is
missing and how to make it).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from slim_ci import git, pipeline, prod_state
from slim_ci.data_diff import to_markdown
from slim_ci.errors import BadInput, StepFailed
from slim_ci.settings import PROD_WAREHOUSE_NAME, CiSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m slim_ci", description=__doc__)
    parser.add_argument(
        "--state",
        type=Path,
        help="production state directory (manifest.json + techflow.duckdb), e.g. the downloaded "
        "prod-state artifact; never built when given. Default: $TECHFLOW_DATA_DIR/prod_artifacts, "
        "built from the base branch when missing",
    )
    parser.add_argument(
        "--prod-warehouse",
        type=Path,
        help=f"production DuckDB file (default: <state>/{PROD_WAREHOUSE_NAME})",
    )
    parser.add_argument("--base", help="base ref (default: origin/main, else main, else HEAD)")
    parser.add_argument(
        "--repo",
        type=Path,
        help="git checkout whose techflow_dbt/ to check (default: the one slim_ci lives in)",
    )
    parser.add_argument(
        "--rebuild-prod", action="store_true", help="rebuild production state from the base first"
    )
    parser.add_argument(
        "--prod-only",
        action="store_true",
        help="only build production state from the base (what the push-to-main workflow uploads)",
    )
    parser.add_argument(
        "--markdown-out",
        type=Path,
        help="also write the data diff (Markdown) to this file "
        "(it is always in $TECHFLOW_DATA_DIR/ci/data_diff.md)",
    )
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> CiSettings:
    settings = CiSettings.from_env(args.repo.resolve()) if args.repo else CiSettings.from_env()
    if args.state:
        state_dir = args.state.resolve()
        settings = settings.with_overrides(
            state_dir=state_dir, prod_warehouse=state_dir / PROD_WAREHOUSE_NAME
        )
    if args.prod_warehouse:
        settings = settings.with_overrides(prod_warehouse=args.prod_warehouse.resolve())
    return settings.with_overrides(base_ref=args.base)


def _size_line(size: pipeline.BuildSize) -> str:
    wall = f"{size.wall_seconds:.1f} s" if size.wall_seconds is not None else "? s"
    dbt = f"{size.dbt_seconds:.1f} s" if size.dbt_seconds is not None else "? s"
    return f"{size.models} models / {size.nodes} nodes in {wall} (dbt execution {dbt})"


def print_report(report: pipeline.SlimCiReport, settings: CiSettings) -> str:
    names = [uid.split(".")[-1] for uid in report.modified]
    models = [uid.split(".")[-1] for uid in report.built_models]
    print(f"slim-ci: production state {report.prod.state_dir} (database {report.prod.database})")
    print(f"slim-ci: modified: {', '.join(names) or 'nothing'}")
    print(f"slim-ci: built: {', '.join(models) or 'nothing'}")
    print(f"slim-ci: CI build        {_size_line(pipeline.ci_size(report, settings))}")
    print(f"slim-ci: full prod build {_size_line(pipeline.production_size(report.prod))}")
    print(f"slim-ci: dbt build {'passed' if report.build_ok else 'FAILED'}")
    files = ", ".join(str(p.name) for p in report.lint.files) or "none"
    print(f"slim-ci: SQLFluff on changed SQL files ({files}): {report.lint.verdict}")
    if not report.lint.passed:
        print(report.lint.output)
    steps = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.timings.items())
    print(f"slim-ci: timings: {steps}")
    markdown = to_markdown(report.diffs)
    print()
    print(markdown)
    return markdown


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = settings_from(args)
        if args.prod_only:
            base = git.resolve_base(settings.repo_root, settings.base_ref)
            state = prod_state.build(settings, base)
            print(f"slim-ci: production state ready in {state.state_dir}")
            return 0
        report = pipeline.run(
            settings, explicit_state=args.state is not None, rebuild_prod=args.rebuild_prod
        )
    except BadInput as exc:
        print(f"slim-ci: {exc}", file=sys.stderr)
        return 2
    except StepFailed as exc:
        print(f"slim-ci: {exc}", file=sys.stderr)
        return 1
    markdown = print_report(report, settings)
    # Where a pull-request comment step can pick the table up; the job summary in Actions.
    for out in filter(None, [settings.ci_dir / "data_diff.md", args.markdown_out]):
        Path(out).write_text(markdown)
    if summary := os.environ.get("GITHUB_STEP_SUMMARY"):
        with Path(summary).open("a") as f:
            f.write(markdown)
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
