# Thin wrappers: every target first makes sure uv exists and the environment is synced,
# so on a fresh machine `make run` and `make test` are the only two commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export TECHFLOW_DATA_DIR ?= $(CURDIR)/data
export TECHFLOW_WAREHOUSE ?= $(TECHFLOW_DATA_DIR)/warehouse/techflow.duckdb
# The dbt manifest Dagster loads (parsed for the prod target); rebuilt only when the project changes.
MANIFEST := techflow_dbt/target/dagster/manifest.json
DBT_PROJECT_FILES := $(shell find techflow_dbt/models techflow_dbt/macros techflow_dbt/seeds \
	techflow_dbt/snapshots techflow_dbt/tests -type f 2>/dev/null) techflow_dbt/dbt_project.yml
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
RUN := $(UV) run --locked

.PHONY: help setup manifest run test lint bench dev docs ci-slim clean metrics dashboards

help:
	@echo "make run    generate the world and build the warehouse"
	@echo "make test   lint and run the whole test suite"
	@echo "make dev    open the Dagster UI on http://127.0.0.1:3000"
	@echo "make metrics   ask the semantic layer (default: MRR by month x product)"
	@echo "make dashboards  serve the dashboards on 127.0.0.1 (free port, printed)"
	@echo "make lint | bench | docs | ci-slim | clean"

# --compile-bytecode: write every package's .pyc once, at install. Without it a Python process
# that may not write bytecode (PYTHONDONTWRITEBYTECODE, as on our machines) compiles dagster, dbt
# and their dependencies from source at every start: each Dagster process and each dbt command
# paid 3-7 s for it. An up-to-date environment re-checks in about a second.
setup:
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@$(UV) sync --locked --quiet --compile-bytecode

manifest: setup $(MANIFEST)

$(MANIFEST): $(DBT_PROJECT_FILES)
	$(RUN) python -m techflow_orchestration.project

run: setup manifest
	$(RUN) python -m techflow_ops.run_all

dev: setup manifest
	$(RUN) dg dev -h 127.0.0.1 -p 3000

# The semantic layer is validated with MetricFlow's own `mf validate-configs`, on the semantic
# manifest parsed with Dagster's (mf reads target/semantic_manifest.json).
lint: setup manifest
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	cd techflow_dbt && TECHFLOW_WAREHOUSE=:memory: $(RUN) sqlfluff lint models snapshots analyses tests
	$(RUN) check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(RUN) zizmor --offline --persona=pedantic .github/workflows
	$(RUN) dg check defs
	cp techflow_dbt/target/dagster/semantic_manifest.json techflow_dbt/target/semantic_manifest.json
	cd techflow_dbt && TECHFLOW_WAREHOUSE=:memory: $(RUN) mf validate-configs --skip-dw

test: setup lint
	$(RUN) pytest

# The speed targets (docs/measurements.md) side by side in one run, a ✔/✘ table at the end (tens of
# minutes; BENCH_QUICK=1: the same benches on small worlds, to check they work).
bench: setup manifest
	$(RUN) python -m benchmarks

# Slim CI as the pull-request workflow runs it: state:modified+ --defer against production
# (built from main into $$TECHFLOW_DATA_DIR/prod_artifacts when missing), SQLFluff on changed
# files, data diff. REBUILD_PROD=1 rebuilds production first; STATE=<dir> uses a downloaded
# prod-state artifact instead (never built).
ci-slim: setup
	$(RUN) python -m slim_ci $(if $(REBUILD_PROD),--rebuild-prod) $(if $(STATE),--state $(STATE))

# The semantic layer from the shell, read-only: METRICS and GROUP_BY are comma-separated
# MetricFlow names (`python -m techflow_metrics --list` lists the metrics).
METRICS ?= mrr,arr
GROUP_BY ?= metric_time__month,mrr_line__product
metrics: setup manifest
	$(RUN) python -m techflow_metrics --metrics $(METRICS) --group-by $(GROUP_BY)

# The static dashboards make run built, served on 127.0.0.1 on a free port (printed).
dashboards: setup
	$(RUN) python -m techflow_dashboards.serve

# dbt docs site, served on 127.0.0.1 on a free port (printed).
docs: setup
	$(RUN) python -m slim_ci.docs

clean:
	rm -rf data techflow_dbt/target techflow_dbt/logs
