"""The bench's shape: the fixed + per-row fit, the steps' Spark jobs, `--sizes`."""

from __future__ import annotations

import pytest

from bank_assets.cli import parser
from bank_assets.cli.develop import fit_line, fit_shape, step_shape


def test_two_sizes_give_the_line_through_both():
    fixed, per_million = fit_line([(0.1, 40.0), (1.0, 112.0)])
    assert fixed == pytest.approx(32.0)
    assert per_million == pytest.approx(80.0)


def test_more_sizes_give_the_least_squares_line():
    # 10 + 20 x, with +1/-1/+1 of noise: the residuals cancel to the slope 20, intercept 10 + 1/3
    fixed, per_million = fit_line([(0.0, 11.0), (1.0, 29.0), (2.0, 51.0)])
    assert per_million == pytest.approx(20.0)
    assert fixed == pytest.approx(10 + 1 / 3)


def test_one_size_cannot_separate_fixed_from_per_row():
    with pytest.raises(ValueError, match="two or more sizes"):
        fit_line([(1.0, 90.0), (1.0, 92.0)])


def report(transactions: int, total: float, steps: dict[str, float]) -> dict:
    return {
        "transactions": transactions,
        "total_seconds": total,
        "steps": {k: {"seconds": v} for k, v in steps.items()},
    }


def test_the_shape_fits_the_total_and_each_step_that_ran_at_every_size():
    reports = [
        report(100_000, 40.0, {"raw/fx_rates": 8.0, "staged/transactions": 2.0, "only_small": 1}),
        report(1_000_000, 112.0, {"raw/fx_rates": 8.0, "staged/transactions": 11.0}),
    ]
    shape = fit_shape(reports)
    assert shape["total"] == {"fixed": 32.0, "per_million": 80.0}
    assert shape["steps"] == {
        "raw/fx_rates": {"fixed": 8.0, "per_million": 0.0},
        "staged/transactions": {"fixed": 1.0, "per_million": 10.0},
    }


def test_a_step_owns_the_spark_jobs_submitted_while_it_ran():
    windows = {"staged_small": (20.0, 30.0), "raw__fx_rates": (10.0, 20.0), "load": (30.5, 31.0)}
    assets = {"raw__fx_rates": ["raw/fx_rates"], "staged_small": ["staged/a", "staged/b"]}
    jobs = [
        {"submitted": 11.0, "stages": 1, "skipped_stages": 0, "tasks": 1},
        {"submitted": 21.0, "stages": 2, "skipped_stages": 1, "tasks": 9},
        {"submitted": 29.9, "stages": 1, "skipped_stages": 0, "tasks": 8},
        {"submitted": 30.2, "stages": 5, "skipped_stages": 0, "tasks": 5},  # between steps
    ]
    mib = 2**20
    samples = [(10.5, 900 * mib), (19.0, 1500 * mib), (25.0, 4000 * mib), (30.2, 5000 * mib)]
    shape = step_shape(windows, assets, jobs, samples)
    # in the order the steps ran; one asset: its key, several (or none): the step's key
    assert list(shape) == ["raw/fx_rates", "staged_small", "load"]
    assert shape["raw/fx_rates"] == {
        "seconds": 10.0,
        "assets": ["raw/fx_rates"],
        "jobs": 1,
        "stages": 1,
        "tasks": 1,
        "peak_rss_mb": 1500.0,  # the highest sample taken while the step ran
    }
    assert (shape["staged_small"]["jobs"], shape["staged_small"]["stages"]) == (2, 3)
    assert shape["staged_small"]["tasks"] == 17
    assert shape["staged_small"]["peak_rss_mb"] == 4000.0  # not the sample between the steps
    assert shape["load"]["jobs"] == 0
    assert shape["load"]["peak_rss_mb"] is None  # no sample while it ran


def test_sizes_are_two_or_more_different_counts():
    args = parser().parse_args(["bench", "--sizes", "100000, 1000000"])
    assert args.sizes == [100_000, 1_000_000]
    assert parser().parse_args(["bench"]).sizes is None
    for bad in ("100000", "5,5", "0,100", "a,b"):
        with pytest.raises(SystemExit):
            parser().parse_args(["bench", "--sizes", bad])
