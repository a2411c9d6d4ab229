"""Where a newcomer looks for the API's docs: /docs leads to the page at /api/schema."""

from __future__ import annotations

from tests.unit.fakes import World


def test_docs_redirects_to_the_docs_page_at_api_schema() -> None:
    with World().client() as http:
        for method in ("GET", "HEAD"):
            answer = http.request(method, "/docs", follow_redirects=False)
            assert (answer.status_code, answer.headers["location"]) == (302, "/api/schema")
        page = http.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "swagger" in page.text.lower()
