"""The form renderer on its own: widgets from schemas, state in and typed data out, rows, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from webapp.forms.messages import localized_errors
from webapp.forms.render import all_fields, build_fields, unplaced_errors
from webapp.forms.state import (
    MAX_ROWS,
    apply_row_action,
    data_from_state,
    drop_untouched_rows,
    read_form,
    state_from_data,
    state_from_form,
)

FORMS = Path(__file__).resolve().parent / "models" / "forms"
SCHEMA = json.loads((FORMS / "casework_register.schema.json").read_text())
UI = json.loads((FORMS / "casework_register.uischema.json").read_text())


def widgets(schema: dict, ui: dict | None = None) -> dict[str, str]:
    return {f.name: f.widget for f in build_fields(schema, ui, state_from_data(schema))}


def test_widget_for_every_kind_of_property() -> None:
    assert widgets(SCHEMA, UI) == {
        "reference_date": "date", "visit_mode": "radio", "members": "group", "district": "select",
        "priority": "radio", "amount": "number", "adults": "number", "needs": "checkboxes",
        "interpreter": "checkbox", "privacy_ok": "checkbox", "notes": "textarea",
    }
    more = {"type": "object", "required": ["short"], "properties": {
        "when": {"type": "string", "format": "date-time"}, "mail": {"type": "string", "format": "email"},
        "short": {"type": "string", "enum": ["a", "b"]}, "optional_short": {"type": "string", "enum": ["a", "b"]},
        "secret": {"type": "string"}, "long": {"type": "string"}, "plain": {"type": "string", "maxLength": 200}}}
    ui = {"secret": {"ui:widget": "hidden"}, "long": {"ui:widget": "textarea"}, "short": {"ui:widget": "select"}}
    assert widgets(more, ui) == {"when": "datetime-local", "mail": "email", "short": "select",
                                 "optional_short": "select", "secret": "hidden", "long": "textarea", "plain": "text"}


def test_ui_order_help_required_and_choice_labels() -> None:
    fields = build_fields(SCHEMA, UI, state_from_data(SCHEMA))
    assert [f.name for f in fields][:3] == ["reference_date", "visit_mode", "members"]
    by_name = {f.name: f for f in all_fields(fields)}
    assert by_name["reference_date"].help == "Il giorno del primo contatto"
    assert by_name["reference_date"].described_by == "h-reference_date"
    assert by_name["notes"].help == "Niente dati sanitari qui"  # the schema's description when no ui:help
    assert by_name["visit_mode"].required
    assert not by_name["district"].required
    assert [(c.value, c.label) for c in by_name["priority"].choices] == [("bassa", "Bassa"), ("media", "Media"),
                                                                          ("alta", "Alta")]
    assert by_name["members.0.first_name"].required
    assert by_name["members.0.first_name"].dom_id == "f-members-0-first_name"
    assert by_name["members"].rows[0].label == "Componente 1"


def test_labels_help_and_options_pass_through_translate() -> None:
    fields = build_fields(SCHEMA, UI, state_from_data(SCHEMA), translate=lambda text: f"<{text}>")
    by_name = {f.name: f for f in all_fields(fields)}
    assert by_name["reference_date"].label == "<Data di riferimento>"
    assert by_name["reference_date"].help == "<Il giorno del primo contatto>"
    assert by_name["visit_mode"].choices[0].label == "<A domicilio>"
    assert by_name["members"].item_label == "<Componente>"
    assert by_name["members.0.relationship"].choices[1].label == "<Figlio/a>"


def test_state_from_data_prefers_the_draft_then_the_task_data() -> None:
    draft = {"notes": "dalla bozza", "members": [{"first_name": "Ada"}, {"first_name": "Bea"}]}
    task_data = {"notes": "dal processo", "amount": 12.5, "adults": 2, "interpreter": True, "needs": ["casa"],
                 "unrelated": "x"}
    state = state_from_data(SCHEMA, draft, task_data)
    assert state["notes"] == "dalla bozza"
    assert state["amount"] == "12.5"
    assert state["adults"] == "2"
    assert state["interpreter"] is True
    assert state["needs"] == ["casa"]
    assert "unrelated" not in state
    assert [row["first_name"] for row in state["members"]] == ["Ada", "Bea"]
    assert state["members"][1]["birth_date"] == ""
    assert len(state_from_data(SCHEMA)["members"]) == 1  # an empty group offers a first row


def test_form_to_typed_data() -> None:
    form = MultiDict([
        ("reference_date", "2026-03-01"), ("visit_mode", "ufficio"), ("amount", " 1.250,5 "), ("adults", "3"),
        ("privacy_ok", "on"), ("needs", "casa"), ("needs", "salute"), ("notes", ""), ("members.__rows", "3"),
        ("members.0.first_name", "Ada"), ("members.0.birth_date", "1990-01-01"),
        ("members.2.first_name", "Cloe"), ("members.2.birth_date", "2020-02-02"), ("members.2.relationship", "2"),
    ])
    data = read_form(SCHEMA, form)
    assert data == {
        "reference_date": "2026-03-01", "visit_mode": "ufficio", "amount": "1.250,5", "adults": 3,
        "interpreter": False, "privacy_ok": True, "needs": ["casa", "salute"],
        "members": [{"first_name": "Ada", "birth_date": "1990-01-01"},  # the untouched middle row is left out
                    {"first_name": "Cloe", "birth_date": "2020-02-02", "relationship": "2"}],
    }
    assert data_from_state(SCHEMA, {"amount": "12,50", "adults": "x", "needs": []}) == {"amount": 12.5, "adults": "x"}


def test_row_count_is_bounded() -> None:
    state = state_from_form(SCHEMA, MultiDict([("members.__rows", "100000")]))
    assert len(state["members"]) == MAX_ROWS
    assert state_from_form(SCHEMA, MultiDict([("members.__rows", "molti")]))["members"] == []


def test_row_actions() -> None:
    state = state_from_data(SCHEMA, {"members": [{"first_name": "Ada"}, {"first_name": "Bea"}]})
    added = apply_row_action(SCHEMA, state, "add:members")
    assert [r["first_name"] for r in added["members"]] == ["Ada", "Bea", ""]
    removed = apply_row_action(SCHEMA, state, "remove:members.0")
    assert [r["first_name"] for r in removed["members"]] == ["Bea"]
    for nonsense in ("remove:members.9", "remove:members.x", "add:notes", "add:nothing", "explode"):
        assert apply_row_action(SCHEMA, state, nonsense) == state
    full = {"members": [{"first_name": str(n)} for n in range(MAX_ROWS)]}
    assert len(apply_row_action(SCHEMA, full, "add:members")["members"]) == MAX_ROWS


def test_rows_left_as_they_came_are_dropped_even_with_defaults() -> None:
    schema = {"type": "object", "properties": {"people": {"type": "array", "items": {
        "type": "object", "properties": {"name": {"type": "string"}, "adult": {"type": "boolean", "default": True},
                                         "role": {"type": "string", "default": "1"}}}}}}
    state = apply_row_action(schema, {"people": [{"name": "Ada", "adult": True, "role": "1"}]}, "add:people")
    assert state["people"][1] == {"name": "", "adult": True, "role": "1"}
    assert drop_untouched_rows(schema, state)["people"] == [{"name": "Ada", "adult": True, "role": "1"}]


def test_errors_land_on_fields_rows_and_the_form() -> None:
    errors = {"members.0.birth_date": ["Data non valida."], "members.1": ["Campo non previsto dal modulo."],
              "members": ["Aggiungi almeno 1 elementi."], "_form": ["Valore non valido."], "amount": ["Inserisci"]}
    state = state_from_data(SCHEMA, {"members": [{"first_name": "Ada"}, {"first_name": "Bea"}]})
    fields = build_fields(SCHEMA, UI, state, errors)
    by_name = {f.name: f for f in all_fields(fields)}
    assert by_name["members.0.birth_date"].errors == ["Data non valida."]
    assert by_name["members.0.birth_date"].described_by == "e-members-0-birth_date"
    assert by_name["members"].rows[1].errors == ["Campo non previsto dal modulo."]
    assert by_name["members"].errors == ["Aggiungi almeno 1 elementi."]
    assert by_name["members"].has_errors()
    assert by_name["amount"].described_by == "h-amount e-amount"
    assert unplaced_errors(fields, errors) == ["Valore non valido."]


@pytest.mark.parametrize(("rules", "message"), [
    ([("required", None)], "Campo obbligatorio."), ([("minLength", 3)], "Scrivi almeno 3 caratteri."),
    ([("maximum", 12)], "Il valore massimo è 12."), ([("minItems", 1)], "Aggiungi almeno 1 elementi."),
    ([("format", "date")], "Data non valida."), ([("type", "integer")], "Inserisci un numero."),
    ([("const", True)], "Questa conferma è obbligatoria."), ([("whatever", 1)], "Valore non valido."),
])
def test_rule_messages(rules: list, message: str) -> None:
    assert localized_errors({"x": rules}) == {"x": [message]}


NESTED = {"type": "object", "properties": {"goals": {"type": "array", "items": {
    "type": "object", "title": "Obiettivo", "properties": {
        "description": {"type": "string", "title": "Obiettivo"},
        "actions": {"type": "array", "title": "Azioni", "items": {"type": "object", "title": "Azione", "properties": {
            "what": {"type": "string", "title": "Cosa"}}}}}}}}}


def test_groups_inside_group_rows() -> None:
    state = state_from_data(NESTED, {"goals": [{"description": "Casa", "actions": [{"what": "Cercare"}]}]})
    added = apply_row_action(NESTED, state, "add:goals.0.actions")
    assert added["goals"][0]["actions"] == [{"what": "Cercare"}, {"what": ""}]
    assert state["goals"][0]["actions"] == [{"what": "Cercare"}]  # the state given is left alone
    removed = apply_row_action(NESTED, added, "remove:goals.0.actions.0")
    assert removed["goals"][0]["actions"] == [{"what": ""}]
    assert apply_row_action(NESTED, state, "add:goals.3.actions") == state
    assert drop_untouched_rows(NESTED, removed)["goals"] == [{"description": "Casa", "actions": []}]
    fields = build_fields(NESTED, {}, added)
    names = [f.name for f in all_fields(fields)]
    assert names == ["goals", "goals.0.description", "goals.0.actions", "goals.0.actions.0.what",
                     "goals.0.actions.1.what"]
    form = MultiDict([("goals.__rows", "1"), ("goals.0.description", "Casa"), ("goals.0.actions.__rows", "2"),
                      ("goals.0.actions.0.what", "Cercare"), ("goals.0.actions.1.what", "")])
    assert read_form(NESTED, form) == {"goals": [{"description": "Casa", "actions": [{"what": "Cercare"}]}]}
