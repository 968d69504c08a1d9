"""Household pages: my case load, one household's file and story, and who may see what of it."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from casefile.models import DataAccessEvent, Household
from casefile.operations import Caller, execute
from engine.models import HumanTask, ProcessInstance
from tests.webapp.staff.conftest import household_id, household_reference, login, post, start_case
from webapp.extensions import db
from webapp.views.households import RECENT_EVENTS


def listed(page: str) -> list[str]:
    return re.findall(r'class="task-name">(NUC-[^<]+)<', page)


def record_health_note(app: Flask, display_name: str) -> None:
    """Special-category data about the household's head, written as the system (it journals an entry)."""
    with app.app_context():
        household = db.session.scalars(select(Household).where(Household.display_name == display_name)).one()
        execute(db.session, "record_sensitive_data", {"person_id": household.memberships[0].person_id,
                                                      "chronic_condition": "diabete"}, Caller.system("test"))
        db.session.commit()


def test_case_load_and_search(programme: Flask, client: FlaskClient) -> None:
    login(client, "coordinatore")  # the lead partner's coordinator reaches every household
    page = client.get("/households").get_data(as_text=True)
    assert len(listed(page)) == 6
    assert "Famiglia Rossi" in page
    found = client.get("/households?q=rossi").get_data(as_text=True)
    assert "Famiglia Rossi" in found
    assert "Famiglia Conti" not in found
    by_status = client.get("/households?status=inserito").get_data(as_text=True)
    assert "Famiglia Rossi" in by_status
    assert "Sig.ra Amadi" not in by_status
    assert client.get("/households?status=sconosciuto&page=0").status_code == 400  # refused, not a 500
    login(client, "mediatore")  # a partner with no household of its own
    assert listed(client.get("/households").get_data(as_text=True)) == []


def test_the_file_tells_the_whole_story(programme: Flask, client: FlaskClient) -> None:
    reference = household_reference(programme, "Famiglia Rossi")
    start_case(programme, business_key=reference)  # a process about the household, with a task open
    login(client, "case_manager")  # on the case team
    rossi = household_id(programme, "Famiglia Rossi")
    page = client.get(f"/households/{rossi}").get_data(as_text=True)
    for expected in ("Mario Rossi", "Intestatario", "Inserito in alloggio", "Via Cigna 12, Torino", "4+4",
                     "Contributo del nucleo", "Morosità", "Progetto personalizzato", "Mantenere l&#39;alloggio",
                     "Visite", "Storia del nucleo", "Processo avviato", "Scheda del caso", "Attività in corso",
                     "Compila la scheda"):
        assert expected in page, expected
    assert "Componente 1" not in page  # names are shown to those who may read them
    recent = re.findall(r'<time datetime="([\d-]+)"', page.split('class="timeline"', 1)[1])
    assert len(recent) == RECENT_EVENTS
    assert recent == sorted(recent, reverse=True)
    assert "Mostra tutta la storia" in page
    assert "Nucleo registrato" not in page
    whole = client.get(f"/households/{rossi}?storia=tutta").get_data(as_text=True)
    everything = re.findall(r'<time datetime="([\d-]+)"', whole.split('class="timeline"', 1)[1])
    assert len(everything) > RECENT_EVENTS
    assert everything == sorted(everything, reverse=True)
    assert "Nucleo registrato" in whole
    assert "Ingresso in alloggio" in whole
    assert "Mostra tutta" not in whole


def test_mediation_cases_in_the_file(programme: Flask, client: FlaskClient) -> None:
    login(client, "coordinatore")
    page = client.get(f"/households/{household_id(programme, 'Sig. Haddad e figli')}").get_data(as_text=True)
    assert "Mediazioni" in page
    assert "Rumori" in page
    assert "Aperto" in page


def test_outside_the_case_load_is_not_found(programme: Flask, client: FlaskClient) -> None:
    waiting = household_id(programme, "Famiglia Conti")  # referred only: no team, no flat
    login(client, "assistente_sociale")  # the City's social worker reaches only the households of their teams
    assert client.get(f"/households/{waiting}").status_code == 404
    assert client.get(f"/households/{household_id(programme, 'Famiglia Rossi')}").status_code == 200
    login(client, "referente_abitativo")  # the lease holder: the tenancy side of households in its flats
    assert client.get(f"/households/{waiting}").status_code == 404
    tenancy = client.get(f"/households/{household_id(programme, 'Famiglia Rossi')}").get_data(as_text=True)
    assert "Via Cigna 12, Torino" in tenancy
    assert "Progetto personalizzato" not in tenancy
    assert "Visite" not in tenancy
    assert "Alcune parti del fascicolo non sono visibili" in tenancy
    assert client.get("/households/999999").status_code == 404  # the same answer as "not yours"


def test_special_category_data_only_for_the_case_team(programme: Flask, client: FlaskClient) -> None:
    record_health_note(programme, "Famiglia Rossi")
    rossi = household_id(programme, "Famiglia Rossi")
    login(client, "case_manager")  # on the team: sees the entry, and the read is logged with its purpose
    assert "Dati sanitari aggiornati" in client.get(f"/households/{rossi}").get_data(as_text=True)
    with programme.app_context():
        logged = db.session.scalars(select(DataAccessEvent).where(DataAccessEvent.actor == "case_manager",
                                                                  DataAccessEvent.household_id == rossi)).all()
        assert {"person_sensitive", "plan"} <= {event.record_type for event in logged}
        assert all(event.purpose for event in logged)
    for outsider in ("bice", "coordinatore"):  # same organisation but not on the team; no health grant
        login(client, outsider)
        page = client.get(f"/households/{rossi}").get_data(as_text=True)
        assert "Famiglia Rossi" in page, outsider
        assert "Dati sanitari aggiornati" not in page, outsider


def test_new_referral_starts_intake_and_opens_its_first_task(programme: Flask, client: FlaskClient) -> None:
    login(client, "anna")
    assert "Nuovo invio" in client.get("/households").get_data(as_text=True)
    response = post(client, "/households/referrals", page="/households")
    assert response.status_code == 303
    with programme.app_context():
        instance = db.session.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "intake")).one()
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)).one()
        assert instance.organisation == "capofila"
        assert instance.started_by == "anna"
    assert response.headers["Location"] == f"/tasks/{task.id}"
    assert "Registra l&#39;invio" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_new_referral_is_for_coordinators_only(programme: Flask, client: FlaskClient) -> None:
    login(client, "case_manager")
    assert "Nuovo invio" not in client.get("/households").get_data(as_text=True)
    assert post(client, "/households/referrals", page="/households").status_code == 403
    with programme.app_context():
        assert db.session.scalars(select(ProcessInstance)).first() is None


def test_the_navigation_offers_households_only_to_roles_that_read_them(programme: Flask, client: FlaskClient) -> None:
    nav_link = 'href="/households"'
    login(client, "case_manager")
    assert nav_link in client.get("/tasks").get_data(as_text=True)
    for role in ("supervisore", "analista", "amministrazione"):  # no access to case files (domain.md §6)
        login(client, role)
        assert nav_link not in client.get("/tasks").get_data(as_text=True), role
