"""Server-side rendering of JSON Schema forms: the fields a template draws, from a schema and UI schema.

Works without JavaScript: every field is a plain HTML input chosen from the schema and UI schema,
and a repeatable group (an array of objects, e.g. household members) grows and shrinks through
submit buttons that re-render the page. Fields show a form's *state* (what is on screen, see
:mod:`webapp.forms.state`, which also turns it back into typed task data).

Field names are dotted paths, the same as the engine's error keys: ``members.0.birth_date``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from webapp.forms.state import is_group, is_multi_choice

# Required enumerations with this many options or fewer are radio buttons (one tap on a phone).
RADIO_MAX_CHOICES = 3
# Free text allowed to be this long gets a textarea even without ``ui:widget``.
TEXTAREA_MIN_LENGTH = 1000

Translate = Callable[[str], str]


@dataclass
class Choice:
    """One option of an enumerated field."""

    value: str
    label: str


@dataclass
class Field:
    """What the template needs to draw one input (or one repeatable group)."""

    name: str
    label: str
    widget: str
    required: bool
    value: Any = None
    help: str | None = None
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inputmode: str | None = None
    rows: list[Row] = field(default_factory=list)
    item_label: str = ""

    @property
    def dom_id(self) -> str:
        """The element id: names are dotted paths, ids use dashes."""
        return "f-" + self.name.replace(".", "-")

    @property
    def help_id(self) -> str:
        """Id of the help text (for aria-describedby)."""
        return "h-" + self.name.replace(".", "-")

    @property
    def error_id(self) -> str:
        """Id of the error messages (for aria-describedby)."""
        return "e-" + self.name.replace(".", "-")

    @property
    def described_by(self) -> str:
        """The ids that describe the input: its help, then its errors."""
        ids = ([self.help_id] if self.help else []) + ([self.error_id] if self.errors else [])
        return " ".join(ids)

    @property
    def is_checked(self) -> bool:
        """A checkbox's state, whatever shape the value came in."""
        return self.value in (True, "on", "true", "1")

    def has_errors(self) -> bool:
        """Errors on this field or, for a group, on any of its rows."""
        return bool(self.errors) or any(row.errors or any(f.has_errors() for f in row.fields) for row in self.rows)


@dataclass
class Row:
    """One entry of a repeatable group."""

    name: str
    index: int
    label: str
    fields: list[Field]
    errors: list[str] = field(default_factory=list)


# --- what kind of input --------------------------------------------------------------------------


def _choices(prop: Mapping[str, Any], ui: Mapping[str, Any], translate: Translate) -> list[Choice]:
    if is_multi_choice(prop):
        prop = prop["items"]
    if "oneOf" in prop:
        return [Choice(str(o.get("const")), translate(str(o.get("title", o.get("const"))))) for o in prop["oneOf"]]
    values = prop.get("enum", [])
    names = ui.get("ui:enumNames") or values
    return [Choice(str(v), translate(str(n))) for v, n in zip(values, names, strict=False)]


def _widget(prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool) -> str:
    explicit = ui.get("ui:widget")
    if is_group(prop):
        return "group"
    if is_multi_choice(prop):
        return "checkboxes"
    if explicit in ("textarea", "radio", "select", "checkbox", "hidden"):
        return str(explicit)
    if "enum" in prop or "oneOf" in prop:
        many = len(prop.get("enum") or prop.get("oneOf") or []) > RADIO_MAX_CHOICES
        # An optional question keeps its select: a radio group cannot be cleared without JavaScript.
        return "select" if many or not required else "radio"
    kind = prop.get("type")
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        # Text with a numeric keypad, not type=number: browsers silently drop what type=number cannot
        # parse ("12,50" in an English browser), and what was typed must come back with its error.
        return "number"
    if kind == "string" and int(prop.get("maxLength", 0)) >= TEXTAREA_MIN_LENGTH:
        return "textarea"
    return {"date": "date", "date-time": "datetime-local", "email": "email"}.get(prop.get("format", ""), "text")


def _ordered(properties: Mapping[str, Any], ui_schema: Mapping[str, Any]) -> list[str]:
    order = [n for n in ui_schema.get("ui:order", []) if n in properties]
    return order + [n for n in properties if n not in order]


# --- building fields -----------------------------------------------------------------------------


def _translated(text: Any, translate: Translate) -> str | None:
    return translate(str(text)) if text else None


def _field(name: str, key: str, prop: Mapping[str, Any], ui: Mapping[str, Any], required: bool, value: Any,
           errors: Mapping[str, list[str]], translate: Translate) -> Field:
    widget = _widget(prop, ui, required)
    built = Field(
        name=name, label=translate(str(prop.get("title") or ui.get("ui:title") or key)), widget=widget,
        required=required, value=value, help=_translated(ui.get("ui:help") or prop.get("description"), translate),
        choices=_choices(prop, ui, translate), errors=list(errors.get(name, [])),
        inputmode=("numeric" if prop.get("type") == "integer" else "decimal") if widget == "number" else None,
    )
    if widget == "group":
        items = prop["items"]
        built.item_label = translate(str(items.get("title") or built.label))
        built.rows = [_row(name, index, items, ui.get("items", {}), row_value, errors, translate, built.item_label)
                      for index, row_value in enumerate(value or [])]
    return built


def _row(group: str, index: int, items: Mapping[str, Any], ui: Mapping[str, Any], value: Mapping[str, Any],
         errors: Mapping[str, list[str]], translate: Translate, item_label: str) -> Row:
    name = f"{group}.{index}"
    properties: Mapping[str, Any] = items.get("properties", {})
    required = set(items.get("required", []))
    fields = [_field(f"{name}.{key}", key, properties[key], ui.get(key, {}), key in required, value.get(key),
                     errors, translate) for key in _ordered(properties, ui)]
    return Row(name=name, index=index, label=f"{item_label} {index + 1}", fields=fields,
               errors=list(errors.get(name, [])))


def build_fields(schema: Mapping[str, Any], ui_schema: Mapping[str, Any] | None, state: Mapping[str, Any],
                 errors: Mapping[str, list[str]] | None = None, translate: Translate = _) -> list[Field]:
    """The form's fields in UI-schema order, showing ``state`` and ``errors`` (keyed by dotted path).

    Labels, help texts and option titles pass through ``translate`` (gettext by default): forms are
    written in Italian, and their English lives in the message catalogue.
    """
    ui_schema = ui_schema or {}
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    return [_field(key, key, properties[key], ui_schema.get(key, {}), key in required, state.get(key),
                   errors or {}, translate) for key in _ordered(properties, ui_schema)]


def all_fields(fields: list[Field]) -> list[Field]:
    """Every field, those inside group rows included, in page order."""
    flat = []
    for item in fields:
        flat.append(item)
        for row in item.rows:
            flat.extend(all_fields(row.fields))
    return flat


def unplaced_errors(fields: list[Field], errors: Mapping[str, list[str]]) -> list[str]:
    """Messages of errors that no field on the page shows (the form as a whole, stray keys)."""
    placed = {f.name for f in all_fields(fields)} | {row.name for f in all_fields(fields) for row in f.rows}
    return [message for name, messages in errors.items() if name not in placed for message in messages]
