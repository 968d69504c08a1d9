"""The admin in a real browser: profile, language choice, a token shown once, user administration."""

from __future__ import annotations

from pathlib import Path

from tests.browser.conftest import screenshot

AXE = Path(__file__).resolve().parent.parent.parent / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = "async () => (await axe.run()).violations.filter(v => ['serious', 'critical'].includes(v.impact))" \
          ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))"


def serious_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    """axe-core's serious and critical findings on the current page."""
    page.add_script_tag(path=str(AXE))
    return page.evaluate(SERIOUS)  # type: ignore[no-any-return]


def test_admin_profile_language_token_and_users(live_server: str, browser) -> None:  # type: ignore[no-untyped-def]
    # bypass_csp only lets the test inject axe-core; the app's own pages carry no inline script.
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="it-IT", bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/login")
        page.fill("#username", "admin")
        page.fill("#password", "demo")
        page.click("main button[type=submit]")
        page.click(".nav-account a")
        assert page.locator("h1").inner_text() == "Il mio profilo"
        assert serious_violations(page) == []
        screenshot(page, "account-profile")

        page.check("input[name=language][value=en]")
        page.click("button:has-text('Salva la lingua')")
        assert page.locator("h1").inner_text() == "My profile"
        assert page.locator("p.flash").inner_text() == "Language saved."

        page.fill("#token-name", "browser test")
        page.click("button:has-text('Create token')")
        assert page.locator("#new-token").inner_text().startswith("pis2_")
        page.goto(f"{live_server}/account/")  # the profile again: the token is not shown a second time
        assert page.locator("#new-token").count() == 0
        assert page.locator("table.tokens").inner_text().count("browser test") == 1

        page.click(".nav-admin a")
        assert page.locator("h1").inner_text().startswith("Users")
        assert serious_violations(page) == []
        screenshot(page, "admin-users")
        page.click("text=New user")
        page.fill("#username", "nuova.collega")
        page.select_option("#organisation", "partner")
        page.check("input[name=roles][value=mediatore]")
        page.click("main button[type=submit]")
        assert page.locator("#e-new_password").is_visible()
        assert page.locator("#username").input_value() == "nuova.collega"  # kept
        assert serious_violations(page) == []
        screenshot(page, "admin-user-new-errors")
        page.fill("#new_password", "una-password-lunga")
        page.fill("#new_password_repeat", "una-password-lunga")
        page.click("main button[type=submit]")
        assert "User nuova.collega created." in page.locator("p.flash").inner_text()
    finally:
        context.close()
