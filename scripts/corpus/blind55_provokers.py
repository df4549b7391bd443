"""Fifty-fifth batch of blind provokers: browser automation as end-to-end test jobs print it. Debian's Chromium,
driven three ways: Selenium through chromedriver, Playwright for Python (launched on /usr/bin/chromium, no
browser download) and puppeteer-core in Node.js scripts whose error is left unhandled. The browsers navigate to a
closed port, a `.invalid` host (a resolver rule resolves nothing but 127.0.0.1), a port that accepts and never
answers under a short page-load timeout, ports that reset or close without a response, and a self-signed HTTPS
server (Playwright and Puppeteer only: chromedriver does not fail a navigation that ends on the certificate
interstitial); tests check the status of local API answers (401/403, 429, 422, 500/503) the way e2e suites do;
selectors the test got wrong, ambiguous locators and page JavaScript throwing ReferenceError/TypeError; a
missing fixture to upload, a missing browser binary, a truncated JSON document, and screenshots written into a
full or read-only tmpfs. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from blind55_support import CHROME_FLAGS, CHROMEDRIVER, CHROMIUM, app_server, puppeteer_records, tls_app_server
from checked import has_token, python_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND55_SOURCES = frozenset({"selenium55", "playwright55", "puppeteer55"})

#: name, category, source, expected exception type names, expected token in the traceback, fn
Case = tuple[str, str, str, str, str, Callable[[], Any]]


def checked_records(cases: list[Case]) -> list[Record]:
    """python_records, then the token check on the one-line exception (a WebDriverException or a Playwright
    Error can come from any cause; the token says it is the one provoked; not the traceback, whose source lines
    quote the test's own selectors and paths)."""
    out: list[Record] = []
    for name, category, source, types, token, fn in cases:
        recs = python_records([(name, category, source, types, fn)])
        if recs and has_token(name, recs[1]["text"], token):
            out.extend(recs)
    return out


@contextlib.contextmanager
def _selenium() -> Iterator[Any]:
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", *CHROME_FLAGS]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _selenium_cases(driver: Any, env: Env, app: str, disk: Path, ro: Path) -> list[Case]:
    from selenium.webdriver.common.by import By

    def open_login() -> None:
        driver.set_page_load_timeout(30)
        driver.get(f"{app}/login")

    def goto(url: str, timeout: float = 30) -> Callable[[], None]:
        def go() -> None:
            driver.set_page_load_timeout(timeout)
            driver.get(url)
        return go

    def api_status(status: int) -> Callable[[], None]:
        def check() -> None:
            open_login()
            driver.execute_script("""return (async (url) => {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url} failed: ${res.status} ${res.statusText}`);
  return res.json();
})(arguments[0]);""", f"{app}/api/status/{status}")
        return check

    def click_sign_in() -> None:
        open_login()
        driver.find_element(By.CSS_SELECTOR, "button#sign-in").click()

    def read_feature_flags() -> None:
        open_login()
        driver.execute_script("return featureFlags.checkoutV2;")

    def upload_fixture() -> None:
        open_login()
        driver.find_element(By.ID, "report").send_keys(str(env.tmp / "fixtures" / "orders-2024-q3.csv"))

    def screenshot_to(directory: Path) -> Callable[[], None]:
        def shoot() -> None:
            open_login()
            (directory / "test_login_failure.png").write_bytes(driver.get_screenshot_as_png())
        return shoot

    def orders_json() -> None:
        driver.set_page_load_timeout(30)
        driver.get(f"{app}/api/orders.json")
        json.loads(driver.find_element(By.TAG_NAME, "body").text)

    s = "selenium55"
    return [
        ("selenium_refused", "network", s, "WebDriverException", "ERR_CONNECTION_REFUSED",
         goto(f"http://127.0.0.1:{env.closed_port}/login")),
        ("selenium_name_not_resolved", "network", s, "WebDriverException", "ERR_NAME_NOT_RESOLVED",
         goto("http://orders-staging.invalid/login")),
        ("selenium_connection_reset", "network", s, "WebDriverException", "ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE",
         goto(f"http://127.0.0.1:{env.reset_port}/login")),
        ("selenium_api_503", "service", s, "JavascriptException", "503", api_status(503)),
        ("selenium_api_403", "auth", s, "JavascriptException", "403", api_status(403)),
        ("selenium_no_such_element", "programming", s, "NoSuchElementException", "sign-in", click_sign_in),
        ("selenium_js_reference", "programming", s, "JavascriptException", "is not defined", read_feature_flags),
        ("selenium_upload_missing", "filesystem", s, "InvalidArgumentException", "not found", upload_fixture),
        ("selenium_screenshot_disk_full", "resource", s, "OSError", "No space left", screenshot_to(disk)),
        ("selenium_screenshot_read_only", "filesystem", s, "OSError", "Read-only", screenshot_to(ro)),
        ("selenium_truncated_json", "validation", s, "JSONDecodeError", "Expecting value", orders_json),
        ("selenium_page_load_timeout", "network", s, "TimeoutException", "timeout",
         goto(f"http://127.0.0.1:{env.hang_port}/login", 2)),
    ]


def _playwright_cases(page: Any, pw: Any, env: Env, app: str, tls: str, disk: Path) -> list[Case]:
    from playwright.sync_api import expect

    def goto(url: str, timeout: float = 15000) -> Callable[[], None]:
        return lambda: page.goto(url, timeout=timeout)

    def expect_ok(status: int) -> Callable[[], None]:
        return lambda: expect(page.request.get(f"{app}/api/status/{status}")).to_be_ok()

    def api_get(status: int) -> Callable[[], None]:
        return lambda: page.request.get(f"{app}/api/status/{status}", fail_on_status_code=True)

    def api_refused() -> None:
        page.request.get(f"http://127.0.0.1:{env.closed_port}/api/orders", fail_on_status_code=True)

    def login() -> None:
        page.goto(f"{app}/login")

    def click_missing() -> None:
        login()
        page.locator("[data-testid=sign-in]").click(timeout=1500)

    def click_ambiguous() -> None:
        login()
        page.locator("button").click(timeout=1500)

    def order_total() -> None:
        login()
        page.evaluate("() => document.querySelector('#order-total').textContent.trim()")

    def upload_fixture() -> None:
        login()
        page.set_input_files("#report", str(env.tmp / "fixtures" / "invoice-0042.pdf"))

    def screenshot_full() -> None:
        login()
        page.screenshot(path=str(disk / "test-results" / "checkout-failed.png"), full_page=True)

    def missing_browser() -> None:
        pw.chromium.launch(executable_path="/opt/b55/ms-playwright/chromium-1140/chrome-linux/chrome",
                           args=CHROME_FLAGS, timeout=10000)

    p = "playwright55"
    return [
        ("playwright_refused", "network", p, "Error", "ERR_CONNECTION_REFUSED",
         goto(f"http://127.0.0.1:{env.closed_port}/login")),
        ("playwright_self_signed", "network", p, "Error", "ERR_CERT", goto(f"{tls}/login")),
        ("playwright_empty_response", "network", p, "Error", "ERR_EMPTY_RESPONSE|ERR_CONNECTION",
         goto(f"http://127.0.0.1:{env.empty_port}/login")),
        ("playwright_api_refused", "network", p, "Error", "ECONNREFUSED", api_refused),
        ("playwright_expect_ok_503", "service", p, "AssertionError", "503", expect_ok(503)),
        ("playwright_api_500", "service", p, "Error", "500", api_get(500)),
        ("playwright_expect_ok_401", "auth", p, "AssertionError", "401", expect_ok(401)),
        ("playwright_api_429", "resource", p, "Error", "429", api_get(429)),
        ("playwright_api_422", "validation", p, "Error", "422", api_get(422)),
        ("playwright_locator_timeout", "programming", p, "TimeoutError", "sign-in", click_missing),
        ("playwright_strict_mode", "programming", p, "Error", "strict mode violation", click_ambiguous),
        ("playwright_evaluate_type_error", "programming", p, "Error", "TypeError", order_total),
        ("playwright_upload_missing", "filesystem", p, "FileNotFoundError|Error", "invoice-0042", upload_fixture),
        ("playwright_screenshot_disk_full", "resource", p, "OSError", "No space left", screenshot_full),
        ("playwright_missing_browser", "filesystem", p, "Error", "doesn't exist|not exist|ENOENT", missing_browser),
        ("playwright_goto_timeout", "network", p, "TimeoutError", "2000ms",
         goto(f"http://127.0.0.1:{env.hang_port}/login", 2000)),
    ]


PUPPETEER: list[tuple[str, str, str, str]] = [
    ("puppeteer_refused", "network", "ERR_CONNECTION_REFUSED", "await page.goto('http://127.0.0.1:CLOSED/login');"),
    ("puppeteer_name_not_resolved", "network", "ERR_NAME_NOT_RESOLVED",
     "await page.goto('https://checkout.staging.invalid/cart');"),
    ("puppeteer_navigation_timeout", "network", "timeout",
     "await page.goto('http://127.0.0.1:HANG/login', { waitUntil: 'networkidle0', timeout: 2000 });"),
    ("puppeteer_self_signed", "network", "ERR_CERT", "await page.goto('TLS/login');"),
    ("puppeteer_status_503", "service", "503", "const res = await page.goto('APP/api/status/503');\n"
     "    if (!res.ok()) throw new Error(`smoke test: ${res.url()} answered ${res.status()} ${res.statusText()}`);"),
    ("puppeteer_status_401", "auth", "401", "const res = await page.goto('APP/api/status/401');\n"
     "    if (!res.ok()) throw new Error(`smoke test: ${res.url()} answered ${res.status()} ${res.statusText()}`);"),
    ("puppeteer_status_429", "resource", "429", "const res = await page.goto('APP/api/status/429');\n"
     "    if (!res.ok()) throw new Error(`smoke test: ${res.url()} answered ${res.status()} ${res.statusText()}`);"),
    ("puppeteer_truncated_json", "validation", "JSON", "const res = await page.goto('APP/api/orders.json');\n"
     "    const { orders } = await res.json();"),
    ("puppeteer_wait_for_selector", "programming", "Waiting for selector",
     "await page.goto('APP/login');\n    await page.waitForSelector('#checkout-button', { timeout: 1500 });"),
    ("puppeteer_evaluate_reference", "programming", "ReferenceError",
     "await page.goto('APP/login');\n    const flags = await page.evaluate(() => featureFlags.checkoutV2);"),
    ("puppeteer_screenshot_read_only", "filesystem", "EROFS|read-only",
     "await page.goto('APP/login');\n    await page.screenshot({ path: 'RODIR/login-page.png', fullPage: true });"),
    ("puppeteer_missing_browser", "filesystem", "not found|ENOENT|exist",
     "await page.goto('APP/login');"),
]


def blind55_records(env: Env) -> list[Record]:
    app = app_server(env)
    tls = tls_app_server(env)
    disk = mount_tmpfs(env, "disk55", "size=64k")
    (disk / "test-results").mkdir()
    (disk / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    with contextlib.suppress(OSError), (disk / "filler2.bin").open("wb") as rest:
        rest.write(b"\0" * 64 * 1024)
    ro = mount_tmpfs(env, "ro55", "size=64k,ro")
    (env.tmp / "fixtures").mkdir()
    # Browser profiles and Playwright's artifacts go to TMPDIR; a failed launch leaves its own behind, so keep
    # them all inside the batch directory, which is removed at the end.
    (env.tmp / "browser-tmp").mkdir()
    saved_tmpdir = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(env.tmp / "browser-tmp")
    try:
        return _browser_records(env, app, tls, disk, ro)
    finally:
        if saved_tmpdir is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved_tmpdir


def _browser_records(env: Env, app: str, tls: str, disk: Path, ro: Path) -> list[Record]:
    from playwright.sync_api import sync_playwright

    with _selenium() as driver:
        out = checked_records(_selenium_cases(driver, env, app, disk, ro))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_FLAGS)
        try:
            page = browser.new_page()
            out += checked_records(_playwright_cases(page, pw, env, app, tls, disk))
        finally:
            browser.close()

    def fill(text: str) -> str:
        return (text.replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                .replace("TLS", tls).replace("APP", app).replace("RODIR", str(ro)))

    out += puppeteer_records(PUPPETEER, "puppeteer55", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind55_records)


__all__ = ["BLIND55_SOURCES", "blind55_records"]
