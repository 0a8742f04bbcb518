"""The calendar: TARGET2 closing days from `holidays` checked against the rule, French holidays
as a column of their own, a day's calendar row (pure Python)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bank_assets.model import dimensions


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm): the reference the calendar's
    TARGET2 days are checked against, written independently of the `holidays` package."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month = (h + el - 7 * m + 114) // 31
    return date(year, month, (h + el - 7 * m + 114) % 31 + 1)


def target2_closing_days(year: int) -> set[date]:
    """The TARGET2 rule: New Year, Good Friday, Easter Monday, 1 May, 25 and 26 December."""
    e = easter(year)
    return {
        date(year, 1, 1),
        e - timedelta(days=2),
        e + timedelta(days=1),
        date(year, 5, 1),
        date(year, 12, 25),
        date(year, 12, 26),
    }


@pytest.mark.parametrize(
    ("year", "sunday"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5))],
)
def test_easter(year, sunday):
    assert easter(year) == sunday


def calendar(first: date, last: date) -> list[dict]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(d))) for d in days]


def test_target2_days_are_the_rule_2015_2035():
    rows = calendar(*dimensions.CALENDAR)
    closing = set().union(*(target2_closing_days(y) for y in range(2015, 2036)))
    assert {r["full_date"] for r in rows if r["is_target2_holiday"]} == closing
    assert len(closing) == 6 * 21
    for r in rows:
        weekend = r["full_date"].isoweekday() >= 6
        assert r["is_business_day"] == (not weekend and r["full_date"] not in closing)


def test_french_holidays_are_a_column_of_their_own():
    rows = {r["full_date"]: r for r in calendar(date(2026, 1, 1), date(2026, 12, 31))}
    french = {d: r["french_holiday_name"] for d, r in rows.items() if r["is_french_holiday"]}
    # the eleven national days of metropolitan France in 2026
    assert sorted(french) == [
        date(2026, 1, 1),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]
    assert french[date(2026, 7, 14)] == "National Day"
    assert all(
        r["french_holiday_name"] is None for r in rows.values() if not r["is_french_holiday"]
    )
    # a French holiday that is no TARGET2 closing day stays a business day
    armistice = rows[date(2026, 11, 11)]
    assert armistice["is_business_day"] and not armistice["is_target2_holiday"]
    # Good Friday closes TARGET2 but is no national holiday in France
    assert not rows[date(2026, 4, 3)]["is_french_holiday"]


def test_calendar_row_of_good_friday_2026():
    row = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 4, 3))))
    assert row["date_key"] == 20260403
    assert row["day_name"] == "Friday" and row["day_of_week"] == 5
    assert row["is_target2_holiday"] and not row["is_business_day"] and not row["is_weekend"]
    assert (row["iso_week"], row["quarter"], row["is_month_end"]) == (14, 2, False)
    end = dict(zip(dimensions.DIM_DATES_SCHEMA.names, dimensions.calendar_row(date(2026, 2, 28))))
    assert end["is_month_end"] and end["is_weekend"] and not end["is_business_day"]
