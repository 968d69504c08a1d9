"""'Le mie attività': what is mine, what is late, filters, counts and pages."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from engine.clock import FrozenClock
from tests.webapp.staff.conftest import login, post, start_case
from webapp.views.tasks import PAGE_SIZE


def rows(page: str) -> list[str]:
    """The task names listed, in order."""
    return [html.unescape(name) for name in re.findall(r'class="task-name">([^<]+)<', page)]


def count(page: str, css_class: str) -> int:
    match = re.search(rf'<li class="{css_class}"><a [^>]*><strong>(\d+)</strong>', page)
    assert match, css_class
    return int(match.group(1))


def test_lists_my_roles_tasks_of_my_organisation_only(staff_app: Flask, client: FlaskClient) -> None:
    start_case(staff_app, business_key="CASA-1")
    start_case(staff_app, org="altro", business_key="CASA-ALTRO")
    login(client, "anna")
    page = client.get("/tasks").get_data(as_text=True)
    assert rows(page) == ["Compila la scheda"]
    assert "CASA-ALTRO" not in page
    client.post("/logout", data={"csrf_token": page.split('name="csrf_token" value="')[1].split('"')[0]})
    login(client, "bice")  # a case manager: the first step is the coordinator's
    assert rows(client.get("/tasks").get_data(as_text=True)) == []


def test_overdue_and_due_today_are_marked_with_words_and_counted(staff_app: Flask, client: FlaskClient,
                                                                staff_clock: FrozenClock) -> None:
    start_case(staff_app, business_key="VECCHIO")  # due in one day
    staff_clock.advance(days=2)
    start_case(staff_app, business_key="NUOVO")
    staff_clock.advance(hours=1)
    start_case(staff_app, business_key="OGGI")
    staff_clock.advance(hours=20)  # OGGI and NUOVO are due in 3 and 4 hours: still today in Turin
    login(client, "anna")
    page = client.get("/tasks").get_data(as_text=True)
    assert page.count('class="status overdue">In ritardo<') == 1
    assert page.count('class="status today">Scade oggi<') == 2
    assert 'class="is-overdue"' in page  # the row is marked too, not the colour alone
    assert count(page, "count-overdue") == 1
    assert count(page, "count-today") == 2
    assert re.search(r"<strong>3</strong> da prendere in carico", page)
    assert re.search(r"<strong>0</strong> assegnate a me", page)
    overdue_only = client.get("/tasks?overdue=1").get_data(as_text=True)
    assert "VECCHIO" in overdue_only
    assert "NUOVO" not in overdue_only


def test_filters_by_process_household_and_due_date(staff_app: Flask, client: FlaskClient,
                                                   staff_clock: FrozenClock) -> None:
    start_case(staff_app, business_key="NUC-2026-0101")
    start_case(staff_app, "intake")
    staff_clock.advance(days=10)
    start_case(staff_app, business_key="NUC-2026-0202")
    login(client, "anna")
    by_process = client.get("/tasks?process=intake").get_data(as_text=True)
    assert rows(by_process) == ["Registra l'invio"]
    by_key = client.get("/tasks?household=nuc-2026-02").get_data(as_text=True)  # part of it, any case
    assert rows(by_key) == ["Compila la scheda"]
    assert "NUC-2026-0202" in by_key
    assert "NUC-2026-0101" not in by_key
    # Due by 2026-03-04: the two first cases (due 03/03 and 04/03), not the one due 13/03.
    by_date = client.get("/tasks?due_by=2026-03-04").get_data(as_text=True)
    assert sorted(rows(by_date)) == ["Compila la scheda", "Registra l'invio"]
    assert "NUC-2026-0202" not in by_date
    nothing = client.get("/tasks?household=%25").get_data(as_text=True)  # a LIKE wildcard is just a character
    assert rows(nothing) == []
    assert "Nessuna attività con questi filtri." in nothing


def test_bad_filter_values_are_refused_next_to_the_field_not_with_a_500(staff_app: Flask,
                                                                        client: FlaskClient) -> None:
    start_case(staff_app)
    login(client, "anna")
    response = client.get("/tasks?due_by=31/02/2026&page=-4&overdue=forse")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="filter-due-error" class="error">Data non valida.' in page
    assert 'value="31/02/2026"' in page  # what was typed is kept
    assert "Pagina non valida." in page
    assert rows(page) == ["Compila la scheda"]  # the valid part of the request still answers


def test_sorted_by_due_date_and_paginated(staff_app: Flask, client: FlaskClient, staff_clock: FrozenClock) -> None:
    total = PAGE_SIZE + 3
    for number in range(total):
        start_case(staff_app, business_key=f"K{number:03d}")
        staff_clock.advance(minutes=1)
    login(client, "anna")
    first = client.get("/tasks").get_data(as_text=True)
    keys = re.findall(r"<td data-label=\"Nucleo\">\s*(K\d{3})", first)
    assert keys == [f"K{n:03d}" for n in range(PAGE_SIZE)]  # soonest due first
    assert 'rel="next"' in first
    assert 'rel="prev"' not in first
    second = client.get("/tasks?page=2").get_data(as_text=True)
    keys = re.findall(r"<td data-label=\"Nucleo\">\s*(K\d{3})", second)
    assert keys == [f"K{n:03d}" for n in range(PAGE_SIZE, total)]
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second


def test_claimed_task_shows_as_mine_and_counts(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    start_case(staff_app)
    login(client, "anna")
    post(client, f"/tasks/{task_id}/claim")
    page = client.get("/tasks").get_data(as_text=True)
    assert page.count("Assegnata a me</span>") == 1
    assert re.search(r"<strong>1</strong> assegnate a me", page)
    assert re.search(r"<strong>1</strong> da prendere in carico", page)


def test_team_view_is_for_coordinators(staff_app: Flask, client: FlaskClient) -> None:
    start_case(staff_app)
    login(client, "bice")
    page = client.get("/tasks?scope=team").get_data(as_text=True)
    assert "Attività dell&#39;ente" not in page
    assert "reassign" not in page
    assert "Tutte quelle dell" not in page  # no tab either
