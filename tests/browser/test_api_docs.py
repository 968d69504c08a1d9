"""The API's browsable documentation: Swagger UI from our own static files, under the app's CSP."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import LiveServer, screenshot


def test_swagger_ui_renders_every_operation_without_csp_violations(page: Any, live_server: LiveServer) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    external: list[str] = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:") else None)
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".info .title").inner_text().startswith("PIS 2 API")
    paths = set(page.locator(".opblock-summary-path").all_inner_texts())
    assert {"/api/v1/tasks", "/api/v1/tasks/{task_id}/complete", "/api/v1/instances",
            "/api/v1/households/{household_id}/timeline", "/api/v1/processes"} <= {p.replace("\u200b", "")
                                                                                    for p in paths}
    assert page.locator(".btn.authorize").count() == 1  # the bearer token can be typed in
    screenshot(page, "api-docs")
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert external == []  # no CDN, no outside call
