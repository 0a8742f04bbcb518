"""The shape of the asset graph, against a reviewed file: every asset's key, group, kinds and
partitions, its checks with their blocking flag, its owners and its tags (layer, domain, pii).
A change of shape that nobody meant fails here with a readable diff; a deliberate one updates
the file (see UPDATE) and is reviewed in the commit like code."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import dagster as dg

from bank_assets_tests.builders import definitions

EXPECTED = Path(__file__).with_name("asset_specs.txt")
UPDATE = "BANK_ASSETS_UPDATE_SPECS"
HOW_TO_UPDATE = f"{UPDATE}=1 pytest bank_assets_tests/dagster/test_asset_specs.py"
HEADER = (
    "# key | group | kinds | partitions | checks (! = blocking) | owners | tags\n"
    f"# After a deliberate change: {HOW_TO_UPDATE}, then review the diff.\n"
)


def partitions(node) -> str:
    p = node.partitions_def
    if p is None:
        return "unpartitioned"
    if isinstance(p, dg.DailyPartitionsDefinition):
        return f"daily from {p.start.date().isoformat()} {p.timezone}"
    return type(p).__name__  # anything else shows up in the diff by its kind


def describe(graph) -> str:
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        checks = sorted(
            graph.get_check_spec(c).name + ("!" if graph.get_check_spec(c).blocking else "")
            for c in node.check_keys
        )
        fields = [
            key.to_user_string(),
            node.group_name,
            ", ".join(sorted(node.kinds)),
            partitions(node),
            ", ".join(checks) or "-",
            ", ".join(node.owners) or "-",
            ", ".join(f"{k}={v}" for k, v in sorted(node.tags.items()) if "/" not in k) or "-",
        ]
        lines.append(" | ".join(fields))
    return HEADER + "\n".join(lines) + "\n"


def test_the_asset_graph_has_the_reviewed_shape():
    actual = describe(definitions().resolve_asset_graph())
    if os.environ.get(UPDATE) == "1":
        EXPECTED.write_text(actual)
    expected = EXPECTED.read_text()
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            f"{EXPECTED.name} (reviewed)",
            "the graph now",
        )
    )
    assert not diff, (
        f"the asset graph changed shape:\n{diff}\n"
        f"If the change is meant: {HOW_TO_UPDATE}, and review {EXPECTED.name} in the commit."
    )
