"""Server-side rendering of JSON Schema forms: fields for the template, and typed values back.

Works without JavaScript: every field is a plain HTML input chosen from the schema and UI schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

# Beyond 10^15 no amount or count in this programme makes sense, and floats stop being exact.
MAX_EXPONENT = 15


@dataclass
class Choice:
    """One option of an enumerated field."""

    value: str
    label: str


@dataclass
class Field:
    """What the template needs to draw one input."""

    name: str
    label: str
    widget: str
    required: bool
    value: Any = None
    help: str | None = None
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _choices(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> list[Choice]:
    if "oneOf" in prop:
        return [Choice(str(o.get("const")), str(o.get("title", o.get("const")))) for o in prop["oneOf"]]
    values = prop.get("enum", [])
    names = ui.get("ui:enumNames") or values
    return [Choice(str(v), str(n)) for v, n in zip(values, names, strict=False)]


def _widget(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> str:
    explicit = ui.get("ui:widget")
    if explicit in ("textarea", "radio", "select", "checkbox", "hidden"):
        return str(explicit)
    kind = prop.get("type")
    if "enum" in prop or "oneOf" in prop:
        return "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    return {"date": "date", "date-time": "datetime-local", "email": "email"}.get(prop.get("format", ""), "text")


def build_fields(schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None, values: Mapping[str, Any],
                 errors: Mapping[str, list[str]] | None = None) -> list[Field]:
    """The form's fields in UI-schema order, filled with ``values`` and their ``errors``."""
    ui_schema = ui_schema or {}
    properties: Mapping[str, Any] = schema.get("properties", {})
    order = [n for n in ui_schema.get("ui:order", []) if n in properties]
    order += [n for n in properties if n not in order]
    required = set(schema.get("required", []))
    errors = errors or {}
    fields = []
    for name in order:
        prop, ui = properties[name], ui_schema.get(name, {})
        fields.append(Field(
            name=name, label=str(prop.get("title", name)), widget=_widget(prop, ui), required=name in required,
            value=values.get(name, prop.get("default")), help=ui.get("ui:help") or prop.get("description"),
            choices=_choices(prop, ui), errors=list(errors.get(name, [])),
        ))
    return fields


def _coerce(prop: Mapping[str, Any], raw: str) -> Any:
    kind = prop.get("type")
    if kind == "integer":
        if len(raw.lstrip("+-")) > MAX_EXPONENT:
            return raw
        try:
            return int(raw)
        except ValueError:
            return raw  # left as typed, so JSON Schema reports "is not of type 'integer'"
    if kind == "number":
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            return raw
        # NaN, infinities and huge exponents are not amounts: left as typed, the schema refuses them
        # (and converting 1e2000000 to an int would take minutes of CPU).
        if not number.is_finite() or abs(number.adjusted()) > MAX_EXPONENT:
            return raw
        return int(number) if number == number.to_integral_value() else float(number)
    return raw


def read_form(schema: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Typed task data from a submitted HTML form; empty inputs are left out (so 'required' speaks)."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "boolean":
            data[name] = form.get(name) in ("on", "true", "1")
            continue
        raw = (form.get(name) or "").strip()
        if raw != "":
            data[name] = _coerce(prop, raw)
    return data


def _rule_message(keyword: str, value: Any) -> str:
    messages = {
        "required": lambda: _("Campo obbligatorio."),
        "minLength": lambda: _("Scrivi almeno %(n)s caratteri.", n=value),
        "maxLength": lambda: _("Scrivi al massimo %(n)s caratteri.", n=value),
        "minimum": lambda: _("Il valore minimo è %(n)s.", n=value),
        "maximum": lambda: _("Il valore massimo è %(n)s.", n=value),
        "format": lambda: _("Data non valida.") if value in ("date", "date-time") else _("Formato non valido."),
        "enum": lambda: _("Scegli un valore dall'elenco."),
        "oneOf": lambda: _("Scegli un valore dall'elenco."),
        "const": lambda: _("Questa conferma è obbligatoria."),
        "type": lambda: _("Inserisci un numero.") if value in ("number", "integer") else _("Valore non valido."),
        "pattern": lambda: _("Formato non valido."),
        "additionalProperties": lambda: _("Campo non previsto dal modulo."),
    }
    return messages.get(keyword, lambda: _("Valore non valido."))()


def localized_errors(rules: Mapping[str, list[tuple[str, Any]]]) -> dict[str, list[str]]:
    """Field errors in the reader's language, from the failed JSON Schema keywords."""
    return {name: [_rule_message(keyword, value) for keyword, value in failed] for name, failed in rules.items()}
