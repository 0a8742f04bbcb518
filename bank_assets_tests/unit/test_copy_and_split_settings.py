"""The COPY connections and landing split size: from the environment (settings.py), with
defaults well under PostgreSQL's max_connections, and the COPY's files balanced over them."""

from __future__ import annotations

import pytest

from bank_assets.io.spark.tables import balanced
from bank_assets.settings import ConfigurationError, Settings


def test_defaults_and_values_from_the_environment():
    default = Settings.from_env({})
    assert (default.copy_connections, default.landing_split_bytes) == (4, 64 << 20)
    given = Settings.from_env(
        {"BANK_ASSETS_COPY_CONNECTIONS": "2", "BANK_ASSETS_LANDING_SPLIT_MB": "8"}
    )
    assert (given.copy_connections, given.landing_split_bytes) == (2, 8 << 20)


@pytest.mark.parametrize("value", ["0", "-1", "four", "1.5"])
def test_a_value_that_is_not_a_count_is_refused_naming_the_variable(value):
    with pytest.raises(ConfigurationError, match="BANK_ASSETS_COPY_CONNECTIONS"):
        Settings.from_env({"BANK_ASSETS_COPY_CONNECTIONS": value})


def test_the_copys_files_are_balanced_over_at_most_the_connections():
    files = [("a", 50), ("b", 10), ("c", 40), ("d", 30), ("e", 20), ("f", 5)]
    groups = balanced(files, 3)
    assert sorted(sum(dict(files)[f] for f in g) for g in groups) == [50, 50, 55]
    assert sorted(f for g in groups for f in g) == list("abcdef")
    assert all(g == sorted(g) for g in groups)  # each group in the files' order
    assert balanced(files[:2], 4) == [["a"], ["b"]]  # never more tasks than files
    assert balanced(files, 1) == [list("abcdef")]
