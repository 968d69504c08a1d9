"""Who may open the dashboard, and whose data it counts."""

from __future__ import annotations

import pytest

from tests.webapp.dashboard.conftest import ZENO


@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/indicators.csv", "/dashboard/indicators.xlsx"])
def test_anonymous_is_sent_to_login(client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["case_manager", "assistente_sociale", "analista", "mediatore"])
@pytest.mark.parametrize("path", ["/dashboard", "/dashboard/indicators.csv", "/dashboard/indicators.xlsx"])
def test_other_roles_are_refused(staff_app, as_user, role: str, path: str) -> None:
    assert as_user(role).get(path).status_code == 403


@pytest.mark.parametrize("role", ["coordinatore", "supervisore", "admin"])
def test_tracking_roles_see_the_link_and_the_page(staff_app, as_user, role: str) -> None:
    client = as_user(role)
    assert 'href="/dashboard"' in client.get("/tasks").get_data(as_text=True)
    assert client.get("/dashboard").status_code == 200


def test_no_link_for_other_roles(staff_app, as_user) -> None:
    assert 'href="/dashboard"' not in as_user("case_manager").get("/tasks").get_data(as_text=True)


def test_other_organisations_instances_are_not_counted(staff_app, start, as_user) -> None:
    for _ in range(3):
        start("casework", actor=ZENO)
    page = as_user("coordinatore").get("/dashboard").get_data(as_text=True)
    assert "Nessuna istanza attiva in attesa." in page
    assert 'class="waiting"' not in page
    assert 'data-element="register"' in as_user("zeno").get("/dashboard").get_data(as_text=True)
