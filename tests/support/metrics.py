"""The metric names the app exports, and the metric names a PromQL expression reads.

The exported names come from the app's own registry after every role's modules
are imported (what ``/metrics`` of a worker of each role serves), so a check
against them cannot drift from the code. The names an expression reads are
found by stripping what is not a metric name (strings, label matchers, ranges,
grouping clauses, functions, keywords): enough for the expressions of our rules
and dashboards, not a PromQL parser.
"""

from __future__ import annotations

import importlib
import re

from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric

from app.application import ROLE_MODULES

#: Sample names of each metric type, from the family's name.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}
KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"bool", "offset", "atan2", "inf", "nan"}
)
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_FUNCTIONS = re.compile(r"\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(")
_IDENTIFIERS = re.compile(r"(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*")


def sample_names(family: Metric) -> set[str]:
    """The names a family's samples carry in the text format."""
    names = {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names | {sample.name for sample in family.samples}


def exported_metric_names() -> set[str]:
    """Every sample name a worker of any role exports on ``/metrics``."""
    for modules in ROLE_MODULES.values():
        for module in modules:
            importlib.import_module(module)
    return {name for family in REGISTRY.collect() for name in sample_names(family)}


def metric_names_in(expression: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = _STRINGS.sub(" ", expression)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _FUNCTIONS.sub(" ", text)
    # Numbers with exponents or units (1e3, 0.01) leave no identifier behind.
    text = re.sub(r"\b\d[\w.]*", " ", text)
    return {name for name in _IDENTIFIERS.findall(text) if name.lower() not in KEYWORDS}
