"""Form labels are translatable: extracted from the JSON forms by a Babel extractor, shown through gettext."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import get_domain

from tests.webapp.staff.conftest import MODELS, login, start_case

ROOT = Path(__file__).resolve().parents[3]
EXTRACTOR = "webapp.forms.messages:extract_form_messages"


def messages_of(path: Path) -> list[tuple[int, str]]:
    with path.open("rb") as handle:
        return [(line, message) for line, message, _comments, _context in extract(EXTRACTOR, handle)]


def test_extractor_collects_what_people_read_and_nothing_else() -> None:
    schema = dict((m, line) for line, m in messages_of(MODELS / "forms" / "casework_register.schema.json"))
    assert {"Scheda del caso", "Data di riferimento", "A domicilio", "Componenti del nucleo", "Componente",
            "Figlio/a", "Niente dati sanitari qui", "Bisogni", "Salute"} <= set(schema)
    assert not {"domiciliare", "reference_date", "members", "object", "date", "1"} & set(schema)
    assert schema["Data di riferimento"] == 7  # the line where the text is, for translators
    ui = {m for _, m in messages_of(MODELS / "forms" / "casework_register.uischema.json")}
    assert ui == {"Il giorno del primo contatto", "Bassa", "Media", "Alta", "In euro, anche con i centesimi",
                  "Tutte le persone che vivono insieme"}
    assert list(extract(EXTRACTOR, io.BytesIO(b"{not json"))) == []


def test_babel_cfg_runs_the_extractor_over_forms() -> None:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    assert ("forms/**.json", EXTRACTOR) in method_map
    found = list(extract_from_dir(str(ROOT), [m for m in method_map if m[0].startswith("forms/")], options_map))
    assert all(isinstance(message, str) and message for _file, _line, message, *_ in found)


@pytest.fixture
def staff_config(tmp_path: Path) -> dict[str, Any]:
    """The app's catalogues plus this folder's English for the test form, compiled."""
    target = tmp_path / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (MODELS / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalogue = read_po(source)
    with (target / "messages.mo").open("wb") as compiled:
        write_mo(compiled, catalogue)
    return {"BABEL_TRANSLATION_DIRECTORIES": f"translations;{tmp_path}"}


def test_english_readers_see_the_catalogues_english_labels(staff_app: Flask, client: FlaskClient) -> None:
    with staff_app.app_context():
        # Flask-Babel caches catalogues on its domain, which every app of the test run shares: this app
        # reads one more translation directory than the others, so it must not get their cached catalogue.
        get_domain().cache.clear()
    task_id = start_case(staff_app)
    login(client, "anna")
    italian = client.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert '<label for="f-reference_date">Data di riferimento' in italian
    english = client.get(f"/tasks/{task_id}?lang=en").get_data(as_text=True)
    assert '<label for="f-reference_date">Reference date' in english
    assert "The day of first contact" in english
    assert "<h2>Case sheet</h2>" in english
    assert "> At home</label>" in english
    assert ">Son or daughter</option>" in english
    assert "<legend>Household members" in english
    assert "<legend>Member 1</legend>" in english
    assert '<label for="f-district">Zona di prova senza traduzione' in english  # in no catalogue: Italian stays
