"""End to end: the classroom page in real headless Chromium (Debian's `chromium`, driven by
Playwright through ``executable_path``; Playwright's own browser download is not used).

The README's test command installs Chromium when it is missing (tools/install-system-deps.sh),
so on CI these tests run; here they fail, not skip, when the browser is absent.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import tomllib

import pytest

CHROMIUM = os.environ.get("SOVSIM_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def server():
    import uvicorn

    from sovsim.web.app import Settings, create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(Settings(workers=0, rate=0)), host="127.0.0.1",
                            port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started:
        assert time.time() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    assert os.path.exists(CHROMIUM), (
        f"no Chromium at {CHROMIUM}: run tools/install-system-deps.sh (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        ctx = browser.new_context(accept_downloads=True, viewport={"width": 1300, "height": 900})
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(server + "/")
        pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
        pg.errors = errors
        yield pg
        browser.close()


def _path_d(page, var: str) -> str:
    return page.get_attribute(f"#chart-{var} path[data-series]", "d")


def test_page_loads_with_charts_doctrine_and_narrative(page):
    assert page.errors == []
    assert page.locator("#charts figure").count() >= 10
    assert "nep" in page.locator("#status").inner_text().lower()
    # the doctrine panel: the axis table and an indicator chart with its sources
    assert page.locator("#doctrine-axes tbody tr").count() == 5
    assert page.locator("#doctrine-indicator-deportations_per_thousand, "
                        "#doctrine-deportations_per_thousand").count() == 1
    page.locator("#doctrine-indicators details summary").first.click()
    assert "Critique of the Gotha Programme" in page.locator("#doctrine-indicators").inner_text()
    assert page.locator("#narrative-text h3").count() == 5
    # charts carry a text alternative
    label = page.get_attribute("#chart-grain_harvest_t svg", "aria-label")
    assert label and "Grain harvest" in label


def test_change_an_instrument_run_and_the_chart_updates(page):
    before = _path_d(page, "grain_exports_t")
    page.click("#add-change")
    row = page.locator("#changes tbody tr").last
    row.locator(".date").fill("1929-07")
    row.locator(".instrument").select_option("grain_export_target_t")
    row.locator(".value").fill("0")
    page.click("#run")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Ran ')")
    after = _path_d(page, "grain_exports_t")
    assert after != before
    assert page.errors == []


def test_a_bad_value_is_refused_with_the_reason(page):
    row = page.locator("#changes tbody tr").last
    row.locator(".value").fill("99999999999")
    page.click("#run")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Not run')")
    text = page.locator("#status").inner_text()
    assert "grain_export_target_t" in text and "less than or equal to 15000000" in text
    row.locator(".value").fill("0")


def test_download_the_scenario_and_upload_it_back(page, tmp_path):
    page.fill("#sc-name", "no-exports")
    page.dispatch_event("#sc-name", "change")
    n_rows = page.locator("#changes tbody tr").count()
    with page.expect_download() as dl:
        page.click("#download-toml")
    path = tmp_path / "no-exports.toml"
    dl.value.save_as(path)
    raw = tomllib.loads(path.read_text())
    assert raw["name"] == "no-exports" and raw["extends"] == "historical"
    assert raw["diverge"] == "1927-07"  # nep's own keys travel with the file
    assert any(c["instrument"] == "grain_export_target_t" and c["value"] == 0.0
               for c in raw["change"])
    # start from another scenario, then upload the file back
    page.select_option("#preset", "historical")
    page.click("#load-preset")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Loaded historical')")
    page.set_input_files("#upload", str(path))
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Uploaded')")
    assert page.locator("#changes tbody tr").count() == n_rows
    assert page.input_value("#sc-name") == "no-exports"


def test_chart_downloads_png_svg_csv(page, tmp_path):
    fig = page.locator("#chart-grain_harvest_t")
    for kind, magic in (("png", b"\x89PNG"), ("svg", b"<?xml"), ("csv", b"variable,unit")):
        with page.expect_download() as dl:
            fig.locator(f".dl-{kind}").click()
        target = tmp_path / f"chart.{kind}"
        dl.value.save_as(target)
        assert target.read_bytes().startswith(magic), kind


def test_keyboard_reaches_the_run_button(page):
    page.focus("#add-change")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "run"
    # every form control has an accessible name
    unnamed = page.evaluate("""() => [...document.querySelectorAll('input, select, button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.textContent.trim()).map(e => e.outerHTML)""")
    assert unnamed == []
