"""kibana/saved_objects.ndjson: every field exists in the system_logs mapping, every reference resolves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.eventlog.indices import MAPPINGS, SYSTEM_LOGS

SAVED_OBJECTS = Path(__file__).resolve().parents[2] / "kibana" / "saved_objects.ndjson"
AGGREGATABLE = {"keyword", "date", "long", "integer", "float", "double"}
# ``field : value`` terms of a KQL query.
KQL_FIELD = re.compile(r"([\w.]+)\s*:")


def load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAVED_OBJECTS.read_text().splitlines() if line.strip()]


def mapped_types(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted field name -> type, for every field of the mapping."""
    types: dict[str, str] = {}
    for name, spec in properties.items():
        types[prefix + name] = spec.get("type", "object")
        types.update(mapped_types(spec.get("properties", {}), f"{prefix}{name}."))
    return types


FIELDS = mapped_types(MAPPINGS["properties"])
OBJECTS = load()


def of_type(kind: str) -> list[dict[str, Any]]:
    return [obj for obj in OBJECTS if obj["type"] == kind]


def test_the_data_view_is_system_logs_timed_by_timestamp() -> None:
    (view,) = of_type("index-pattern")
    assert view["attributes"]["title"] == SYSTEM_LOGS
    assert FIELDS[view["attributes"]["timeFieldName"]] == "date"


def test_ids_are_unique() -> None:
    ids = [(obj["type"], obj["id"]) for obj in OBJECTS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("obj", OBJECTS, ids=lambda obj: obj["id"])
def test_every_reference_resolves(obj: dict[str, Any]) -> None:
    present = {(o["type"], o["id"]) for o in OBJECTS}
    for reference in obj["references"]:
        assert (reference["type"], reference["id"]) in present, reference


@pytest.mark.parametrize("vis", of_type("visualization"), ids=lambda obj: obj["id"])
def test_visualization_fields_exist_and_aggregate(vis: dict[str, Any]) -> None:
    state = json.loads(vis["attributes"]["visState"])
    assert state["aggs"], "a visualization without aggregations shows nothing"
    for agg in state["aggs"]:
        field = agg["params"].get("field")
        if field is not None:
            assert FIELDS.get(field) in AGGREGATABLE, f"{agg['type']} on {field}"
    search = json.loads(vis["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    for field in KQL_FIELD.findall(search["query"]["query"]):
        assert field in FIELDS, field
    names = {ref["name"] for ref in vis["references"]}
    assert search["indexRefName"] in names


def test_every_visualization_is_on_a_dashboard_and_every_panel_resolves() -> None:
    shown = set()
    for dashboard in of_type("dashboard"):
        panels = json.loads(dashboard["attributes"]["panelsJSON"])
        references = {ref["name"]: ref for ref in dashboard["references"]}
        shown |= {references[panel["panelRefName"]]["id"] for panel in panels}
    assert shown == {vis["id"] for vis in of_type("visualization")}


def test_the_viewing_dashboard_shows_activity_and_distinct_viewers_per_title() -> None:
    aggs = {
        (agg["type"], agg["params"].get("field"))
        for vis in of_type("visualization")
        for agg in json.loads(vis["attributes"]["visState"])["aggs"]
    }
    assert {("cardinality", "user_id"), ("terms", "event.conteudo_id")} <= aggs
    titles = {d["attributes"]["title"] for d in of_type("dashboard")}
    assert "Plataforma de streaming: o que se assiste" in titles


def test_the_dashboard_has_the_promised_charts() -> None:
    aggs = {
        (agg["type"], agg["params"].get("field"))
        for vis in of_type("visualization")
        for agg in json.loads(vis["attributes"]["visState"])["aggs"]
    }
    assert {("terms", "event_type"), ("terms", "status"), ("date_histogram", "timestamp")} <= aggs
    latency = [
        agg
        for vis in of_type("visualization")
        for agg in json.loads(vis["attributes"]["visState"])["aggs"]
        if agg["type"] == "percentiles"
    ]
    assert [(a["params"]["field"], a["params"]["percents"]) for a in latency] == [
        ("latency_ms", [50, 95, 99])
    ]
    queries = [
        json.loads(v["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])["query"]["query"]
        for v in of_type("visualization")
    ]
    assert 'topic : "dead_letters"' in queries
