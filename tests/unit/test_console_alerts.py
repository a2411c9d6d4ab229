"""The console's alerts pages through HTTP (in process, on World): webhooks added, tested and removed with
the secret shown once, the report and its CSV download, a system's schedule form."""

from __future__ import annotations

import re

from adapters.memory.clock import FrozenClock
from tests.unit.test_console_http import Client, admin, clock, csrf_of, fleet, http, sign_in

__all__ = ["clock", "http"]  # the console tests' fixtures, used here as they are


def test_a_webhook_is_added_shown_once_tested_and_removed(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    page = http.get("/console/webhooks")
    assert page.status_code == 200
    assert "No webhooks" in page.text
    token = csrf_of(page)
    added = http.post(
        "/console/webhooks",
        data={"csrf": token, "url": "http://127.0.0.1:9/x", "events": "system.down", "format": "slack"},
    )
    assert added.status_code == 200
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', added.text)
    assert secret
    (hook,) = admin(http, "GET", "/webhooks")
    assert (hook["url"], hook["events"], hook["format"]) == ("http://127.0.0.1:9/x", ["system.down"], "slack")
    again = http.get("/console/webhooks")
    assert secret.group(1) not in again.text
    assert http.post(f"/console/webhooks/{hook['id']}/test", data={"csrf": token}).status_code == 200
    bad = http.post("/console/webhooks", data={"csrf": token, "url": "ftp://x", "format": "slack"})
    assert bad.status_code == 400
    assert http.post(f"/console/webhooks/{hook['id']}/remove", data={"csrf": token}).status_code == 200
    assert admin(http, "GET", "/webhooks") == []
    assert http.post(f"/console/webhooks/{hook['id']}/remove", data={}).status_code == 403


def test_the_report_page_and_its_csv_download(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    page = http.get("/console/report?since=7d")
    assert page.status_code == 200
    assert re.findall(r'<tr data-system="([^"]+)">', page.text) == ["fresh", "never", "quiet"]
    csv = http.get("/console/report.csv?since=7d")
    assert csv.status_code == 200
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"  # one charset, not two
    rows = csv.text.strip().split("\r\n")
    assert len(rows) == 4
    assert ",fresh,up,," not in rows[1]
    assert rows[1].split(",")[4:6] == ["fresh", "up"]
    assert rows[1].split(",")[9] == "2"  # two uploads of `fresh` stored in the week
    assert http.get("/console/report?since=soon").status_code == 400


def test_the_schedule_form_sets_and_drops_a_systems_own_schedule(http: Client, clock: FrozenClock) -> None:
    fleet(http, clock)
    sign_in(http)
    token = csrf_of(http.get("/console/systems/quiet"))
    assert "badge stale" in http.get("/console/systems/quiet").text  # down on the default schedule
    http.post("/console/systems/quiet/schedule", data={"csrf": token, "every": "3d", "grace": "0s"})
    shown = http.get("/console/systems/quiet").text
    assert "expected every 3 d, grace 0 s" in shown
    assert admin(http, "GET", "/systems/quiet")["state"] == "up"
    http.post("/console/systems/quiet/schedule", data={"csrf": token, "default": "1"})
    assert admin(http, "GET", "/systems/quiet")["expected_every"] == 86400
    assert http.post("/console/systems/quiet/schedule", data={"csrf": token, "every": "0s"}).status_code == 400


def test_the_org_schedule_form_sets_every_systems_schedule_and_default_drops_it(
    http: Client, clock: FrozenClock
) -> None:
    org_id = fleet(http, clock)["org_id"]
    sign_in(http)
    page = http.get(f"/console/orgs/{org_id}")
    assert "expected every 24 h, grace 12 h" in page.text
    token = csrf_of(page)
    http.post(f"/console/orgs/{org_id}/schedule", data={"csrf": token, "every": "3d"})
    assert [s["expected_every"] for s in admin(http, "GET", f"/systems?org={org_id}")] == [259200] * 3
    assert admin(http, "GET", "/systems/quiet")["grace"] == 43200  # the default grace still
    http.post(f"/console/orgs/{org_id}/schedule", data={"csrf": token, "default": "1"})
    assert admin(http, "GET", "/systems/quiet")["expected_every"] == 86400
    assert http.post(f"/console/orgs/{org_id}/schedule", data={"csrf": token, "grace": "soon"}).status_code == 400
