"""A coordinator logs in, sees their referrals, makes a mistake in a form, fixes it and moves on."""

from __future__ import annotations

from tests.browser.conftest import screenshot


def test_coordinator_completes_a_referral(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/tasks")
    assert "/login" in page.url
    page.fill("#username", "coordinatore")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text().startswith("Le mie attività")
    rows = page.locator("table.tasks tbody tr")
    assert rows.count() == 2
    screenshot(page, "task-list")

    page.click("text=Registra l'invio")
    page.click("button:has-text('Completa')")
    assert page.locator("p.flash.error").is_visible()
    assert page.locator(".field.has-error").count() == 7
    page.fill("#f-referring_org", "Polo di Inclusione Sociale Sud")
    page.click("button:has-text('Completa')")
    assert page.locator("#f-referring_org").input_value() == "Polo di Inclusione Sociale Sud"  # kept
    screenshot(page, "task-form-errors")

    page.fill("#f-referral_date", "2026-11-20")
    page.fill("#f-referring_worker", "Dott.ssa Neri")
    page.fill("#f-household_name", "Famiglia Esposito")
    page.select_option("#f-referral_source", "servizio_sociale_territoriale")
    page.select_option("#f-urgency", "sfratto_esecutivo")
    page.select_option("#f-housing_need_type", "emergenza_abitativa")
    page.click("button:has-text('Completa')")
    assert "Attività completata: Registra l'invio" in page.locator("p.flash").inner_text()
    assert page.locator("table.tasks tbody tr").count() == 2  # its next step is the coordinator's too
    assert page.locator("text=Conferma la ricezione dell'invio").count() == 2
    screenshot(page, "task-list-after")


def test_english_on_request(live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server}/login?lang=en")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("#username", "case_manager")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text().startswith("My tasks")
    assert "Primo colloquio e informativa privacy" in page.content()
