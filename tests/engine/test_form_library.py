"""The form library: files plus saved definitions (saved win), our form rules, audited saving, and the
forms the modeller validates and deploys with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import form_library
from engine.form_library import DRAFT_2020_12, FormRejectedError, check_form
from engine.models import AuditEvent, FormDefinition, ProcessVersion

ROOT = Path(__file__).resolve().parent.parent.parent


def good_schema(**extra: Any) -> dict[str, Any]:
    return {"$schema": DRAFT_2020_12, "title": "Visita", "type": "object", "additionalProperties": False,
            "required": ["visit_date"],
            "properties": {"visit_date": {"type": "string", "format": "date", "title": "Data della visita"},
                           "notes": {"type": "string", "title": "Note", "maxLength": 2000}}, **extra}


GOOD_UI = {"ui:order": ["visit_date", "notes"], "notes": {"ui:widget": "textarea"}}


def rules(problems: list[form_library.FormProblem]) -> list[tuple[str, str | None]]:
    return [(p.rule, p.element_id) for p in problems]


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    (tmp_path / "visit.schema.json").write_text(json.dumps(good_schema()), encoding="utf-8")
    (tmp_path / "visit.uischema.json").write_text(json.dumps(GOOD_UI), encoding="utf-8")
    (tmp_path / "broken.schema.json").write_text("{not json", encoding="utf-8")
    return tmp_path


# --- checking --------------------------------------------------------------------------------------


def test_a_good_form_has_no_problem() -> None:
    assert check_form(good_schema(), GOOD_UI, "visit") == []


@pytest.mark.parametrize("path", sorted((ROOT / "forms").glob("*.schema.json")), ids=lambda p: p.name)
def test_every_shipped_form_passes(path: Path) -> None:
    ui_path = path.with_name(path.name.replace(".schema.", ".uischema."))
    ui = json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.exists() else None
    assert check_form(json.loads(path.read_text(encoding="utf-8")), ui, path.name.split(".")[0]) == []


def test_the_meta_schema_is_checked_and_the_pointer_named() -> None:
    schema = good_schema()
    schema["properties"]["notes"]["type"] = "strnig"
    problems = check_form(schema, GOOD_UI, "visit")
    assert rules(problems) == [("meta_schema", "/properties/notes/type")]
    assert problems[0].file == "visit.schema.json"


def test_our_rules_each_name_the_field() -> None:
    schema = good_schema(additionalProperties=True, required=["visit_date", "ghost"])
    del schema["title"]
    del schema["properties"]["notes"]["title"]
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    assert rules(check_form(schema, GOOD_UI, "visit")) == [
        ("draft", "/$schema"), ("form_title", "/title"), ("additional_properties", "/additionalProperties"),
        ("required_unknown", "/required"), ("field_title", "/properties/notes/title")]


def test_a_form_must_be_an_object_schema() -> None:
    assert rules(check_form(good_schema(type="array"), GOOD_UI, "visit")) == [("type_object", "/type")]
    assert rules(check_form(["x"], GOOD_UI, "visit")) == [("schema_object", "")]


def test_groups_are_held_to_the_same_rules() -> None:
    schema = good_schema()
    schema["properties"]["members"] = {"type": "array", "title": "Componenti", "items": {
        "type": "object", "properties": {"name": {"type": "string"}}}}
    ui = {"ui:order": ["visit_date", "notes", "members"]}
    assert rules(check_form(schema, ui, "visit")) == [
        ("additional_properties", "/properties/members/items/additionalProperties"),
        ("field_title", "/properties/members/items/properties/name/title")]


def test_options_need_a_value_and_a_label() -> None:
    schema = good_schema()
    schema["properties"]["outcome"] = {"title": "Esito", "oneOf": [{"const": "ok", "title": "Bene"},
                                                                   {"const": "ko"}]}
    problems = check_form(schema, {"ui:order": ["visit_date", "notes", "outcome"]}, "visit")
    assert rules(problems) == [("option", "/properties/outcome/oneOf/1")]
    assert problems[0].params == {"field": "outcome", "index": 2}


def test_the_ui_order_lists_exactly_the_fields_and_keys_name_fields() -> None:
    ui = {"ui:order": ["visit_date", "ghost", "ghost"], "phantom": {"ui:widget": "textarea"}}
    problems = check_form(good_schema(), ui, "visit")
    assert rules(problems) == [("ui_order_unknown", "/ui:order"), ("ui_order_unknown", "/ui:order"),
                               ("ui_order_twice", "/ui:order"), ("ui_order_missing", "/ui:order"),
                               ("ui_unknown_key", "/phantom")]
    assert {p.file for p in problems} == {"visit.uischema.json"}
    assert [p.params["field"] for p in problems if p.rule == "ui_order_missing"] == ["notes"]


def test_a_missing_ui_schema_is_a_missing_order_unless_there_are_no_fields() -> None:
    assert rules(check_form(good_schema(), None, "visit")) == [("ui_order", "/ui:order")]
    assert check_form(good_schema(properties={}, required=[]), None, "empty") == []


def test_bad_json_names_line_and_column() -> None:
    value, problems = form_library.parse_json('{\n  "title": "x",\n  "type": }', "visit.schema.json")
    assert value is None
    assert [(p.rule, p.line, p.params["column"]) for p in problems] == [("json", 3, 11)]


@pytest.mark.parametrize("name", ["Visit", "visit-form", "", "../etc", "a" * 101])
def test_names_are_plain_lowercase(name: str) -> None:
    assert rules(form_library.check_name(name)) == [("name", "name")]


# --- library and saving ----------------------------------------------------------------------------


def test_list_has_files_and_saved_forms_and_saved_win(session: Session, forms_dir: Path) -> None:
    form_library.save_form(session, "visit", good_schema(title="Visita salvata"), GOOD_UI, "analista")
    form_library.save_form(session, "brand_new", good_schema(), GOOD_UI, "analista")
    forms = {f.name: f for f in form_library.list_forms(session, forms_dir)}
    assert sorted(forms) == ["brand_new", "broken", "visit"]
    assert forms["visit"].source == "saved"
    assert forms["visit"].json_schema["title"] == "Visita salvata"
    assert forms["visit"].updated_by == "analista"
    assert forms["broken"].source == "file"
    assert forms["broken"].error is not None
    got = form_library.get_form(session, forms_dir, "visit")
    assert got is not None
    assert got.json_schema["title"] == "Visita salvata"
    assert form_library.get_form(session, forms_dir, "nothing") is None
    assert form_library.get_form(session, forms_dir, "../visit") is None


def test_a_file_form_is_read_with_its_ui_schema(session: Session, forms_dir: Path) -> None:
    form = form_library.get_form(session, forms_dir, "visit")
    assert form is not None
    assert (form.source, form.ui_schema) == ("file", GOOD_UI)


def test_saving_refuses_an_invalid_form_and_keeps_nothing(session: Session) -> None:
    with pytest.raises(FormRejectedError) as caught:
        form_library.save_form(session, "visit", good_schema(title=""), GOOD_UI, "analista")
    assert rules(caught.value.problems) == [("form_title", "/title")]
    with pytest.raises(FormRejectedError):
        form_library.save_form(session, "Bad Name", good_schema(), GOOD_UI, "analista")
    assert session.scalars(select(FormDefinition)).all() == []


def test_saving_replaces_and_is_audited(session: Session) -> None:
    first = form_library.save_form(session, "visit", good_schema(), GOOD_UI, "analista")
    second = form_library.save_form(session, "visit", good_schema(title="Nuova"), GOOD_UI, "admin")
    assert first.id == second.id
    assert second.json_schema["title"] == "Nuova"
    assert second.updated_by == "admin"
    events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "form_saved")
                             .order_by(AuditEvent.id)).all()
    assert [(e.actor, e.details["form"], e.details["created"]) for e in events] == [
        ("analista", "visit", True), ("admin", "visit", False)]
    assert events[0].details["fields"] == ["notes", "visit_date"]


def test_modelling_forms_lay_saved_definitions_over_the_version(session: Session) -> None:
    frozen = {"visit.schema.json": {"title": "old"}, "visit.uischema.json": {"ui:order": []},
              "other.schema.json": {"title": "other"}}
    assert form_library.forms_for_modelling(session, frozen) == frozen
    form_library.save_form(session, "visit", good_schema(), GOOD_UI, "analista")
    form_library.save_form(session, "extra", good_schema(), GOOD_UI, "analista")
    forms = form_library.forms_for_modelling(session, frozen)
    assert forms["visit.schema.json"] == good_schema()
    assert forms["visit.uischema.json"] == GOOD_UI
    assert forms["other.schema.json"] == {"title": "other"}
    assert forms["extra.schema.json"] == good_schema()
    assert frozen["visit.schema.json"] == {"title": "old"}  # the version's own copy is untouched


def test_usage_lists_the_versions_that_froze_a_form(session: Session) -> None:
    for number, forms in enumerate([{"visit.schema.json": {}, "visit.uischema.json": {}},
                                    {"visit.schema.json": {}, "other.schema.json": {}}], start=1):
        session.add(ProcessVersion(process_id="home_visit", number=number, content_hash=f"h{number}",
                                   source_file="home_visit.bpmn", bpmn_xml="<x/>", forms=forms))
    session.flush()
    usage = form_library.form_usage(session)
    assert [(v.process_id, v.number) for v in usage["visit"]] == [("home_visit", 1), ("home_visit", 2)]
    assert [v.number for v in usage["other"]] == [2]
