"""The forms analysts edit: the forms directory's files plus the definitions saved in the database.

A saved definition wins over the file of the same name, both in the form editor's list and when the
modeller validates or deploys a model (:func:`forms_for_modelling`). A form is saved only when
:func:`check_form` finds nothing wrong: the JSON Schema meta-schema (Draft 2020-12) and our house rules,
the same that ``tests/processes/test_forms.py`` holds the shipped forms to. Every problem names the
file and the JSON pointer (or field) it is about, so the editor can show it beside the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, clock
from engine.errors import EngineError, Problem
from engine.models import FormDefinition, ProcessVersion

__all__ = [
    "DRAFT_2020_12",
    "FORM_NAME",
    "FormEntry",
    "FormProblem",
    "FormRejectedError",
    "check_form",
    "form_usage",
    "forms_for_modelling",
    "get_form",
    "list_forms",
    "parse_json",
    "save_form",
    "schema_file",
    "ui_file",
]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
FORM_NAME = re.compile(r"^[a-z0-9_]+$")
NAME_MAX = 100
SCHEMA_SUFFIX = ".schema.json"
UI_SUFFIX = ".uischema.json"
UI_ORDER = "ui:order"
_META = Draft202012Validator(Draft202012Validator.META_SCHEMA)


@dataclass(frozen=True)
class FormProblem(Problem):
    """A problem in a form: ``element_id`` is the JSON pointer.

    ``rule`` names the house rule broken, which the editor marks on the problem; ``code`` (one per
    sentence: a rule may be said in two ways) and ``params`` let a UI translate it.
    """

    rule: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, with the pointer under its own name as well."""
        return {**super().as_dict(), "pointer": self.element_id, "rule": self.rule}


class FormRejectedError(EngineError):
    """A form was not saved: its name or content breaks a rule; ``problems`` lists every one."""

    code = "form_rejected"

    def __init__(self, problems: list[FormProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the form", problems=[p.as_dict() for p in problems])
        self.problems = problems


@dataclass(frozen=True)
class FormEntry:
    """One form as the editor shows it: where it comes from and, when saved, who saved it and when."""

    name: str
    json_schema: Any
    ui_schema: Any
    source: str  # "saved" or "file"
    updated_by: str | None = None
    updated_at: datetime | None = None
    error: str | None = None  # a file that cannot be read or parsed


def schema_file(name: str) -> str:
    """The file name a model uses to reference the form's JSON Schema."""
    return f"{name}{SCHEMA_SUFFIX}"


def ui_file(name: str) -> str:
    """The file name a model uses to reference the form's UI schema."""
    return f"{name}{UI_SUFFIX}"


def form_name_of(file_name: str) -> str | None:
    """The form a referenced file belongs to (``x.schema.json`` and ``x.uischema.json`` → ``x``)."""
    for suffix in (SCHEMA_SUFFIX, UI_SUFFIX):
        if file_name.endswith(suffix):
            return file_name[: -len(suffix)]
    return None


# --- reading -------------------------------------------------------------------------------------


def _read_file(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path.name}: {exc}"


def _file_forms(forms_dir: Path) -> dict[str, FormEntry]:
    forms: dict[str, FormEntry] = {}
    directory = Path(forms_dir)
    if not directory.is_dir():
        return forms
    for path in sorted(directory.glob(f"*{SCHEMA_SUFFIX}")):
        name = path.name[: -len(SCHEMA_SUFFIX)]
        schema, schema_error = _read_file(path)
        ui, ui_error = _read_file(directory / ui_file(name))
        forms[name] = FormEntry(name, schema, ui, "file", error=schema_error or ui_error)
    return forms


def _saved_entry(row: FormDefinition) -> FormEntry:
    return FormEntry(row.name, row.json_schema, row.ui_schema, "saved", row.updated_by, row.updated_at)


def list_forms(session: Session, forms_dir: Path) -> list[FormEntry]:
    """Every form, by name: the directory's files with the saved definitions in their place."""
    forms = _file_forms(forms_dir)
    for row in session.scalars(select(FormDefinition)):
        forms[row.name] = _saved_entry(row)
    return [forms[name] for name in sorted(forms)]


def get_form(session: Session, forms_dir: Path, name: str) -> FormEntry | None:
    """One form by name (the saved definition if there is one), or None."""
    if not FORM_NAME.fullmatch(name):
        return None
    row = session.scalars(select(FormDefinition).where(FormDefinition.name == name)).first()
    if row is not None:
        return _saved_entry(row)
    return _file_forms(forms_dir).get(name)


def form_usage(session: Session) -> dict[str, list[ProcessVersion]]:
    """For each form name, the deployed versions that froze it, oldest first."""
    usage: dict[str, list[ProcessVersion]] = {}
    for version in session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.id)):
        names = {form_name_of(file_name) for file_name in version.forms}
        for name in sorted(n for n in names if n):
            usage.setdefault(name, []).append(version)
    return usage


