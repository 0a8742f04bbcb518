"""The Dagster UI in a real browser, as a user reviews a 2-day range run (called by
test_running_deployment, whose deployment has run a day, a 2-day range failing on its second day,
then a 2-day range of other sizes).

Debian's chromium, driven through its own chromedriver by Selenium, opens the asset graph, the
Checks tab of staged/transactions and its execution history, and the asset's Partitions tab. What
the pages show is compared with the landing manifests; the asset graph and the check history
are saved to docs/asset_graph.png and docs/check_history.png (the README shows them).

Selenium rather than Playwright: Debian packages chromium with the chromedriver of the same
version, so nothing is downloaded at test time, while Playwright pins its own browser builds and
drives others only through a version-sensitive CDP connection.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"  # the README shows the screenshots
WAIT = 60  # seconds for a page to show what is asserted (the data is there before it opens)
ASSET = "staged/transactions"
CHECK = "rows_accounted_for"
IN_GRAPH = "//*[name()='svg']//*"  # the asset graph is an SVG; the sidebar repeats its names


@contextmanager
def chromium() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and driver):
        pytest.fail(
            "needs Debian's chromium and chromedriver: `make browser` (as root) installs them"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # headless, as root in a container: no sandbox, no /dev/shm (often 64 MB there)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(arg)
    options.add_argument("--window-size=1600,1000")
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def wait(chrome, what: str, found):
    """`found(chrome)` once it returns something true (re-read while the page renders)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(chrome, WAIT, ignored_exceptions=[StaleElementReferenceException]).until(
        found, message=f"the page did not show {what} within {WAIT}s: {chrome.current_url}"
    )


def shown(chrome, xpath: str) -> list:
    return [e for e in chrome.find_elements("xpath", xpath) if e.is_displayed()]


def table_rows(chrome, first_column: str) -> list[dict[str, str]] | None:
    """The rows of the table whose first header is `first_column`, as {header: text}."""
    tables = shown(chrome, f"//table[.//th[1][normalize-space()='{first_column}']]")
    if not tables:
        return None
    heads = [th.text.strip() for th in tables[0].find_elements("xpath", ".//thead//th")]
    rows = tables[0].find_elements("xpath", ".//tbody/tr")
    return [
        dict(zip(heads, (td.text.strip() for td in r.find_elements("xpath", "./td")))) for r in rows
    ]


def metadata_value(chrome, label: str) -> str | None:
    """The value of a metadata entry of the materialization shown (label cell, value cell)."""
    cells = shown(chrome, f"//tr[td[1][normalize-space()='{label}']]/td[2]")
    return cells[0].text.strip() if cells else None


def graph_screenshot(chrome, base: str, path: Path) -> None:
    """The global asset graph shows every layer; the asset's lineage, saved, shows its checks."""
    chrome.get(f"{base}/asset-groups")
    for group in ("raw", "staged", "curated", "quarantine", "warehouse"):
        wait(chrome, f"the group {group}", lambda c, g=group: shown(c, f"{IN_GRAPH}[text()='{g}']"))
    chrome.get(f"{base}/assets/{ASSET}?view=lineage&lineageDepth=1")
    # raw -> staged -> curated, each node's check results loaded ("12 / 12 Passed")
    checks = f"{IN_GRAPH}[text()='Asset checks']/following-sibling::*[contains(., ' / ')]"
    wait(chrome, "the check results of 3 assets", lambda c: len(shown(c, checks)) >= 3)
    assert chrome.save_screenshot(str(path))


def check_history(chrome, base: str, executions: int, path: Path) -> list[tuple[str, str]]:
    """The Checks tab's execution history of CHECK (saved to `path`) as (partition, result)."""
    chrome.get(f"{base}/assets/{ASSET}?view=checks&checkDetail={CHECK}")
    tab = wait(
        chrome, "the Execution history tab", lambda c: shown(c, "//*[text()='Execution history']")
    )
    tab[0].click()
    rows = wait(
        chrome,
        f"{executions} executions of {CHECK}",
        lambda c: (rows := table_rows(c, "Evaluation result")) and len(rows) >= executions and rows,
    )
    assert chrome.save_screenshot(str(path))
    return sorted(
        (r.get("Partition", "(no Partition column)"), r["Evaluation result"]) for r in rows
    )


def partition_figures(chrome, base: str, day: str) -> dict[str, int]:
    """The row counts the Partitions tab shows for `day`'s latest materialization."""
    chrome.get(f"{base}/assets/{ASSET}?view=partitions&partition={day}")
    labels = ("dagster/partition_row_count", "dagster/row_count")
    values = wait(
        chrome,
        f"{day}'s {' and '.join(labels)}",
        lambda c: all(v := [metadata_value(c, label) for label in labels]) and v,
    )
    return {label: int(v.replace(",", "")) for label, v in zip(labels, values)}


def review(client, lake, days, failed_range) -> None:
    """What a user reviews in the UI after a run of `days[0]`, a range run of `failed_range`
    (a good day, then a day failing the check), then one range run of the other `days`: each
    day's check result by partition and each day's own row count, compared with the manifests;
    the asset graph and the check history saved for the README."""
    base = client._url.removesuffix("/graphql")
    staged = {
        d.isoformat(): lake.manifest_table(d, "transactions")["expected"]["staged"]
        for d in [*days, *failed_range]
    }
    sizes = [staged[d.isoformat()] for d in days]
    assert len(set(sizes)) == len(days), staged  # a total cannot pass for a day's count
    results = {d.isoformat(): "Passed" for d in [*days, failed_range[0]]}
    results[failed_range[1].isoformat()] = "Failed"
    # what its Skip button does, else a newsletter pop-up covers the first page
    client._execute("mutation { setNuxSeen }")
    with chromium() as chrome:
        graph_screenshot(chrome, base, DOCS / "asset_graph.png")
        # one result per check and day, each against its day (a range run used to record one)
        history = check_history(chrome, base, len(results), DOCS / "check_history.png")
        assert history == sorted(results.items()), history
        # each day its own rows; dagster/row_count is the whole table's, as Dagster means it
        reviewed = [d.isoformat() for d in days]
        shown_rows = {day: partition_figures(chrome, base, day) for day in reviewed}
        assert {d: f["dagster/partition_row_count"] for d, f in shown_rows.items()} == {
            d: staged[d] for d in reviewed
        }
        # (the first day ran alone, when the table held only it; the last range ran last, when
        # the table held every day, the failed range's staged rows too)
        first, *ranged = reviewed
        assert shown_rows[first]["dagster/row_count"] == staged[first]
        assert {shown_rows[d]["dagster/row_count"] for d in ranged} == {sum(staged.values())}
