"""The marts are governed as interfaces, and the DAG keeps dbt-project-evaluator's rules.

dbt-project-evaluator (dbt-labs) is a hub package this machine cannot install, so the rules that
matter are checked here, on the prepared manifest, each written from the rule's description.
Where the project differs on purpose, the finding is listed in the package's own exceptions seed
(techflow_dbt/seeds/dbt_project_evaluator_exceptions.csv: rule, column, value or LIKE pattern,
reason), which these tests honour exactly as the package would; an exception that no longer
matches any finding fails too, so the list cannot rot. Findings carry the package's column
names, so one exceptions file serves both.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.support import DBT_PROJECT_DIR, DbtProject, small_world_start

EXCEPTIONS_SEED = DBT_PROJECT_DIR / "seeds" / "dbt_project_evaluator_exceptions.csv"
MODELS_FANOUT_THRESHOLD = 3
TOO_MANY_JOINS_THRESHOLD = 7
# The project's convention (dbt_project.yml, vars.dbt_project_evaluator): model type by prefix,
# and the folder it lives in.
FOLDER_BY_PREFIX = {
    "stg_": "staging",
    "int_": "intermediate",
    "fct_": "marts",
    "dim_": "marts",
    "rpt_": "marts",
}
PRIMARY_KEY_COMPOUND_TEST = "expect_compound_columns_to_be_unique"

Finding = dict[str, str]


class Graph:
    """The manifest as the rules read it: models, their parents and children, tests, sources."""

    def __init__(self, manifest: dict[str, Any]) -> None:
        self.manifest = manifest
        nodes = manifest["nodes"]
        self.models = {uid: node for uid, node in nodes.items() if node["resource_type"] == "model"}
        self.sources = manifest["sources"]
        self.exposures = manifest["exposures"]
        self.tests = [node for node in nodes.values() if node["resource_type"] == "test"]
        self.children: dict[str, set[str]] = defaultdict(set)
        for uid, node in [*self.models.items(), *self.exposures.items()]:
            for parent in node["depends_on"]["nodes"]:
                self.children[parent].add(uid)

    def name(self, uid: str) -> str:
        """The evaluator's resource name: source_name.name for sources, name.vN for versions."""
        if uid in self.sources:
            source = self.sources[uid]
            return f"{source['source_name']}.{source['name']}"
        node = self.models.get(uid) or self.manifest["nodes"][uid]
        return f"{node['name']}.v{node['version']}" if node.get("version") else node["name"]

    def model_parents(self, uid: str) -> set[str]:
        return {p for p in self.models[uid]["depends_on"]["nodes"] if p in self.models}

    def parents(self, uid: str) -> set[str]:
        """Direct parents that are models, seeds or sources (the DAG the rules walk)."""
        return {
            p
            for p in self.models[uid]["depends_on"]["nodes"]
            if p in self.models or p in self.sources or p.startswith("seed.")
        }

    def model_children(self, uid: str) -> set[str]:
        return {c for c in self.children[uid] if c in self.models}

    @staticmethod
    def is_staging(node: dict[str, Any]) -> bool:
        return node["name"].startswith("stg_")


# --- the rules ------------------------------------------------------------------------------


def public_models_without_contract(g: Graph) -> Iterator[Finding]:
    for uid, node in g.models.items():
        if node["access"] != "public":
            continue
        untyped = [c for c, col in node["columns"].items() if not col.get("data_type")]
        if not node["config"]["contract"]["enforced"] or untyped:
            yield {"resource_name": g.name(uid), "untyped_columns": ", ".join(untyped)}


def undocumented_public_models(g: Graph) -> Iterator[Finding]:
    for uid, node in g.models.items():
        if node["access"] == "public":
            bare = [c for c, col in node["columns"].items() if not col.get("description")]
            if not node.get("description") or bare:
                yield {"resource_name": g.name(uid), "undescribed_columns": ", ".join(bare)}


def exposures_dependent_on_private_models(g: Graph) -> Iterator[Finding]:
    for exposure in g.exposures.values():
        for parent in exposure["depends_on"]["nodes"]:
            if parent in g.models and g.models[parent]["access"] != "public":
                yield {"exposure_name": exposure["name"], "parent_resource_name": g.name(parent)}


def missing_primary_key_tests(g: Graph) -> Iterator[Finding]:
    """Unique + not_null on one column, or a compound-unique test on the model."""
    tests: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for test in g.tests:
        kind = (test.get("test_metadata") or {}).get("name")
        if test.get("attached_node"):
            tests[test["attached_node"]].append((kind, test.get("column_name")))
    for uid in g.models:
        found = tests[uid]
        unique = {column for kind, column in found if kind == "unique"}
        not_null = {column for kind, column in found if kind == "not_null"}
        compound = any(kind == PRIMARY_KEY_COMPOUND_TEST for kind, _ in found)
        if not (unique & not_null or compound):
            yield {"resource_name": g.name(uid)}


