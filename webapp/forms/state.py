"""What a form has on screen, and the typed task data it stands for.

The *state* is the form as typed: strings for inputs, booleans for checkboxes, lists of strings for
checkbox groups and lists of rows (dicts) for repeatable groups. It comes from a submitted HTML form
(:func:`state_from_form`) or from data already known (:func:`state_from_data`: a draft, the task's
data); a group grows or shrinks by :func:`apply_row_action`; :func:`data_from_state` turns it into
typed task data for the engine, leaving empty inputs out so that the schema's ``required`` speaks.
Keeping what was typed, rather than only typed data, is what lets a page come back with its errors
and everything the user wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from decimal import Decimal, InvalidOperation
from typing import Any

# Beyond 10^15 no amount or count in this programme makes sense, and floats stop being exact.
MAX_EXPONENT = 15
# The hidden input that says how many rows a group had on screen (unchecked rows send nothing).
ROWS_SUFFIX = ".__rows"
MAX_ROWS = 50

State = dict[str, Any]


def is_group(prop: Mapping[str, Any]) -> bool:
    """An array of objects: a repeatable group of fields (household members, goals…)."""
    items = prop.get("items")
    return prop.get("type") == "array" and isinstance(items, Mapping) and items.get("type") == "object"


def is_multi_choice(prop: Mapping[str, Any]) -> bool:
    """An array of enumerated strings: a group of checkboxes."""
    items = prop.get("items")
    return prop.get("type") == "array" and isinstance(items, Mapping) and ("enum" in items or "oneOf" in items)


# --- from data or from the page -------------------------------------------------------------------


def _blank(prop: Mapping[str, Any]) -> Any:
    if is_group(prop):
        return []
    if is_multi_choice(prop):
        return []
    if prop.get("type") == "boolean":
        return bool(prop.get("default", False))
    default = prop.get("default")
    return "" if default is None else str(default)


def blank_row(items: Mapping[str, Any]) -> State:
    """A new, untouched row of a group (its defaults filled in)."""
    return {key: _blank(prop) for key, prop in items.get("properties", {}).items()}


def _display(prop: Mapping[str, Any], value: Any) -> Any:
    if value is None:
        return _blank(prop)
    if is_group(prop):
        rows = value if isinstance(value, list) else []
        items = prop["items"]
        return [_state_of(items, row if isinstance(row, Mapping) else {}) for row in rows]
    if is_multi_choice(prop):
        return [str(v) for v in value] if isinstance(value, list) else []
    if prop.get("type") == "boolean":
        return value is True or value in ("on", "true", "1")
    return str(value)


def _state_of(schema: Mapping[str, Any], data: Mapping[str, Any]) -> State:
    return {key: _display(prop, data.get(key)) for key, prop in schema.get("properties", {}).items()}


def state_from_data(schema: Mapping[str, Any], *sources: Mapping[str, Any] | None) -> State:
    """What to show for typed data; the first source that has a field wins (draft, then task data).

    A group with nothing in it shows its minimum number of rows (at least one) ready to fill in.
    """
    merged: dict[str, Any] = {}
    properties = schema.get("properties", {})
    for source in reversed([s for s in sources if s]):
        merged.update({key: value for key, value in source.items() if key in properties})
    state = _state_of(schema, merged)
    for key, prop in properties.items():
        if is_group(prop) and not state[key]:
            state[key] = [blank_row(prop["items"]) for _ in range(max(int(prop.get("minItems", 0)), 1))]
    return state


def _row_count(form: Any, name: str) -> int:
    try:
        return max(0, min(int(form.get(name + ROWS_SUFFIX, "0")), MAX_ROWS))
    except ValueError:
        return 0


def _read_value(prop: Mapping[str, Any], form: Any, name: str) -> Any:
    if is_group(prop):
        items = prop["items"]
        return [{key: _read_value(sub, form, f"{name}.{index}.{key}")
                 for key, sub in items.get("properties", {}).items()} for index in range(_row_count(form, name))]
    if is_multi_choice(prop):
        return [str(v) for v in form.getlist(name)] if hasattr(form, "getlist") else []
    if prop.get("type") == "boolean":
        return form.get(name) in ("on", "true", "1")
    return str(form.get(name) or "")


def state_from_form(schema: Mapping[str, Any], form: Any) -> State:
    """What the user had on screen when they submitted (a werkzeug MultiDict or a plain mapping)."""
    return {key: _read_value(prop, form, key) for key, prop in schema.get("properties", {}).items()}


def _find_group(schema: Mapping[str, Any], state: State,
                parts: list[str]) -> tuple[Mapping[str, Any], State, str] | None:
    """(group schema, the dict holding its rows, its key) for a path ``group.index.group…``, or None."""
    properties = schema.get("properties", {})
    holder: Any = state
    while True:
        name, *rest = parts
        prop = properties.get(name)
        if prop is None or not is_group(prop) or not isinstance(holder, dict):
            return None
        if not rest:
            return prop, holder, name
        index, *parts = rest
        rows = holder.get(name) or []
        if not parts or not index.isdigit() or int(index) >= len(rows):
            return None
        holder, properties = rows[int(index)], prop["items"].get("properties", {})


def apply_row_action(schema: Mapping[str, Any], state: State, action: str) -> State:
    """``add:<group>`` appends a blank row, ``remove:<group>.<index>`` drops one; anything else is ignored.

    Groups may sit inside rows of other groups: ``add:goals.0.actions``, ``remove:goals.0.actions.1``.
    """
    verb, _sep, target = action.partition(":")
    parts = target.split(".")
    if verb == "remove" and len(parts) >= 2 and parts[-1].isdigit():
        parts, index = parts[:-1], int(parts[-1])
    elif verb != "add":
        return state
    changed = deepcopy(state)
    found = _find_group(schema, changed, parts)
    if found is None:
        return state
    prop, holder, key = found
    rows = list(holder.get(key) or [])
    if verb == "add" and len(rows) < MAX_ROWS:
        rows.append(blank_row(prop["items"]))
    elif verb == "remove" and index < len(rows):
        del rows[index]
    holder[key] = rows
    return changed


def drop_untouched_rows(schema: Mapping[str, Any], state: State) -> State:
    """Leave out group rows nobody filled in, so an extra blank row is no reason to refuse the form."""
    cleaned = dict(state)
    for key, prop in schema.get("properties", {}).items():
        if is_group(prop):
            items = prop["items"]
            blank = blank_row(items)
            rows = [drop_untouched_rows(items, row) for row in state.get(key) or [] if isinstance(row, dict)]
            cleaned[key] = [row for row in rows if row != blank]
    return cleaned


# --- typed data back -----------------------------------------------------------------------------


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


def _typed(prop: Mapping[str, Any], value: Any) -> Any:
    if is_group(prop):
        return [data_from_state(prop["items"], row) for row in value or []]
    if is_multi_choice(prop) or prop.get("type") == "boolean":
        return value
    raw = str(value or "").strip()
    return _coerce(prop, raw) if raw != "" else None


def data_from_state(schema: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    """Typed task data from what is on screen; empty inputs are left out (so 'required' speaks)."""
    data: dict[str, Any] = {}
    for key, prop in schema.get("properties", {}).items():
        if key not in state:
            continue
        value = _typed(prop, state[key])
        # An empty choice list is left out like an empty input, so that 'required' speaks.
        if value is not None and not (value == [] and is_multi_choice(prop)):
            data[key] = value
    return data


def read_form(schema: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """Typed task data from a submitted HTML form (untouched group rows left out)."""
    return data_from_state(schema, drop_untouched_rows(schema, state_from_form(schema, form)))

