"""The English catalogue translates every Italian string the web app shows."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent.parent
METHODS = [("webapp/**/templates/**.html", "jinja2"), ("webapp/**.py", "python"),
           # Form labels, help texts and option titles of the user-task forms (babel.cfg's extractor).
           ("forms/**.json", "webapp.forms.messages:extract_form_messages")]


def _catalogue():  # type: ignore[no-untyped-def]
    with (ROOT / "webapp/translations/en/LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle)


def test_every_message_is_translated_and_not_fuzzy() -> None:
    catalogue = _catalogue()
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_catalogue_covers_every_string_in_the_code() -> None:
    in_code = {message for _, _, message, *_ in extract_from_dir(str(ROOT), METHODS)}
    in_catalogue = {m.id for m in _catalogue() if m.id}
    assert in_code - in_catalogue == set()
