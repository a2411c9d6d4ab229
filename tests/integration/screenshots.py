"""`just screenshots`: a headless Chromium photographs each console page on the demo fleet.

Usage: python -m tests.integration.screenshots [DIR]   (default docs/screenshots)
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.integration.browser import chromium, wait_for
from tests.integration.console_demo import TOKEN, demo_server

WIDTH = 1280


def shoot(browser: webdriver.Chrome, target: Path) -> None:
    """The whole page, however long: the window grows to the document's height first."""
    browser.set_window_size(WIDTH, 600)
    frame = browser.get_window_size()["height"] - int(browser.execute_script("return window.innerHeight"))
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(WIDTH, height + frame)
    browser.save_screenshot(str(target))
    print(f"wrote {target}")


def main(out: Path) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="console-demo-") as scratch:
        root = Path(scratch)
        with demo_server(root / "data") as fleet, chromium(root / "downloads", WIDTH, 800) as browser:
            browser.get(fleet.url + "/console")
            shoot(browser, out / "sign-in.png")
            browser.find_element(By.ID, "token").send_keys(TOKEN)
            browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
            wait_for(lambda: browser.title.startswith("Organizations"))
            shoot(browser, out / "organizations.png")
            browser.get(f"{fleet.url}/console/orgs/{fleet.orgs['Acme Networks']}")
            shoot(browser, out / "systems.png")
            browser.get(fleet.url + "/console/systems/fw-hq")
            shoot(browser, out / "system.png")
            browser.find_element(By.PARTIAL_LINK_TEXT, "Delete").click()
            wait_for(lambda: "Delete this backup?" in browser.page_source)
            shoot(browser, out / "confirm-delete.png")
            browser.get(fleet.url + "/console/systems/gx-edge-2")
            browser.find_element(By.CSS_SELECTOR, 'form[action$="/rotate-secret"] button').click()
            wait_for(lambda: browser.find_element(By.ID, "new-secret"))
            shoot(browser, out / "rotated-secret.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots"))
