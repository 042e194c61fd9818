"""The report and `zynamo serve` in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) opens serve's run list, filters it, opens an invalid run's
report, finds the failing finding at the top, follows its link to the key's page and sees the
story there. Screenshots go to the test's temporary directory (and to ``ZYNAMO_SCREENSHOTS``
when set) for a person to look at."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile
import threading
from collections.abc import Iterator

import pytest

from tests.zynamo.report_fixtures import write_lost_add_run
from zynamo.cmd_serve import make_server
from zynamo.report import write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

webdriver = pytest.importorskip("selenium.webdriver")
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(
        "chromium and chromium-driver are not installed (./test.sh installs them)",
        allow_module_level=True,
    )

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture()
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="zynamo-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture()
def served(tmp_path: pathlib.Path) -> Iterator[str]:
    results = tmp_path / "results"
    write_report(write_lost_add_run(results))
    server = make_server(results, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def screenshot(driver: webdriver.Chrome, tmp_path: pathlib.Path, name: str) -> None:
    height = driver.execute_script("return Math.min(document.body.scrollHeight, 4000)")
    driver.set_window_size(1400, max(int(height), 600))
    for folder in (tmp_path, os.environ.get("ZYNAMO_SCREENSHOTS")):
        if folder:
            pathlib.Path(folder).mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(pathlib.Path(folder) / f"{name}.png"))


def test_from_the_run_list_to_the_story_of_the_lost_element(
    browser: webdriver.Chrome, served: str, tmp_path: pathlib.Path
) -> None:
    browser.get(served + "/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    assert len(rows) == 1 and "invalid" in rows[0].text and "set" in rows[0].text
    box = browser.find_element(By.ID, "filter")
    box.send_keys("valid register")  # no run matches both words
    assert not rows[0].is_displayed()
    assert browser.find_element(By.ID, "count").text == "0 of 1 runs"
    box.clear()
    box.send_keys("invalid")
    assert rows[0].is_displayed()
    screenshot(browser, tmp_path, "serve-run-list")

    rows[0].find_element(By.PARTIAL_LINK_TEXT, "2024-01-01").click()
    assert "INVALID" in browser.find_element(By.CLASS_NAME, "verdict").text
    first = browser.find_element(By.CSS_SELECTOR, "#what-went-wrong .finding-link")
    # The failing finding is on the first screen, above everything else of the report.
    assert first.location["y"] < 700
    assert "k3: add 5, acknowledged at 4.47 s by coordinator n2" in first.text
    screenshot(browser, tmp_path, "report-index")

    first.click()
    assert browser.current_url.endswith("/keys/k3.html#finding-0")
    finding = browser.find_element(By.ID, "finding-0")
    assert "5 first appears in version n2:7" in finding.text
    highlighted = browser.find_elements(By.CSS_SELECTOR, "#finding-0 tr.hl")
    assert any("add 5" in row.text for row in highlighted)
    assert browser.find_element(By.CSS_SELECTOR, "svg.vgraph").is_displayed()
    screenshot(browser, tmp_path, "key-page")


def test_a_timeline_of_100k_operations_stays_responsive(
    browser: webdriver.Chrome, tmp_path: pathlib.Path
) -> None:
    from zynamo.report import render_timeline

    history = []
    for i in range(100_000):
        start = i * 600_000  # 100,000 operations over a minute, 20 processes
        common = {"process": i % 20, "f": "add", "key": f"k{i % 50}", "node": f"n{i % 5 + 1}"}
        history.append({"index": 2 * i, "time": start, "type": "invoke", "value": i, **common})
        ok = "ok" if i % 97 else "fail"
        done = {"index": 2 * i + 1, "time": start + 9_000_000, "type": ok, "value": i, **common}
        history.append(done)
    page = tmp_path / "timeline.html"
    page.write_text(render_timeline(history, "big"), encoding="utf-8")
    browser.get(page.as_uri())
    redraw_ms = browser.execute_script(
        "const t=performance.now(); window.zynamoTimeline.draw(); return performance.now()-t;"
    )
    assert redraw_ms < 1000, f"one redraw of 100,000 operations took {redraw_ms:.0f} ms"
    browser.find_element(By.ID, "f-key").send_keys("k7")
    shown = browser.find_element(By.ID, "shown").text
    assert shown == "2000 of 100000 operations shown"
    screenshot(browser, tmp_path, "timeline-100k-filtered")


def test_the_clock_plot_shows_one_line_per_node_only_when_clocks_were_skewed(
    browser: webdriver.Chrome, tmp_path: pathlib.Path
) -> None:
    from tests.zynamo.clock_fixtures import clock_history, without_clock_faults, write_run

    skewed = write_run(tmp_path / "results", clock_history(), "clock")
    write_report(skewed)
    browser.get((skewed / "index.html").as_uri())
    plot = browser.find_element(By.CSS_SELECTOR, "#clock-offsets svg.clock-plot")
    assert plot.is_displayed() and plot.size["width"] > 800
    lines = browser.find_elements(By.CSS_SELECTOR, "svg.clock-plot path.clock-line")
    assert [line.get_attribute("data-node") for line in lines] == ["n1", "n2", "n3", "n4", "n5"]
    assert all(line.is_displayed() for line in lines)
    # The bumped node's line reaches above the others: its offset was +1,500 ms.
    tops = {line.get_attribute("data-node"): line.rect["y"] for line in lines}
    assert tops["n1"] < min(tops[node] for node in ("n2", "n4"))
    legend = browser.find_element(By.CSS_SELECTOR, "svg.clock-plot").text
    assert "n1" in legend and "max +1,500 ms" in legend
    shaded = browser.find_elements(By.CSS_SELECTOR, "svg.clock-plot g.clock-fault")
    assert {g.get_attribute("data-fault") for g in shaded} == {"clock", "kill"}
    kill_row = browser.find_element(By.XPATH, "//div[@id='nemesis']//tr[td/b[text()='kill']]")
    assert "4 requests failed" in kill_row.text
    browser.execute_script("arguments[0].scrollIntoView()", plot)
    screenshot(browser, tmp_path, "report-clock-offsets")

    calm = write_run(tmp_path / "results", without_clock_faults(clock_history()), "calm")
    write_report(calm)
    browser.get((calm / "index.html").as_uri())
    assert not browser.find_elements(By.CSS_SELECTOR, "svg.clock-plot")
    assert not browser.find_elements(By.ID, "clock-offsets")
