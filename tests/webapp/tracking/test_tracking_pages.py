"""The 'Istanze' pages: filters, search, CSV, detail with history, and who may see what."""

from __future__ import annotations

import csv
import io

from tests.webapp.staff.conftest import household_reference, token_of
from tests.webapp.tracking.conftest import ZENO


def _ids(page: str) -> set[int]:
    import re

    return {int(number) for number in re.findall(r'href="/instances/(\d+)"', page)}


def test_list_shows_own_organisation_only_and_each_filter_narrows(staff_app, flaky, start, as_user,
                                                                  staff_clock) -> None:
    first = start("casework", business_key="NUC-UNO")
    staff_clock.advance(days=3)
    second = start("intake", business_key="INVIO-DUE")
    failed = start("flaky", business_key="NUC-GUASTO")
    other = start("casework", actor=ZENO, business_key="NUC-ALTRO")
    client = as_user("coordinatore")
    page = client.get("/instances").get_data(as_text=True)
    assert _ids(page) == {first, second, failed}
    assert other not in _ids(page)

    def ids(query: str) -> set[int]:
        response = client.get("/instances?" + query)
        assert response.status_code == 200, query
        return _ids(response.get_data(as_text=True))

    assert ids("process=intake") == {second}
    assert ids("status=error") == {failed}
    assert ids("status=waiting") == set()
    assert ids("household=nuc-") == {first, failed}
    assert ids("task=Compila") == {first}
    # casework's first task was due a day after it started; three days on it is late.
    assert ids("overdue=1") == {first}
    assert ids("started_from=2026-03-04") == {second, failed}
    assert ids("started_to=2026-03-02") == {first}
    assert ids(f"q={failed}") == {failed}
    assert ids("q=guasto") == {failed}
    with staff_app.app_context():
        from engine.models import ProcessInstance
        from webapp.extensions import db

        version = db.session.get(ProcessInstance, second).process_version_id
    assert ids(f"version={version}") == {second}


def test_bad_filters_answer_400_with_a_message_not_500(flaky, start, as_user) -> None:
    start("casework")
    client = as_user("coordinatore")
    response = client.get("/instances?started_from=ieri&status=bogus&version=x")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Data non valida." in page
    assert "Stato non valido." in page


def test_csv_export_has_the_filtered_rows(flaky, start, as_user) -> None:
    kept = start("casework", business_key="=HYPERLINK(1)")
    start("intake", business_key="INVIO-1")
    response = as_user("coordinatore").get("/instances.csv?process=casework")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["id", "process_id", "process_version_id", "status"]
    assert [row[0] for row in rows[1:]] == [str(kept)]
    assert rows[1][3] == "running"
    assert rows[1][4] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert rows[1][9] == "Compila la scheda"


def test_detail_shows_tasks_and_history_with_values_for_coordinators_only(programme, flaky, start,
                                                                          as_user) -> None:
    reference = household_reference(programme, "Famiglia Rossi")
    instance_id = start("casework", business_key=reference)
    coordinator = as_user("coordinatore")
    page = coordinator.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Compila la scheda" in page
    assert "Avvio" in page
    assert "/households/" in page  # the coordinator may open the household's file
    supervisor = as_user("supervisore")
    assert supervisor.get(f"/instances/{instance_id}").status_code == 404  # another organisation (comune)


def test_supervisor_sees_field_names_not_values(staff_app, flaky, start, as_user) -> None:
    from engine import Actor

    supervisor_org = Actor("coordinatore", frozenset({"coordinatore"}), "comune")
    flaky.fixed = True
    instance_id = start("flaky", actor=supervisor_org, business_key="NUC-SEGRETO")
    with staff_app.app_context():
        from sqlalchemy import select

        from engine.models import HumanTask
        from webapp.extensions import db

        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        staff_app.extensions["engine"].complete_task(
            db.session, task.id, {"notes": "Nome Riservato"}, supervisor_org)
        db.session.commit()
    page = as_user("supervisore").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Attività svolta" in page
    assert "notes" in page
    assert "Nome Riservato" not in page
    assert "/households/" not in page


def test_permissions(flaky, start, as_user, staff_app) -> None:
    mine = start("casework")
    other = start("casework", actor=ZENO)
    assert as_user("coordinatore").get(f"/instances/{other}").status_code == 404
    assert as_user("case_manager").get("/instances").status_code == 403
    assert as_user("case_manager").get(f"/instances/{mine}").status_code == 403
    assert as_user("admin").get(f"/instances/{other}").status_code == 200  # administrators see every organisation
    anonymous = staff_app.test_client().get("/instances")
    assert anonymous.status_code == 302
    assert "/login" in anonymous.headers["Location"]
    nav = as_user("coordinatore").get("/tasks").get_data(as_text=True)
    assert 'href="/instances"' in nav
    assert 'href="/instances"' not in as_user("case_manager").get("/tasks").get_data(as_text=True)


def test_actions_need_the_csrf_token(flaky, start, as_user) -> None:
    instance_id = start("casework")
    response = as_user("coordinatore").post(f"/instances/{instance_id}/suspend",
                                            data={"reason": "x", "confirm": "yes"})
    assert response.status_code == 400


def _post(client, instance_id: int, action: str, data: dict | None = None):  # type: ignore[no-untyped-def]
    token = token_of(client.get(f"/instances/{instance_id}").get_data(as_text=True))
    return client.post(f"/instances/{instance_id}/{action}", data={**(data or {}), "csrf_token": token})


def test_coordinator_sees_the_values_a_step_changed(staff_app, flaky, start, as_user) -> None:
    from sqlalchemy import select

    from engine.models import HumanTask
    from tests.webapp.tracking.conftest import ANNA
    from webapp.extensions import db

    flaky.fixed = True
    instance_id = start("flaky")
    with staff_app.app_context():
        task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        staff_app.extensions["engine"].complete_task(db.session, task.id, {"notes": "Esito regolare"}, ANNA)
        db.session.commit()
    page = as_user("coordinatore").get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Esito regolare" in page
    assert "Verifica l&#39;esito" in page  # the step names its task


def test_the_list_says_whose_instances_it_shows(start, as_user) -> None:
    start("casework", business_key="NUC-UNO")  # the capofila's
    supervisor = as_user("supervisore").get("/instances").get_data(as_text=True)
    assert "avviato dal tuo ente (comune)" in supervisor
    assert "Nessuna istanza avviata dal tuo ente" in supervisor
    assert 'href="/dashboard">Gli indicatori dell\'intero programma' in supervisor  # where to look instead
    administrator = as_user("admin").get("/instances").get_data(as_text=True)
    assert "di tutti gli enti" in administrator
    assert "Nessuna istanza avviata" not in administrator
