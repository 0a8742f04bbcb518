"""A run's Spark session starts in the background when its resources are initialized, and the
first step that asks for it gets that session, or the error that stopped it (no JVM here: the
start itself is stood in for; the real one runs in every Spark and e2e test)."""

from __future__ import annotations

import threading

import dagster as dg
import pytest

from bank_assets.resources import SparkResource


class _Started(SparkResource):
    """SparkResource whose start records its thread and waits for the test to let it finish."""

    def _create_session(self) -> None:
        STARTS.append(threading.current_thread().name)
        RELEASE.wait(10)
        if FAIL:
            raise RuntimeError("no JVM today")
        self._remote = True  # nothing to make active in a JVM
        self._spark_session = "the session"


STARTS: list[str] = []
RELEASE = threading.Event()
FAIL: list[bool] = []


@pytest.fixture(autouse=True)
def _reset():
    STARTS.clear()
    RELEASE.clear()
    FAIL.clear()


def test_the_session_starts_while_the_run_goes_on_and_the_first_step_waits_for_it():
    with dg.build_resources({"spark": _Started()}) as resources:
        assert resources.spark._starting is not None  # started, not finished: nothing blocked
        RELEASE.set()
        assert resources.spark.session == "the session"
        assert resources.spark.session == "the session"
    assert STARTS == ["spark-session-start"]  # once, in the background thread


def test_a_failed_start_is_raised_in_the_step_that_needs_the_session():
    FAIL.append(True)
    with dg.build_resources({"spark": _Started()}) as resources:
        RELEASE.set()
        with pytest.raises(RuntimeError, match="no JVM today"):
            _ = resources.spark.session
