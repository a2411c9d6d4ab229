"""The operator console in a real headless Chromium, against a real server on demo data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from tests.integration.browser import chromium, require_chromium, wait_for
from tests.integration.console_demo import NOW, TOKEN, Fleet, demo_server

Browser = webdriver.Chrome


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("console-data")) as served:
        yield served


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-downloads")


@pytest.fixture(scope="module")
def browser(fleet: Fleet, downloads: Path) -> Iterator[Browser]:
    with chromium(downloads) as driver:
        yield driver


@pytest.fixture
def signed_in(browser: Browser, fleet: Fleet) -> Browser:
    """A browser just signed in, on the organizations page, the server's clock at NOW."""
    fleet.clock.set(NOW)
    browser.get(fleet.url + "/console/sign-in")
    browser.delete_all_cookies()
    sign_in(browser, fleet)
    return browser


def sign_in(browser: Browser, fleet: Fleet) -> None:
    browser.get(fleet.url + "/console")
    assert browser.current_url.startswith(fleet.url + "/console/sign-in")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    wait_for(lambda: browser.title.startswith("Organizations"))


def system_row(browser: Browser, key: str) -> WebElement:
    return browser.find_element(By.CSS_SELECTOR, f'tr[data-system="{key}"]')


def test_signing_in_shows_the_stale_systems_first_and_marked(signed_in: Browser, fleet: Fleet) -> None:
    acme = signed_in.find_element(By.LINK_TEXT, "Acme Networks")
    stale_count = acme.find_element(By.XPATH, "../..").find_element(By.CSS_SELECTOR, ".badge.stale")
    assert stale_count.text == "2"
    acme.click()
    wait_for(lambda: signed_in.title.startswith("Acme Networks"))
    rows = signed_in.find_elements(By.CSS_SELECTOR, "tr[data-system]")
    assert [r.get_attribute("data-system") for r in rows] == ["nas-archive", "fw-branch-12", "fw-hq", "fw-lab"]
    for key in ("nas-archive", "fw-branch-12"):
        assert system_row(signed_in, key).find_element(By.CSS_SELECTOR, ".badge.stale").text == "down"
    assert system_row(signed_in, "nas-archive").find_element(By.TAG_NAME, "time").text == "never"
    assert system_row(signed_in, "fw-lab").find_element(By.CSS_SELECTOR, ".badge.suspended").is_displayed()
    assert not system_row(signed_in, "fw-hq").find_elements(By.CSS_SELECTOR, ".badge.stale")


def test_a_download_gives_the_bytes_that_were_uploaded(signed_in: Browser, fleet: Fleet, downloads: Path) -> None:
    signed_in.get(fleet.url + "/console/systems/gx-edge-1")
    newest = signed_in.find_element(By.CSS_SELECTOR, "tr[data-backup]")
    sha256 = newest.find_element(By.CSS_SELECTOR, "code.sha").text
    assert newest.find_element(By.CSS_SELECTOR, "td.uploader").text == "127.0.0.1"
    filename = newest.find_element(By.TAG_NAME, "td").find_element(By.XPATH, "../td[2]").text.splitlines()[0]
    newest.find_element(By.LINK_TEXT, "Download").click()
    target = downloads / f"{filename}.gpg"
    wait_for(lambda: target.exists() and not list(downloads.glob("*.crdownload")))
    data = target.read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    assert data == fleet.bodies[sha256]


def test_delete_asks_to_confirm_then_erases_the_backup(signed_in: Browser, fleet: Fleet) -> None:
    signed_in.get(fleet.url + "/console/systems/gx-edge-2")
    before = [r.get_attribute("data-backup") for r in signed_in.find_elements(By.CSS_SELECTOR, "tr[data-backup]")]
    assert len(before) == 2
    signed_in.find_element(By.CSS_SELECTOR, f'tr[data-backup="{before[0]}"]').find_element(
        By.PARTIAL_LINK_TEXT, "Delete"
    ).click()
    wait_for(lambda: "Delete this backup?" in signed_in.page_source)
    with fleet.admin() as admin:
        assert len(admin.get("/systems/gx-edge-2/backups").json()["data"]) == 2
    signed_in.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait_for(lambda: "deleted." in signed_in.find_element(By.CSS_SELECTOR, "p.notice").text)
    after = [r.get_attribute("data-backup") for r in signed_in.find_elements(By.CSS_SELECTOR, "tr[data-backup]")]
    assert after == before[1:]
    with fleet.admin() as admin:
        assert [b["id"] for b in admin.get("/systems/gx-edge-2/backups").json()["data"]] == before[1:]


def test_a_form_without_its_csrf_token_is_refused(signed_in: Browser, fleet: Fleet) -> None:
    signed_in.get(fleet.url + "/console/systems/fw-hq")
    suspend = signed_in.find_element(By.CSS_SELECTOR, 'form[action$="/suspend"]')
    signed_in.execute_script("arguments[0].querySelector('input[name=csrf]').remove()", suspend)
    suspend.find_element(By.TAG_NAME, "button").click()
    wait_for(lambda: signed_in.title.startswith("403"))
    assert "refused" in signed_in.find_element(By.TAG_NAME, "main").text
    with fleet.admin() as admin:
        assert admin.get("/systems/fw-hq").json()["data"]["suspended"] is False


def test_the_session_expires_after_half_an_hour_idle(signed_in: Browser, fleet: Fleet) -> None:
    fleet.clock.advance(timedelta(minutes=29))
    signed_in.get(fleet.url + "/console/systems/fw-hq")
    assert signed_in.title.startswith("fw-hq")
    fleet.clock.advance(timedelta(minutes=31))
    signed_in.get(fleet.url + "/console/systems/fw-hq")
    assert signed_in.current_url == fleet.url + "/console/sign-in?next_path=/console/systems/fw-hq"
    assert signed_in.find_element(By.ID, "token").is_displayed()


def test_sign_out_returns_to_the_sign_in_page(signed_in: Browser, fleet: Fleet) -> None:
    signed_in.find_element(By.CSS_SELECTOR, ".sign-out button").click()
    wait_for(lambda: "signed out" in signed_in.page_source)
    signed_in.get(fleet.url + "/console")
    assert signed_in.current_url == fleet.url + "/console/sign-in"
