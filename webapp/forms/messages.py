"""What forms say to people: field errors in the reader's language, and form texts for translators.

Forms (``forms/*.schema.json`` + ``*.uischema.json``) are written in Italian. Their titles,
descriptions, help texts and option titles are collected for the message catalogue by
:func:`extract_form_messages`, a Babel extractor registered in ``babel.cfg``; ``webapp.forms.render``
passes each of them through ``gettext`` when it draws a form, so an English reader sees the
catalogue's English once it is there, and the Italian until then.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

from flask_babel import gettext as _

# Keys whose string values people read: JSON Schema annotations and the UI schema's texts.
TEXT_KEYS = frozenset({"title", "description", "ui:help", "ui:title", "ui:description", "ui:placeholder"})
LIST_TEXT_KEYS = frozenset({"ui:enumNames"})
# Values here are data, never shown as text (a property may well be *called* "title").
DATA_KEYS = frozenset({"enum", "const", "default", "required", "examples", "ui:order", "$schema", "$id"})


def form_texts(document: Any) -> Iterator[str]:
    """Every translatable text of a form document, in document order."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if key in DATA_KEYS:
                continue
            if key in TEXT_KEYS and isinstance(value, str):
                yield value
            elif key in LIST_TEXT_KEYS and isinstance(value, list):
                yield from (item for item in value if isinstance(item, str))
            elif isinstance(value, Mapping | list):
                yield from form_texts(value)
    elif isinstance(document, list):
        for item in document:
            yield from form_texts(item)


def extract_form_messages(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                          options: Mapping[str, Any]) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extractor for JSON forms: yields (line, None, text, comments) for each text, once."""
    source = fileobj.read().decode("utf-8")
    try:
        document = json.loads(source)
    except ValueError:
        return  # not a form (or broken JSON, which the model validation reports)
    lines = source.splitlines()
    seen: set[str] = set()
    for text in form_texts(document):
        if not text.strip() or text in seen:
            continue
        seen.add(text)
        yield _line_of(lines, text), None, text, []


def _line_of(lines: list[str], text: str) -> int:
    encoded = (json.dumps(text, ensure_ascii=False), json.dumps(text))
    for number, line in enumerate(lines, start=1):
        if any(candidate in line for candidate in encoded):
            return number
    return 1


def _rule_message(keyword: str, value: Any) -> str:
    messages = {
        "required": lambda: _("Campo obbligatorio."),
        "minLength": lambda: _("Scrivi almeno %(n)s caratteri.", n=value),
        "maxLength": lambda: _("Scrivi al massimo %(n)s caratteri.", n=value),
        "minimum": lambda: _("Il valore minimo è %(n)s.", n=value),
        "maximum": lambda: _("Il valore massimo è %(n)s.", n=value),
        "minItems": lambda: _("Aggiungi almeno %(n)s elementi.", n=value),
        "maxItems": lambda: _("Al massimo %(n)s elementi.", n=value),
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