def staging_dependent_on_staging(g: Graph) -> Iterator[Finding]:
    for uid, node in g.models.items():
        for parent in g.model_parents(uid):
            if g.is_staging(node) and g.is_staging(g.models[parent]):
                yield {"parent": g.name(parent), "child": g.name(uid)}


def multiple_sources_joined(g: Graph) -> Iterator[Finding]:
    for uid, node in g.models.items():
        sources = sorted(g.name(p) for p in node["depends_on"]["nodes"] if p in g.sources)
        if len(sources) > 1:
            yield {"child": g.name(uid), "source_parents": ", ".join(sources)}


def source_fanout(g: Graph) -> Iterator[Finding]:
    for uid in g.sources:
        children = sorted(g.name(c) for c in g.children[uid] if c in g.models)
        if len(children) > 1:
            yield {"parent": g.name(uid), "model_children": ", ".join(children)}


def marts_or_intermediate_dependent_on_source(g: Graph) -> Iterator[Finding]:
    for uid, node in g.models.items():
        if not g.is_staging(node):
            for parent in node["depends_on"]["nodes"]:
                if parent in g.sources:
                    yield {"parent": g.name(parent), "child": g.name(uid)}


def model_fanout(g: Graph) -> Iterator[Finding]:
    """A model with MODELS_FANOUT_THRESHOLD or more direct children that are leaves (models no
    other model reads; an exposure does not count)."""
    for uid in g.models:
        leaves = sorted(g.name(c) for c in g.model_children(uid) if not g.model_children(c))
        if len(leaves) >= MODELS_FANOUT_THRESHOLD:
            yield {"parent": g.name(uid), "leaf_children": ", ".join(leaves)}


def rejoining_of_upstream_concepts(g: Graph) -> Iterator[Finding]:
    """A parent read by a model both directly and through a model in between whose only child
    is that model: the in-between model could be folded into it."""
    for child in g.models:
        parents = g.parents(child)
        for between in parents & set(g.models):
            if g.model_children(between) != {child} or g.children[between] - {child}:
                continue
            for parent in parents & g.parents(between):
                yield {
                    "parent": g.name(parent),
                    "child": g.name(child),
                    "parent_and_child": g.name(between),
                }


def model_directories(g: Graph) -> Iterator[Finding]:
    """stg_ under models/staging/<its source>/, int_ under models/intermediate/, fct_, dim_ and
    rpt_ under models/marts/<domain>/ (reports are marts of their domain, no reports folder)."""
    for uid, node in g.models.items():
        prefix = node["name"].split("_")[0] + "_"
        folder = FOLDER_BY_PREFIX.get(prefix)
        path = Path(node["original_file_path"])
        if folder is None:
            continue
        wrong = path.parts[1] != folder
        if prefix == "stg_" and not wrong:
            sources = {
                g.sources[p]["source_name"] for p in node["depends_on"]["nodes"] if p in g.sources
            }
            wrong = bool(sources) and path.parts[2] not in sources
        if wrong:
            yield {"resource_name": g.name(uid), "current_file_path": str(path)}


def model_naming_conventions(g: Graph) -> Iterator[Finding]:
    """Every model's prefix is one of the conventions, outside the semantic layer's own models
    (MetricFlow names its time spine)."""
    for uid, node in g.models.items():
        prefix = node["name"].split("_")[0] + "_"
        if (
            prefix not in FOLDER_BY_PREFIX
            and Path(node["original_file_path"]).parts[1] != "semantic"
        ):
            yield {"resource_name": g.name(uid), "prefix": prefix}


def too_many_joins(g: Graph) -> Iterator[Finding]:
    """A model reading TOO_MANY_JOINS_THRESHOLD or more direct parents."""
    for uid in g.models:
        parents = g.parents(uid)
        if len(parents) >= TOO_MANY_JOINS_THRESHOLD:
            yield {"resource_name": g.name(uid), "join_count": str(len(parents))}


def sources_without_freshness(g: Graph) -> Iterator[Finding]:
    for uid, source in g.sources.items():
        freshness = source.get("freshness") or {}
        if not (freshness.get("warn_after") or {}).get("count") and not (
            freshness.get("error_after") or {}
        ).get("count"):
            yield {"resource_name": g.name(uid)}