def forms_for_modelling(session: Session, version_forms: Mapping[str, Any]) -> dict[str, Any]:
    """A version's frozen forms with the saved definitions laid over them, for validating and deploying."""
    forms = dict(version_forms)
    for row in session.scalars(select(FormDefinition)):
        forms[schema_file(row.name)] = row.json_schema
        if row.ui_schema is not None:
            forms[ui_file(row.name)] = row.ui_schema
    return forms


# --- checking ------------------------------------------------------------------------------------


def parse_json(text: str, file: str) -> tuple[Any, list[FormProblem]]:
    """The JSON in ``text``, or a problem naming the line and column where it breaks."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as exc:
        return None, [FormProblem(file, exc.lineno, None, f"not valid JSON: {exc.msg} (line {exc.lineno}, "
                                  f"column {exc.colno})", code="form_json", rule="json",
                                  params={"line": exc.lineno, "column": exc.colno, "detail": exc.msg})]


def _pointer(*parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def check_name(name: str) -> list[FormProblem]:
    """The form's name must be a plain lowercase name: it becomes two file names."""
    if FORM_NAME.fullmatch(name) and len(name) <= NAME_MAX:
        return []
    return [FormProblem(schema_file(name or "?"), None, "name",
                        f"form name {name!r} must use only a-z, 0-9 and _ (at most {NAME_MAX} characters)",
                        code="form_name", rule="name", params={"name": name, "max": NAME_MAX})]


def check_form(schema: Any, ui: Any, name: str = "form") -> list[FormProblem]:
    """Every problem in a form: meta-schema errors first, then our rules for schema and UI schema."""
    file = schema_file(name)
    if not isinstance(schema, dict):
        return [FormProblem(file, None, "", "the JSON Schema must be a JSON object", code="form_schema_object",
                            rule="schema_object")]
    problems = [FormProblem(file, None, _pointer(*error.absolute_path), f"not a valid JSON Schema: {error.message}",
                            code="form_meta_schema", rule="meta_schema", params={"detail": error.message})
                for error in sorted(_META.iter_errors(schema), key=lambda e: list(map(str, e.absolute_path)))]
    if problems:
        return problems  # our rules read the structure the meta-schema has just refused
    problems += _form_rules(schema, file)
    for where, part in _object_schemas(schema):
        problems += _object_rules(part, where, file)
    return problems + _ui_rules(schema, ui, ui_file(name))


def _form_rules(schema: dict[str, Any], file: str) -> list[FormProblem]:
    problems = []
    if schema.get("$schema") != DRAFT_2020_12:
        problems.append(FormProblem(file, None, "/$schema", f"$schema must be {DRAFT_2020_12}", code="form_draft",
                                    rule="draft", params={"expected": DRAFT_2020_12}))
    if schema.get("type") != "object":
        problems.append(FormProblem(file, None, "/type", 'the form must be "type": "object"',
                                    code="form_type_object", rule="type_object"))
    if not schema.get("title"):
        problems.append(FormProblem(file, None, "/title", "the form has no title", code="form_no_title",
                                    rule="form_title"))
    if not isinstance(schema.get("properties"), dict):
        problems.append(FormProblem(file, None, "/properties", "the form has no properties",
                                    code="form_no_properties", rule="no_properties"))
    return problems


def _object_schemas(schema: dict[str, Any], where: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                          dict[str, Any]]]:
    """The form and the items of its repeatable groups (arrays of objects), with their pointers."""
    yield where, schema
    properties = schema.get("properties")
    for key, prop in (properties.items() if isinstance(properties, dict) else ()):
        items = prop.get("items") if isinstance(prop, dict) and prop.get("type") == "array" else None
        if isinstance(items, dict) and items.get("type") == "object":
            yield from _object_schemas(items, (*where, "properties", key, "items"))


def _properties(part: Mapping[str, Any]) -> dict[str, Any]:
    properties = part.get("properties")
    return properties if isinstance(properties, dict) else {}


