"""The dashboard in a real browser: a supervisor of the funding organisation sees aggregates with small
cells hidden; a coordinator sees where the cases wait; axe-core finds nothing serious; screenshots kept."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import login, screenshot, serious_violations


def test_supervisor_opens_the_dashboard(live_server, page: Any) -> None:
    login(page, live_server, "supervisore")
    page.get_by_role("link", name="Cruscotto").click()
    assert page.locator("h1").inner_text() == "Cruscotto"
    assert "Vista per il finanziatore" in page.locator("hgroup").inner_text()
    assert page.locator("table.indicators tbody tr").count() == 12  # every indicator of domain.md §5
    assert page.locator("table.waiting").count() == 0  # the funder sees no single case's work
    assert serious_violations(page) == []
    screenshot(page, "dashboard-funder-desktop")

    page.fill("#period-from", "2026-06-30")
    page.fill("#period-to", "2026-01-01")
    page.get_by_role("button", name="Aggiorna").click()
    assert "La data finale precede quella iniziale." in page.locator("#period-to-error").inner_text()
    assert serious_violations(page) == []


def test_coordinator_sees_where_cases_wait(live_server, page: Any) -> None:
    login(page, live_server, "coordinatore")
    page.get_by_role("link", name="Cruscotto").click()
    waiting = page.locator("table.waiting")
    assert waiting.count() == 2  # casework and intake
    assert "Compila la scheda" in page.locator("#waiting").inner_text()
    assert page.locator("table.overdue").count() == 1
    assert serious_violations(page) == []
    screenshot(page, "dashboard-coordinator-desktop")


def test_coordinator_sees_the_heat_map_and_switches_process(live_server, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login(page, live_server, "coordinatore")
    page.goto(f"{live_server.url}/dashboard")
    heat = page.locator("#heatmap-diagram[data-ready=true]")
    heat.wait_for(timeout=10000)
    assert errors == []
    process = heat.get_attribute("data-process")
    assert process in ("casework", "intake")
    marked = heat.locator("g.djs-element.heat")
    assert marked.count() >= 1
    assert heat.locator("g.djs-element.heat-5").count() >= 1  # the busiest element
    badges = heat.locator(".djs-overlay .diagram-badge")
    assert badges.count() == marked.count()
    assert all(text.strip().isdigit() for text in badges.all_inner_texts())
    assert page.locator("ul.heat-legend li").count() >= 1
    assert serious_violations(page) == []
    screenshot(page, "dashboard-heatmap-desktop")

    other = "intake" if process == "casework" else "casework"
    page.select_option("#heatmap-process", other)
    page.get_by_role("button", name="Mostra").click()
    page.wait_for_url(f"**/dashboard?*process={other}*")
    switched = page.locator("#heatmap-diagram[data-ready=true]")
    switched.wait_for(timeout=10000)
    assert switched.get_attribute("data-process") == other
    assert switched.locator("g.djs-element.heat").count() >= 1
    assert errors == []
    assert serious_violations(page) == []
