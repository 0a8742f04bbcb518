"""The calendar: Easter and the TARGET2 holidays, a day's calendar row (pure Python)."""

from __future__ import annotations

from datetime import date

import pytest

from bank_assets.model import dimensions


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5))],
)
def test_easter(year, easter):
    assert dimensions.easter(year) == easter


def test_calendar_row_of_good_friday_2026():
    row = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 4, 3))))
    assert row["date_key"] == 20260403
    assert row["day_name"] == "Friday" and row["day_of_week"] == 5
    assert row["is_target2_holiday"] and not row["is_business_day"] and not row["is_weekend"]
    assert (row["iso_week"], row["quarter"], row["is_month_end"]) == (14, 2, False)
    end = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 2, 28))))
    assert end["is_month_end"] and end["is_weekend"] and not end["is_business_day"]
