"""The task page: where the task belongs, safe instructions, a form that never loses what was typed."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.models import HumanTask, TaskDraft
from tests.webapp.staff.conftest import household_reference, login, post, start_case, task_row
from webapp.extensions import db
from webapp.views.taskpage import task_data_of

VALID = {
    "reference_date": "2026-03-01", "visit_mode": "domiciliare", "privacy_ok": "on", "amount": "12,50",
    "adults": "2", "members.__rows": "1", "members.0.first_name": "Ada", "members.0.birth_date": "1990-05-01",
    "members.0.relationship": "1", "needs": ["casa", "lavoro"], "notes": "Prima visita andata bene",
}


def submit(client: FlaskClient, task_id: str, data: dict[str, Any], action: str = "complete") -> Any:
    return post(client, f"/tasks/{task_id}", {**data, "_action": action}, page=f"/tasks/{task_id}")


def field_value(page: str, name: str) -> str | None:
    match = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else None


def checked(page: str, name: str) -> list[str]:
    """The values of the checked radios or checkboxes called ``name``."""
    return re.findall(rf'name="{re.escape(name)}" value="([^"]*)"\s+checked', page)


def test_instructions_are_markdown_with_raw_html_escaped(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<strong>scheda del caso</strong>" in page
    assert '<a href="https://example.org/guida">Guida operativa</a>' in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_breadcrumbs_link_the_household_file(programme: Flask, client: FlaskClient) -> None:
    reference = household_reference(programme, "Famiglia Rossi")
    task_id = start_case(programme, business_key=reference)
    login(client, "anna")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    crumbs = page.split('class="crumbs"', 1)[1].split("</nav>", 1)[0]
    assert "Scheda del caso" in crumbs
    assert re.search(rf'<a href="/households/\d+">{reference}</a>', crumbs)


def test_every_widget_kind_with_accessible_labels(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    # Date input, label tied to it, help text described, required marked (visibly and for assistive tech).
    assert re.search(r'<label for="f-reference_date">Data di riferimento<span class="required" aria-hidden="true">\*',
                     page)
    assert re.search(r'id="f-reference_date" name="reference_date" type="date" value="" required '
                     r'aria-describedby="h-reference_date"', page)
    assert '<small id="h-reference_date" class="help">Il giorno del primo contatto</small>' in page
    # A required short enumeration: radios in a fieldset with a legend; a long one: a select.
    assert re.search(r'<fieldset class="choices" id="f-visit_mode"\s*>\s*<legend>Modalità del colloquio', page)
    assert 'type="radio" id="f-visit_mode-0" name="visit_mode" value="domiciliare"' in page
    assert '<select id="f-district" name="district"' in page
    assert '<option value="8" >8</option>' in page
    # ui:widget radio with ui:enumNames; numbers with a numeric keypad; booleans; choice lists; textarea.
    assert 'name="priority" value="alta"   > Alta</label>' in page
    assert 'name="amount" type="text" inputmode="decimal"' in page
    assert 'name="adults" type="text" inputmode="numeric"' in page
    assert 'type="checkbox" id="f-interpreter" name="interpreter"' in page
    assert 'type="checkbox" id="f-needs-1" name="needs" value="lavoro"' in page
    assert '<textarea id="f-notes" name="notes"' in page
    # A repeatable group: one row to start, with its own labelled fields and add/remove buttons.
    assert '<label for="f-members-0-first_name">Nome' in page
    assert 'name="members.__rows" value="1"' in page
    assert 'value="add:members"' in page
    assert 'value="remove:members.0"' in page


def test_errors_next_to_each_field_and_everything_typed_kept(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    typed = {**VALID, "reference_date": "", "amount": "dodici", "adults": "30", "privacy_ok": "",
             "members.0.birth_date": "", "priority": "media"}
    response = submit(client, task_id, typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "Correggi i campi evidenziati." in page
    errors = dict(re.findall(r'<small id="e-([\w-]+)" class="error">([^<]+)</small>', page))
    assert errors == {
        "reference_date": "Campo obbligatorio.", "amount": "Inserisci un numero.",
        "adults": "Il valore massimo è 12.", "privacy_ok": "Questa conferma è obbligatoria.",
        "members-0-birth_date": "Campo obbligatorio.",
    }
    assert re.search(r'id="f-amount"[^>]*aria-describedby="h-amount e-amount" aria-invalid="true"', page)
    assert '<a href="#f-members-0-birth_date">Data di nascita</a>' in page  # the summary links to the field
    assert field_value(page, "amount") == "dodici"
    assert field_value(page, "adults") == "30"
    assert field_value(page, "members.0.first_name") == "Ada"
    assert checked(page, "priority") == ["media"]
    assert checked(page, "needs") == ["casa", "lavoro"]
    assert "Prima visita andata bene</textarea>" in page
    assert task_row(staff_app, task_id).status == "ready"


def test_errors_in_english_for_english_readers(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    client.get("/tasks?lang=en")
    page = submit(client, task_id, {**VALID, "reference_date": ""}).get_data(as_text=True)
    assert '<small id="e-reference_date" class="error">Required.</small>' in page


def test_add_and_remove_group_rows_without_javascript(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    added = submit(client, task_id, VALID, action="add:members")
    assert added.status_code == 200
    page = added.get_data(as_text=True)
    assert 'name="members.__rows" value="2"' in page
    assert field_value(page, "members.0.first_name") == "Ada"
    assert field_value(page, "members.1.first_name") == ""
    assert field_value(page, "amount") == "12,50"  # the rest of the form is kept as typed
    two = {**VALID, "members.__rows": "2", "members.1.first_name": "Bea", "members.1.birth_date": "2015-02-02"}
    removed = submit(client, task_id, two, action="remove:members.0").get_data(as_text=True)
    assert 'name="members.__rows" value="1"' in removed
    assert field_value(removed, "members.0.first_name") == "Bea"
    assert task_row(staff_app, task_id).status == "ready"  # nothing was submitted to the engine


def test_complete_goes_on_to_my_next_step_prefilled_from_the_case(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    # An untouched extra row is left out rather than refused.
    done = submit(client, task_id, {**VALID, "members.__rows": "2"})
    assert done.status_code == 303
    row = task_row(staff_app, task_id)
    assert row.status == "completed"
    assert row.completed_by == "anna"
    with staff_app.app_context():
        confirm = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                             HumanTask.status == "ready")).one()
        data = task_data_of(db.session, staff_app.extensions["engine"], confirm)
    assert done.headers["Location"] == f"/tasks/{confirm.id}"
    assert data["members"] == [{"first_name": "Ada", "birth_date": "1990-05-01", "relationship": "1"}]
    assert data["amount"] == 12.5
    assert data["adults"] == 2
    assert data["needs"] == ["casa", "lavoro"]
    assert data["interpreter"] is False
    assert data["privacy_ok"] is True
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Attività completata: Compila la scheda" in page
    assert "Prima visita andata bene</textarea>" in page  # 'notes' of the same name, from the case's data


def test_after_the_last_step_of_mine_back_to_the_list(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app, "intake")
    login(client, "anna")
    done = submit(client, task_id, {"household_name": "Famiglia Neri"})
    assert done.status_code == 303
    assert done.headers["Location"] == "/tasks"


def test_draft_is_saved_unvalidated_and_restored_then_discarded(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    draft = {**VALID, "amount": "non so", "members.__rows": "2", "members.1.first_name": "Bea"}
    saved = submit(client, task_id, draft, action="draft")
    assert saved.status_code == 303
    assert saved.headers["Location"] == f"/tasks/{task_id}"
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "Bozza salvata: la ritrovi quando riapri l&#39;attività." in page
    assert "Bozza salvata il 02/03/2026 10:00." in page
    assert field_value(page, "amount") == "non so"
    assert field_value(page, "members.1.first_name") == "Bea"
    assert checked(page, "needs") == ["casa", "lavoro"]
    login(client, "coordinatore")  # a colleague with the role sees the draft too: the work is the role's
    assert field_value(client.get(f"/tasks/{task_id}").get_data(as_text=True), "amount") == "non so"
    assert submit(client, task_id, VALID).status_code == 303
    with staff_app.app_context():
        assert db.session.get(TaskDraft, task_id) is None


def test_enter_in_a_text_box_saves_a_draft_rather_than_completing(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    page = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    form = page.split('class="task-form"', 1)[1]
    first_button = re.search(r"<button [^>]*>", form).group(0)
    assert 'value="draft"' in first_button
    assert "hidden" in first_button


def test_a_task_done_meanwhile_keeps_what_was_typed(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app, "intake")
    login(client, "anna")
    token_page = f"/tasks/{task_id}"
    login(client, "coordinatore")
    submit(client, task_id, {"household_name": "Famiglia Neri"})
    login(client, "anna")
    response = post(client, token_page, {"_action": "complete", "household_name": "Famiglia Bianchi"}, page="/tasks")
    assert response.status_code == 200  # the task is no longer to do: the page says so
    assert "Questa attività non è più da svolgere." in response.get_data(as_text=True)


def test_an_expired_form_token_keeps_what_was_typed(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app)
    login(client, "anna")
    response = client.post(f"/tasks/{task_id}", data={**VALID, "_action": "complete", "csrf_token": "scaduto"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Il modulo è rimasto aperto a lungo" in page
    assert field_value(page, "members.0.first_name") == "Ada"
    assert "Prima visita andata bene</textarea>" in page
    assert task_row(staff_app, task_id).status == "ready"
    assert post(client, "/tasks/x/claim").status_code == 404  # elsewhere the usual answers stand
    assert client.post(f"/tasks/{task_id}/claim", data={"csrf_token": "scaduto"}).status_code == 400


def test_an_expired_token_on_somebody_elses_task_reveals_nothing(staff_app: Flask, client: FlaskClient) -> None:
    task_id = start_case(staff_app, org="altro")
    login(client, "anna")
    response = client.post(f"/tasks/{task_id}", data={"_action": "complete", "csrf_token": "scaduto"})
    assert response.status_code == 400
    assert "Compila la scheda" not in response.get_data(as_text=True)
