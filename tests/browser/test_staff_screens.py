"""Staff screens in a real browser: roles, a form with a mistake and its correction, claiming, languages,
a household's story, accessibility (axe-core) and screenshots at desktop and phone width."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import LiveServer, login, screenshot, serious_violations


def test_coordinator_completes_a_form_after_correcting_a_mistake(live_server: LiveServer, page: Any) -> None:
    page.goto(f"{live_server.url}/tasks")
    assert "/login" in page.url  # pages need a login
    login(page, live_server, "coordinatore")
    assert page.locator("h1").inner_text() == "Le mie attività"
    overdue = page.locator("tr.is-overdue")
    assert overdue.count() == 1
    assert "In ritardo" in overdue.inner_text()
    screenshot(page, "task-list-desktop")

    page.locator("tr", has_text="NUC-RITARDO").get_by_role("link", name="Compila la scheda").click()
    assert page.locator("h1").inner_text() == "Compila la scheda"
    page.fill("#f-members-0-first_name", "Ada")
    page.fill("#f-amount", "dodici")
    page.get_by_role("button", name="Completa").click()
    summary = page.locator(".error-summary")
    assert summary.is_visible()
    assert "Correggi i campi evidenziati." in summary.inner_text()
    assert page.locator("#e-reference_date").inner_text() == "Campo obbligatorio."
    assert page.locator("#e-amount").inner_text() == "Inserisci un numero."
    assert page.locator("#f-members-0-first_name").input_value() == "Ada"  # kept
    assert page.locator("#f-amount").get_attribute("aria-invalid") == "true"
    screenshot(page, "task-form-errors-desktop")

    page.get_by_role("button", name="Aggiungi: Componente").click()  # another row, without JavaScript
    assert page.locator("#f-members-0-first_name").input_value() == "Ada"
    page.fill("#f-members-1-first_name", "Bruno")
    page.fill("#f-members-1-birth_date", "2015-04-02")
    page.fill("#f-members-0-birth_date", "1988-10-12")
    page.fill("#f-reference_date", "2026-03-01")
    page.fill("#f-amount", "12,50")
    page.get_by_label("A domicilio").check()
    page.get_by_label("Informativa privacy consegnata").check()
    page.fill("#f-notes", "Colloquio sereno")
    page.get_by_role("button", name="Completa").click()

    # On to the next step of the same case, pre-filled from what was just written.
    assert "Attività completata: Compila la scheda" in page.locator("p.flash").inner_text()
    assert page.locator("h1").inner_text() == "Conferma la scheda"
    assert page.locator("#f-notes").input_value() == "Colloquio sereno"


def test_claim_and_unclaim(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "anna")
    row = page.locator("tr", has_text="INVIO-1")
    assert "Da prendere in carico" in row.inner_text()
    row.get_by_role("button", name=re.compile("^Prendi in carico")).click()
    assert "Attività presa in carico" in page.locator("p.flash").inner_text()
    row = page.locator("tr", has_text="INVIO-1")
    assert "Assegnata a me" in row.inner_text()
    assert re.search(r"1\s+assegnate a me", page.locator(".counts").inner_text())
    row.get_by_role("button", name=re.compile("^Rilascia")).click()
    assert "Attività rilasciata" in page.locator("p.flash").inner_text()
    assert "Da prendere in carico" in page.locator("tr", has_text="INVIO-1").inner_text()


def test_enter_in_a_field_saves_a_draft(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "coordinatore")
    page.locator("tr", has_text="INVIO-2").get_by_role("link").first.click()
    page.fill("#f-household_name", "Famiglia Verdi")
    page.press("#f-household_name", "Enter")
    assert "Bozza salvata" in page.locator("p.flash").inner_text()
    page.goto(f"{live_server.url}/tasks")
    page.locator("tr", has_text="INVIO-2").get_by_role("link").first.click()
    assert page.locator("#f-household_name").input_value() == "Famiglia Verdi"  # restored on the next visit


def test_language_switch(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "case_manager")
    page.get_by_role("link", name="English").click()
    assert page.locator("h1").inner_text() == "My tasks"
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("link", name="Italiano").click()
    assert page.locator("h1").inner_text() == "Le mie attività"


def test_case_manager_reads_a_household_timeline(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "case_manager")
    page.get_by_role("link", name="Nuclei").click()
    page.fill("#q", "Rossi")
    page.get_by_role("button", name="Cerca").click()
    page.locator("table").get_by_role("link").first.click()
    assert page.locator("h1").inner_text() == "Famiglia Rossi"
    assert "Processo avviato" in page.locator("ol.timeline").inner_text()  # the latest events first
    assert "Morosità" in page.locator("article[aria-labelledby=money-title]").inner_text()
    screenshot(page, "household-file-desktop")
    page.get_by_role("link", name=re.compile("Mostra tutta la storia")).click()
    text = page.locator("ol.timeline").inner_text()
    for entry in ("Nucleo registrato", "Presa in carico", "Ingresso in alloggio", "Processo avviato"):
        assert entry in text, entry


def test_housing_officer_sees_only_the_tenancy_side(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "referente_abitativo")
    page.goto(f"{live_server.url}/households/{live_server.cases['rossi']}")
    assert "Via Cigna 12" in page.content()
    assert page.locator("#plan-title").count() == 0
    assert page.locator("#visits-title").count() == 0


def test_no_serious_accessibility_violations(live_server: LiveServer, page: Any) -> None:
    login(page, live_server, "coordinatore")
    found = {"task list": serious_violations(page)}
    page.locator("tr", has_text="INVIO-3").get_by_role("link").first.click()
    found["task page"] = serious_violations(page)
    page.get_by_role("button", name="Completa").click()  # with its errors shown
    found["task page with errors"] = serious_violations(page)
    page.goto(f"{live_server.url}/tasks?scope=team")
    found["organisation's tasks"] = serious_violations(page)
    page.goto(f"{live_server.url}/households")
    found["household list"] = serious_violations(page)
    page.goto(f"{live_server.url}/households/{live_server.cases['rossi']}")
    found["household file"] = serious_violations(page)
    assert {name: issues for name, issues in found.items() if issues} == {}


def test_phone_width_screens(live_server: LiveServer, phone: Any) -> None:
    messages: list[str] = []
    phone.on("console", lambda message: messages.append(message.text))
    phone.goto(f"{live_server.url}/login")
    screenshot(phone, "login-phone")
    login(phone, live_server, "coordinatore")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(phone, "task-list-phone")
    phone.locator("tr", has_text="INVIO-4").get_by_role("link").first.click()
    phone.get_by_role("button", name="Completa").click()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "task-form-errors-phone")
    phone.goto(f"{live_server.url}/households/{live_server.cases['rossi']}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "household-file-phone")
    assert [m for m in messages if "Content Security Policy" in m] == []  # no inline script or style anywhere
