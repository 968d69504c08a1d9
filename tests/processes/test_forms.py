"""Every user-task form: a strict JSON Schema with titled fields, a matching UI schema, used by a model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from . import FORMS, PROCESSES

SCHEMAS = sorted(FORMS.glob("*.schema.json"))


def ui_path(schema_path: Path) -> Path:
    return schema_path.with_name(schema_path.name.replace(".schema.", ".uischema."))


def object_schemas(schema: dict[str, Any], where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """The form's object schemas: the form itself and the items of its repeatable groups."""
    found = [(where, schema)]
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "array" and prop.get("items", {}).get("type") == "object":
            found += object_schemas(prop["items"], f"{where}{name}.")
    return found


def referenced_forms() -> set[str]:
    text = "".join(path.read_text(encoding="utf-8") for path in PROCESSES.glob("*.bpmn"))
    return set(re.findall(r'name="form(?:Json|Ui)SchemaFilename" value="([^"]+)"', text))


def test_every_form_file_is_used_by_a_model() -> None:
    files = {path.name for path in FORMS.glob("*.json")}
    assert files == referenced_forms()


@pytest.mark.parametrize("schema_path", SCHEMAS, ids=lambda p: p.name)
def test_form_is_strict_and_titled(schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("title")
    for where, part in object_schemas(schema):
        assert part.get("additionalProperties") is False, f"{where or 'form'} accepts fields it does not show"
        properties = part["properties"]
        assert set(part.get("required", [])) <= set(properties)
        for name, prop in properties.items():
            assert prop.get("title"), f"{where}{name} has no label"
            if prop.get("format") == "date":
                assert name.endswith(("_date", "_on", "_due", "_expiry", "date")), f"{where}{name}"
            if name.endswith("_date") and prop.get("type") == "string":
                assert prop.get("format") in ("date", "date-time"), f"{where}{name} is a date without format"
            for option in prop.get("oneOf", []):
                assert "const" in option, f"{where}{name}: an option without a value"
                assert option.get("title"), f"{where}{name}: an option without a label"


@pytest.mark.parametrize("schema_path", SCHEMAS, ids=lambda p: p.name)
def test_ui_schema_orders_every_field(schema_path: Path) -> None:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    ui = json.loads(ui_path(schema_path).read_text(encoding="utf-8"))
    properties = schema["properties"]
    assert sorted(ui["ui:order"]) == sorted(properties)
    assert set(ui) - {"ui:order"} <= set(properties)
    for name, prop in properties.items():
        if name.endswith("notes") and prop.get("type") == "string":
            assert ui.get(name, {}).get("ui:widget") == "textarea", f"{name} deserves a text area"