RULES: dict[str, Callable[[Graph], Iterator[Finding]]] = {
    f"fct_{rule.__name__}": rule
    for rule in (
        public_models_without_contract,
        undocumented_public_models,
        exposures_dependent_on_private_models,
        missing_primary_key_tests,
        staging_dependent_on_staging,
        multiple_sources_joined,
        source_fanout,
        marts_or_intermediate_dependent_on_source,
        model_fanout,
        rejoining_of_upstream_concepts,
        model_directories,
        model_naming_conventions,
        too_many_joins,
        sources_without_freshness,
    )
}


# --- exceptions, as the package reads them --------------------------------------------------


def exceptions() -> list[dict[str, str]]:
    with EXCEPTIONS_SEED.open(newline="") as handle:
        return list(csv.DictReader(handle))


def like(value: str, pattern: str) -> bool:
    """SQL LIKE, as the package filters with `column not like 'pattern'`."""
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def excepted(rule: str, finding: Finding, rows: list[dict[str, str]]) -> bool:
    return any(
        row["fct_name"] == rule and like(finding.get(row["column_name"], ""), row["id_to_exclude"])
        for row in rows
    )


# --- tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graph(prepared_manifest: Path) -> Graph:
    return Graph(json.loads(prepared_manifest.read_text()))


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_finding_outside_the_documented_exceptions(graph: Graph, rule: str) -> None:
    rows = exceptions()
    findings = [f for f in RULES[rule](graph) if not excepted(rule, f, rows)]
    assert findings == []


def test_every_exception_names_a_rule_has_a_reason_and_still_matches_a_finding(graph) -> None:
    for row in exceptions():
        assert row["fct_name"] in RULES, row
        assert len(row["comment"].split()) >= 8, f"say why: {row}"
        found = list(RULES[row["fct_name"]](graph))
        assert any(like(f.get(row["column_name"], ""), row["id_to_exclude"]) for f in found), (
            f"stale exception (nothing to except any more; delete it): {row}"
        )


def test_the_rules_find_what_they_describe() -> None:
    """Each rule on a hand-made graph that breaks it, so a rule that never fires cannot pass."""
    src_x, src_y = "source.p.a.x", "source.p.a.y"
    nodes = [
        model("stg_a__x", "staging/a", [src_x, src_y]),
        model("stg_a__y", "staging/a", ["model.p.stg_a__x", src_y]),
        model("int_b", "intermediate", ["model.p.stg_a__x"]),
        model("fct_c", "marts", ["model.p.stg_a__x", "model.p.int_b"], access="public"),
        model("rpt_d", "reports", ["model.p.fct_c"]),
        model("dim_e", "marts", ["model.p.fct_c"]),
        model("fct_f", "marts", ["model.p.fct_c", src_x]),
        model("agg_g", "marts", ["model.p.fct_c"]),
        model("fct_h", "marts", [f"seed.p.s{n}" for n in range(7)]),
    ]
    manifest = {
        "nodes": {f"model.p.{node['name']}": node for node in nodes},
        "sources": {
            src_x: {"source_name": "a", "name": "x", "freshness": {}},
            src_y: {"source_name": "a", "name": "y", "freshness": {"warn_after": {"count": 1}}},
        },
        "exposures": {
            "exposure.p.dash": {"name": "dash", "depends_on": {"nodes": ["model.p.dim_e"]}}
        },
    }
    found = {rule: list(RULES[rule](Graph(manifest))) for rule in RULES}

    def column(rule: str, name: str) -> list[str]:
        return sorted(finding[name] for finding in found[f"fct_{rule}"])

    assert column("public_models_without_contract", "resource_name") == ["fct_c"]
    assert column("undocumented_public_models", "resource_name") == ["fct_c"]
    assert found["fct_exposures_dependent_on_private_models"] == [
        {"exposure_name": "dash", "parent_resource_name": "dim_e"}
    ]
    assert len(found["fct_missing_primary_key_tests"]) == len(nodes)
    assert found["fct_staging_dependent_on_staging"] == [
        {"parent": "stg_a__x", "child": "stg_a__y"}
    ]
    assert column("multiple_sources_joined", "child") == ["stg_a__x"]
    assert column("source_fanout", "parent") == ["a.x", "a.y"]
    assert column("marts_or_intermediate_dependent_on_source", "child") == ["fct_f"]
    assert found["fct_model_fanout"] == [
        {"parent": "fct_c", "leaf_children": "agg_g, dim_e, fct_f, rpt_d"}
    ]
    assert {"parent": "stg_a__x", "child": "fct_c", "parent_and_child": "int_b"} in found[
        "fct_rejoining_of_upstream_concepts"
    ]
    assert column("model_directories", "resource_name") == ["rpt_d"]
    assert column("model_naming_conventions", "resource_name") == ["agg_g"]
    assert column("too_many_joins", "resource_name") == ["fct_h"]
    assert column("sources_without_freshness", "resource_name") == ["a.x"]


