"""The rule catalogue against staging's rules: every error rule names the staging rule that
quarantines its rows (staging's rules are Spark columns: a session is needed to build them)."""

from __future__ import annotations

from bank_assets.model import quality
from bank_assets.model.staging import STAGING, all_rules
from bank_assets_tests.conftest import DAY


def test_every_error_rule_names_a_staging_rule_of_its_table(spark):
    for table, rules in quality.CATALOGUE.items():
        zone, name = table.split("/")
        for rule in rules:
            assert rule.severity in (quality.FATAL, quality.ERROR, quality.WARN)
            if rule.severity == quality.ERROR:
                assert zone == "staged", table
                assert rule.quarantined_as in {r.id for r in all_rules(STAGING[name], DAY)}
