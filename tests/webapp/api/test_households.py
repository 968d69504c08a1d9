"""/api/v1/households: the case load by role and organisation, the file section by section, the timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casefile.models import DataAccessEvent, Household
from tests.webapp.api.conftest import Api, assert_error
from webapp.extensions import db

HOUSEHOLDS = "/api/v1/households"


def _household_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalars(select(Household.id).where(Household.display_name == name)).one()


def _references(api: Api, username: str, query: str = "") -> list[str]:
    response = api.get(f"{HOUSEHOLDS}{query}", as_=username)
    assert response.status_code == 200, response.get_json()
    return [item["reference"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(("username", "count"), [
    ("coordinatore", 6), ("case_manager", 6), ("equipe", 6),  # the lead partner manages all six
    ("assistente_sociale", 4),  # on the team of the four enrolled households only
    ("referente_abitativo", 2), ("amministrazione", 2),  # the two living in the lease holder's flats
    ("mediatore", 0), ("operatore_lavoro", 0), ("dario", 0),  # other organisations, on no team
    ("supervisore", 0), ("analista", 0), ("admin", 0),  # aggregates only
])
def test_each_role_lists_its_case_load(api, username, count) -> None:
    body = api.get(f"{HOUSEHOLDS}?limit=100", as_=username).get_json()
    assert body["total"] == count == len(body["items"])


def test_names_and_statuses_only_where_the_policy_allows(api) -> None:
    finance = api.get(HOUSEHOLDS, as_="amministrazione").get_json()["items"]
    assert all(item["display_name"] is None and item["status"] is None for item in finance)
    housing = api.get(HOUSEHOLDS, as_="referente_abitativo").get_json()["items"]
    assert {item["display_name"] for item in housing} == {"Famiglia Rossi", "Sig. Haddad e figli"}
    assert all(item["status"] is None for item in housing)


def test_search_status_and_pages(api) -> None:
    assert len(_references(api, "coordinatore", "?search=rossi")) == 1
    assert _references(api, "amministrazione", "?search=rossi") == []  # a name it may not read
    assert len(_references(api, "coordinatore", "?status=inserito")) == 2
    assert len(_references(api, "coordinatore", "?status=segnalazione")) == 2
    first, second = (api.get(f"{HOUSEHOLDS}?limit=4&offset={o}", as_="coordinatore").get_json() for o in (0, 4))
    assert (len(first["items"]), len(second["items"]), first["total"]) == (4, 2, 6)
    assert_error(api.get(f"{HOUSEHOLDS}?status=felice", as_="coordinatore"), 422)
    assert_error(api.get(f"{HOUSEHOLDS}?search=", as_="coordinatore"), 422)


def test_the_file_of_a_housed_household_for_its_case_manager(app, api) -> None:
    rossi = _household_id(app, "Famiglia Rossi")
    body = api.get(f"{HOUSEHOLDS}/{rossi}?purpose=preparazione visita", as_="case_manager").get_json()
    assert body["display_name"] == "Famiglia Rossi"
    assert body["members"][0]["first_name"] == "Mario"
    assert body["enrollment"]["status"] == "inserito"
    assert {m["username"] for m in body["enrollment"]["team"]} == {"case_manager", "assistente_sociale"}
    assert body["placement"]["unit"]["address"] == "Via Cigna 12, Torino"
    assert body["contribution"]["arrears_cents"] > 0
    assert body["contribution"]["months_unpaid"] >= 1
    assert len(body["plan"]["goals"]) == 2
    assert body["visits"]
    assert body["active_instances"] == []
    assert body["active_tasks"] == []
    with app.app_context():
        logged = set(db.session.scalars(select(DataAccessEvent.record_type).where(
            DataAccessEvent.actor == "case_manager", DataAccessEvent.purpose == "preparazione visita")))
    assert {"plan", "visit", "exit"} <= logged


def test_the_housing_officer_reads_the_tenancy_side_only(app, api) -> None:
    rossi = _household_id(app, "Famiglia Rossi")
    body = api.get(f"{HOUSEHOLDS}/{rossi}", as_="referente_abitativo").get_json()
    assert body["sections"] == ["household", "members", "placement"]
    assert body["placement"]["lease"]["monthly_rent_cents"] == 62000
    for hidden in ("enrollment", "plan", "visits", "contribution", "exit", "active_tasks"):
        assert body[hidden] is None, hidden


def test_a_household_outside_the_case_load_is_not_found(app, api) -> None:
    conti = _household_id(app, "Famiglia Conti")  # referred only: no team, no flat
    for username in ("assistente_sociale", "referente_abitativo", "mediatore", "dario", "supervisore"):
        assert_error(api.get(f"{HOUSEHOLDS}/{conti}", as_=username), 404, "not_found")
        assert_error(api.get(f"{HOUSEHOLDS}/{conti}/timeline", as_=username), 404, "not_found")
    missing = assert_error(api.get(f"{HOUSEHOLDS}/99999", as_="coordinatore"), 404, "not_found")
    hidden = assert_error(api.get(f"{HOUSEHOLDS}/{conti}", as_="dario"), 404, "not_found")
    assert missing["message"].replace("99999", "N") == hidden["message"].replace(str(conti), "N")
    assert_error(api.get(f"{HOUSEHOLDS}/{2**40}", as_="coordinatore"), 404)


def test_running_processes_and_timeline_of_a_household(app, api) -> None:
    rossi = _household_id(app, "Famiglia Rossi")
    with app.app_context():
        reference = db.session.get(Household, rossi).reference  # type: ignore[union-attr]
    started = api.start(business_key=reference)
    body = api.get(f"{HOUSEHOLDS}/{rossi}", as_="case_manager").get_json()
    assert [i["id"] for i in body["active_instances"]] == [started["id"]]
    # The coordinator's task is not the case manager's to see, even in the file of its household.
    assert body["active_tasks"] == []
    coordinator = api.get(f"{HOUSEHOLDS}/{rossi}", as_="coordinatore").get_json()
    assert [t["id"] for t in coordinator["active_tasks"]] == [started["tasks"][0]["id"]]
    # A coordinator of another partner: the household is outside its case load, so it does not exist for it.
    assert api.get(f"{HOUSEHOLDS}/{rossi}", as_="carla").status_code == 404
    timeline = api.get(f"{HOUSEHOLDS}/{rossi}/timeline", as_="case_manager").get_json()
    kinds = [(entry["source"], entry["kind"]) for entry in timeline["items"]]
    assert ("process", "instance_started") in kinds
    assert ("record", "record_move_in") in kinds
    # Administration reads the money entries only.
    finance = api.get(f"{HOUSEHOLDS}/{rossi}/timeline", as_="amministrazione").get_json()["items"]
    assert finance
    assert {entry["record_type"] for entry in finance} <= {"rent", "contribution", "repayment_plan"}


@pytest.mark.parametrize("purpose", ["", "  ", "ab", "x" * 201])
def test_a_purpose_must_say_something(app, api, purpose) -> None:
    rossi = _household_id(app, "Famiglia Rossi")
    error = assert_error(api.get(f"{HOUSEHOLDS}/{rossi}", as_="case_manager", query_string={"purpose": purpose}), 422)
    assert list(error["details"]["fields"]) == ["purpose"]
