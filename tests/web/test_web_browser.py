"""The review page in a real headless Chromium: sign in, filter to an escalated call, play
its recording from a transcript line, mark it handled and see it leave the queue.

Screenshots of the queue, the call page and the overview go to var/screenshots/.
"""

import asyncio
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.web.conftest import ESCALATED, PASSWORD, Clock
from voicebot.config import PROJECT_ROOT, Settings
from voicebot.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (./dev test installs them)",
)


@pytest.fixture
def live_server(settings: Settings, clock: Clock) -> Iterator[str]:
    """The app on a local port, served from its own thread and event loop."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings, clock=clock))
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10), "the app did not start"
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator["object"]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1366,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


def test_agent_finds_plays_and_handles_an_escalated_call(live_server: str, browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as until
    from selenium.webdriver.support.select import Select
    from selenium.webdriver.support.wait import WebDriverWait

    driver, wait = browser, WebDriverWait(browser, 10)
    driver.get(live_server + "/calls/" + ESCALATED)
    assert driver.current_url.endswith("/login")  # signed out: sent to sign in

    driver.find_element(By.ID, "username").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(until.presence_of_element_located((By.ID, "filters")))

    # Find the escalated call through the filters.
    Select(driver.find_element(By.ID, "f-reason")).select_by_visible_text("疾病")
    driver.find_element(By.ID, "f-q").send_keys("住院")
    driver.find_element(By.ID, "f-submit").click()
    # The row is on the unfiltered queue too: wait for the filtered page, or the row found
    # may belong to the page being replaced (a stale element).
    wait.until(until.url_contains("q="))
    row = wait.until(
        until.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-call-id="{ESCALATED}"]'))
    )
    assert "高优先级升级" in row.text
    matches_before = driver.find_element(By.ID, "total").text
    driver.save_screenshot(str(SCREENSHOTS / "queue.png"))

    # Open it and play the recording from a transcript line.
    row.find_element(By.CLASS_NAME, "open-call").click()
    wait.until(until.presence_of_element_located((By.ID, "player")))
    assert "弱势或有风险" in driver.find_element(By.ID, "escalation").text
    line = driver.find_elements(By.CSS_SELECTOR, "#transcript .seek")[4]
    start = float(line.get_attribute("data-t") or 0)
    assert start > 5
    line.click()
    wait.until(lambda d: d.execute_script("return !document.getElementById('player').paused"))
    position = driver.execute_script("return document.getElementById('player').currentTime")
    assert start <= position < start + 5
    assert "playing" in (line.find_element(By.XPATH, "..").get_attribute("class") or "")
    driver.save_screenshot(str(SCREENSHOTS / "call.png"))

    # Mark it handled: the history says who did it, and it leaves the queue.
    Select(driver.find_element(By.ID, "fu-outcome")).select_by_visible_text("已联系客户")
    driver.find_element(By.ID, "fu-note").send_keys("已回电，客户同意下周联系")
    driver.find_element(By.ID, "fu-handled").click()
    wait.until(until.text_to_be_present_in_element((By.ID, "status"), "已处理"))
    assert "alice" in driver.find_element(By.ID, "history").text
    driver.get(live_server + "/?reason=illness&q=住院")
    assert not driver.find_elements(By.CSS_SELECTOR, f'tr[data-call-id="{ESCALATED}"]')
    count = int(matches_before.split()[1])
    assert driver.find_element(By.ID, "total").text.startswith(f"共 {count - 1} 条")

    driver.get(live_server + "/overview?from=2026-08-01&to=2026-11-25")
    wait.until(until.presence_of_element_located((By.ID, "by-outcome")))
    assert driver.find_elements(By.CSS_SELECTOR, "#by-outcome rect")
    driver.save_screenshot(str(SCREENSHOTS / "overview.png"))