def _object_rules(part: dict[str, Any], where: tuple[str, ...], file: str) -> list[FormProblem]:
    problems = []
    label = ".".join(p for p in where if p not in ("properties", "items")) or None
    if part.get("additionalProperties") is not False:
        pointer = _pointer(*where, "additionalProperties")
        problems.append(
            FormProblem(file, None, pointer, f"{label} must set additionalProperties to false",
                        code="form_group_additional_properties", rule="additional_properties", params={"group": label})
            if label else
            FormProblem(file, None, pointer, "the form must set additionalProperties to false",
                        code="form_additional_properties", rule="additional_properties"))
    properties = _properties(part)
    for key in part.get("required", []):
        if key not in properties:
            problems.append(FormProblem(file, None, _pointer(*where, "required"),
                                        f"required field {key} is not among the properties",
                                        code="form_required_unknown", rule="required_unknown", params={"field": key}))
    for key, prop in properties.items():
        field_name = ".".join(filter(None, [label, key]))
        if not isinstance(prop, dict) or not prop.get("title"):
            problems.append(FormProblem(file, None, _pointer(*where, "properties", key, "title"),
                                        f"field {field_name} has no title", code="form_field_title",
                                        rule="field_title", params={"field": field_name}))
            continue
        for index, option in enumerate(prop.get("oneOf", [])):
            if not isinstance(option, dict) or "const" not in option or not option.get("title"):
                problems.append(FormProblem(file, None, _pointer(*where, "properties", key, "oneOf", index),
                                            f"option {index + 1} of {field_name} needs a const and a title",
                                            code="form_option", rule="option",
                                            params={"field": field_name, "index": index + 1}))
    return problems


def _ui_rules(schema: dict[str, Any], ui: Any, file: str) -> list[FormProblem]:
    properties = _properties(schema)
    if ui is None:
        ui = {}
    if not isinstance(ui, dict):
        return [FormProblem(file, None, "", "the UI schema must be a JSON object", code="form_ui_object",
                            rule="ui_object")]
    order = ui.get(UI_ORDER)
    if order is None and not properties:
        return _ui_keys(ui, properties, file)  # a form without fields needs no order
    if not isinstance(order, list) or not all(isinstance(n, str) for n in order):
        return [FormProblem(file, None, "/ui:order", "ui:order must list the fields' names in order",
                            code="form_ui_order", rule="ui_order"), *_ui_keys(ui, properties, file)]
    problems = [FormProblem(file, None, "/ui:order", f"ui:order names {name}, which is not a field",
                            code="form_ui_order_unknown", rule="ui_order_unknown", params={"field": name})
                for name in order if name not in properties]
    problems += [FormProblem(file, None, "/ui:order", f"ui:order lists {name} more than once",
                             code="form_ui_order_twice", rule="ui_order_twice", params={"field": name})
                 for name in sorted({n for n in order if order.count(n) > 1})]
    problems += [FormProblem(file, None, "/ui:order", f"ui:order does not list field {name}",
                             code="form_ui_order_missing", rule="ui_order_missing", params={"field": name})
                 for name in properties if name not in order]
    return problems + _ui_keys(ui, properties, file)


def _ui_keys(ui: dict[str, Any], properties: Mapping[str, Any], file: str) -> list[FormProblem]:
    return [FormProblem(file, None, _pointer(key), f"the UI schema key {key} names no field",
                        code="form_ui_unknown_key", rule="ui_unknown_key", params={"field": key})
            for key in ui if key != UI_ORDER and key not in properties]


# --- saving --------------------------------------------------------------------------------------


def save_form(session: Session, name: str, schema: Any, ui: Any, actor: str) -> FormDefinition:
    """Save (create or replace) a form, audited; raises FormRejectedError when anything is wrong. Flushes."""
    problems = check_name(name) or check_form(schema, ui, name)
    if problems:
        raise FormRejectedError(problems)
    row = session.scalars(select(FormDefinition).where(FormDefinition.name == name)).first()
    created = row is None
    if row is None:
        row = FormDefinition(name=name)
        session.add(row)
    row.json_schema = schema
    row.ui_schema = ui
    row.updated_by = actor
    row.updated_at = clock.now()
    audit.record(session, "form_saved", instance_id=None, actor=actor, form=name, created=created,
                 fields=sorted(schema.get("properties", {})))
    session.flush()
    return row