def model(name: str, folder: str, parents: list[str], access: str = "protected") -> dict[str, Any]:
    return {
        "resource_type": "model",
        "name": name,
        "original_file_path": f"models/{folder}/{name}.sql",
        "depends_on": {"nodes": parents},
        "access": access,
        "columns": {"id": {"name": "id", "description": "", "data_type": None}},
        "config": {"contract": {"enforced": False}},
        "description": "",
    }


def test_the_applied_periods_record_is_a_tested_node_downstream_of_fct_mrr_daily(graph) -> None:
    [uid] = [u for u, n in graph.models.items() if n["name"] == "int_mrr_applied_periods"]
    assert "model.techflow.fct_mrr_daily" in graph.models[uid]["depends_on"]["nodes"]
    assert graph.models[uid]["description"]
    checks = {t["name"] for t in graph.tests if uid in t["depends_on"]["nodes"]}
    assert "assert_mrr_applied_periods_reproduce_fct_mrr_daily" in checks


def test_groups_own_every_model_and_the_layers_keep_their_access(graph) -> None:
    groups = {group["name"] for group in graph.manifest["groups"].values()}
    for node in graph.models.values():
        assert node["group"] in groups, node["name"]
        layer = Path(node["original_file_path"]).parts[1]
        expected = {
            "marts": {"public"},
            "staging": {"protected"},
            "intermediate": {"private", "protected"},
        }
        assert node["access"] in expected.get(layer, {"public", "protected", "private"}), node[
            "name"
        ]


def mart_yaml(graph: Graph, model_uid: str) -> Path:
    """Where a mart's YAML belongs: beside its SQL, named after the model (all versions in one)."""
    node = graph.models[model_uid]
    return Path(node["original_file_path"]).with_name(f"{node['name']}.yml")


def semantic_inputs(graph: Graph, metric_uid: str) -> set[str]:
    """The semantic models a metric's measures come from, through ratio/derived inputs."""
    inputs = set()
    for parent in graph.manifest["metrics"][metric_uid]["depends_on"]["nodes"]:
        inputs |= (
            {parent} if parent.startswith("semantic_model.") else semantic_inputs(graph, parent)
        )
    return inputs


def test_each_mart_keeps_its_docs_tests_and_semantic_layer_in_one_yaml_beside_it(graph) -> None:
    """jaffle-shop's layout: marts/<domain>/<mart>.yml holds the mart's description, config,
    columns and data tests, its unit tests, the semantic models over it and the metrics on them;
    a metric over several semantic models would live in marts/<domain>/_<domain>__metrics.yml."""
    marts = {
        uid: node
        for uid, node in graph.models.items()
        if Path(node["original_file_path"]).parts[1] == "marts"
    }
    expected_files = set()
    for uid, node in marts.items():
        expected_files.add(mart_yaml(graph, uid))
        assert node["patch_path"] == f"techflow://{mart_yaml(graph, uid)}", node["name"]
    for test in graph.manifest["unit_tests"].values():
        [model_uid] = test["depends_on"]["nodes"]
        if model_uid in marts:
            assert Path(test["original_file_path"]) == mart_yaml(graph, model_uid), test["name"]
    semantic_files = {}
    for uid, semantic_model in graph.manifest["semantic_models"].items():
        [model_uid] = semantic_model["depends_on"]["nodes"]
        semantic_files[uid] = mart_yaml(graph, model_uid)
        assert Path(semantic_model["original_file_path"]) == semantic_files[uid], uid
    for uid, metric in graph.manifest["metrics"].items():
        files = {semantic_files[s] for s in semantic_inputs(graph, uid)}
        if len(files) > 1:
            domain = next(iter(files)).parent
            files = {domain / f"_{domain.name}__metrics.yml"}
            expected_files |= files
        assert {Path(metric["original_file_path"])} == files, metric["name"]
    # No stray per-folder YAML left beside the marts.
    on_disk = {
        path.relative_to(DBT_PROJECT_DIR)
        for path in (DBT_PROJECT_DIR / "models" / "marts").rglob("*.yml")
    }
    assert on_disk == expected_files


