"""The console's retention: the "kept by" column, protect/unprotect buttons and an organization's policy form,
each running the use case the CLI and the admin API run (Litestar's test client on a `World`)."""

from __future__ import annotations

import re

from adapters.memory.clock import FrozenClock
from tests.unit.fakes import pgp
from tests.unit.test_console_http import Client, admin, clock, csrf_of, fleet, http, sign_in, upload

__all__ = ["clock", "http"]  # the fixtures, shared with the console's other tests


def kept_by(page: str) -> list[str]:
    return [re.sub(r"<[^>]+>", " ", cell).split()[0] for cell in re.findall(r'<td class="kept-by">(.*?)</td>', page)]


def test_the_system_page_shows_what_keeps_each_backup_and_protects_one(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    for day in range(2):
        clock.advance(86400)
        assert upload(http, "fresh", secrets["fresh"], pgp(3000 + day)).status_code == 201
    sign_in(http)
    org = secrets["org_id"]
    page = http.get(f"/console/orgs/{org}")
    answer = http.post(
        f"/console/orgs/{org}/retention",
        data={"csrf": csrf_of(page), "keep_last": "1", "keep_daily": "2", "keep_weekly": "", "keep_monthly": "0"},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, f"/console/orgs/{org}")
    assert admin(http, "GET", f"/orgs/{org}")["retention_override"] == {
        "keep_last": 1,
        "keep_daily": 2,
        "keep_weekly": 0,
        "keep_monthly": 0,
    }
    page = http.get("/console/systems/fresh")
    assert kept_by(page.text) == ["last", "daily", "daily", "pruned"]
    oldest = admin(http, "GET", "/systems/fresh/backups")[-1]["id"]
    answer = http.post(
        f"/console/systems/fresh/backups/{oldest}/protect",
        data={"csrf": csrf_of(page), "note": "pre-upgrade"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    page = http.get("/console/systems/fresh")
    assert kept_by(page.text) == ["last", "daily", "daily", "protected"]
    assert "pre-upgrade" in page.text
    held = admin(http, "GET", "/systems/fresh/backups")[-1]
    assert (held["protected"], held["protected_note"]) == (True, "pre-upgrade")
    http.post(f"/console/systems/fresh/backups/{oldest}/unprotect", data={"csrf": csrf_of(page)})
    assert admin(http, "GET", "/systems/fresh/backups")[-1]["protected"] is False


def test_a_bad_policy_from_the_form_is_refused_and_default_restores(http: Client, clock: FrozenClock) -> None:
    secrets = fleet(http, clock)
    sign_in(http)
    org = secrets["org_id"]
    token = csrf_of(http.get(f"/console/orgs/{org}"))
    for bad in ({"keep_last": "0"}, {"keep_last": "5", "keep_daily": "9"}, {"keep_last": "-1"}):
        answer = http.post(f"/console/orgs/{org}/retention", data={"csrf": token, **bad}, follow_redirects=False)
        assert answer.status_code == 400, answer.text
    assert admin(http, "GET", f"/orgs/{org}")["retention_override"] is None
    http.post(f"/console/orgs/{org}/retention", data={"csrf": token, "keep_last": "4"})
    assert admin(http, "GET", f"/orgs/{org}")["retention_override"]["keep_last"] == 4
    page = http.get(f"/console/orgs/{org}")
    assert "Use the default" in page.text
    http.post(f"/console/orgs/{org}/retention", data={"csrf": token, "default": "1"})
    assert admin(http, "GET", f"/orgs/{org}")["retention_override"] is None