def test_rpt_marketing_roi_is_versioned_with_roi_only_in_the_deprecated_version(graph) -> None:
    versions = {
        node["version"]: node
        for node in graph.models.values()
        if node["name"] == "rpt_marketing_roi"
    }
    assert set(versions) == {1, 2} and versions[2]["latest_version"] == 2
    assert "roi" not in versions[2]["columns"] and "roi" in versions[1]["columns"]
    assert versions[1]["deprecation_date"] and not versions[2].get("deprecation_date")
    assert versions[2]["alias"] == "rpt_marketing_roi"


@pytest.mark.slow
def test_a_record_out_of_step_with_fct_mrr_daily_fails_its_test(
    built_warehouse: DbtProject, tmp_path: Path
) -> None:
    """fct_mrr_daily restored from an older backup than its applied-periods record (here: the
    record loses a paying period) would make the next incremental build skip changes; the
    record's test names the customer and product instead."""
    data_dir = tmp_path / "data"
    (data_dir / "raw").parent.mkdir(parents=True)
    (data_dir / "raw").symlink_to(built_warehouse.raw_dir.resolve(), target_is_directory=True)
    project = DbtProject(data_dir=data_dir, world_start=small_world_start())
    shutil.copytree(built_warehouse.warehouse.parent, project.warehouse.parent)  # dbt's build file
    [(customer, product)] = project.query(
        "select customer_id, product from finance.fct_mrr_daily "
        "where date_day = (select max(date_day) from finance.fct_mrr_daily) and mrr > 0 "
        "order by all limit 1"
    )
    with duckdb.connect(str(project.warehouse)) as con:
        con.execute(
            "delete from intermediate.fct_mrr_daily__applied_periods "
            "where customer_id = ? and product = ?",
            [customer, product],
        )
    invocation = project.dbt(
        "test", "--select", "assert_mrr_applied_periods_reproduce_fct_mrr_daily", "--store-failures"
    )
    assert not invocation.success
    [result] = invocation.results
    [(failed_customer, failed_product, recorded, built)] = project.query(
        f"select * from {result.node.relation_name}"
    )
    assert (failed_customer, failed_product, recorded) == (customer, product, None)
    assert built > 0


# --- identifier length --------------------------------------------------------------------------

# PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1) and dbt-postgres refuses a
# relation name over it, so a unit test named over 63 characters cannot run there; Redshift
# stops at 127, Snowflake and BigQuery go further. 63 is the bound every warehouse we target holds.
IDENTIFIER_LIMIT = 63


def names_over_the_identifier_limit(manifest: dict[str, Any]) -> list[str]:
    """`<unique_id>: <name> (<length>)` for each name or relation alias over IDENTIFIER_LIMIT.

    Every node a person names (models, seeds, snapshots, singular tests, unit tests) is checked by
    name and alias. A generic test's name is generated from its arguments (often over 100
    characters) and dbt already gives such a test a hashed alias within the limit: its alias,
    the only identifier it puts in the warehouse, is what is checked.
    """
    too_long = []
    for uid, node in [*manifest["nodes"].items(), *manifest.get("unit_tests", {}).items()]:
        generated = bool(node.get("test_metadata"))
        names = {node.get("alias")} if generated else {node["name"], node.get("alias")}
        too_long += [
            f"{uid}: {name} ({len(name)})"
            for name in sorted(name for name in names if name)
            if len(name.encode()) > IDENTIFIER_LIMIT
        ]
    return too_long


def test_every_node_name_fits_a_postgres_identifier(graph: Graph) -> None:
    assert names_over_the_identifier_limit(graph.manifest) == [], (
        f"rename these nodes to at most {IDENTIFIER_LIMIT} characters"
    )


def test_the_identifier_check_finds_long_names_and_spares_generated_ones() -> None:
    long_name = "test_" + "x" * 59  # 64 characters
    generic_test = {
        "name": "accepted_values_" + "y" * 80,
        "alias": "accepted_values_" + "0" * 32,
        "test_metadata": {"name": "accepted_values"},
    }
    manifest = {
        "nodes": {
            "model.techflow.ok": {"name": "fct_ok", "alias": "fct_ok"},
            "model.techflow.aliased": {"name": "fct_ok_too", "alias": "z" * 64},
            "test.techflow.generic": generic_test,
            "test.techflow.singular": {"name": long_name, "alias": long_name},
        },
        "unit_tests": {"unit_test.techflow.fct_ok.long": {"name": long_name}},
    }
    assert names_over_the_identifier_limit(manifest) == [
        f"model.techflow.aliased: {'z' * 64} (64)",
        f"test.techflow.singular: {long_name} (64)",
        f"unit_test.techflow.fct_ok.long: {long_name} (64)",
    ]
