"""Check and package one BPMN document edited in the browser, as ``pis2 processes deploy`` would.

The validator and the compatibility analysis read files, so the document, the decisions it was deployed
with and the forms it may use are written to a private temporary directory first. Problems name files
by their plain name, never the temporary path, so that they can be shown to the analyst.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree

from engine.compatibility import check_files
from engine.errors import ModelValidationError, Problem
from engine.specs import ModelFile, read_document, read_models, safe_xml_parser
from engine.validation import ParsedDocument, decision_id, executable_processes

__all__ = ["ModelCheck", "Workspace", "check_document", "decision_ids", "package_document", "read_upload"]

UPLOAD_NAME = "model.bpmn"


@dataclass
class ModelCheck:
    """The verdict on one document: deployable when ``problems`` is empty."""

    problems: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """True when the engine can deploy and run the document as it is."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the modeller page."""
        return {"valid": self.valid, "problems": [p.as_dict() for p in self.problems],
                "ignored": [p.as_dict() for p in self.ignored]}


@dataclass
class Workspace:
    """Where one check runs: the models directory and the forms directory."""

    models: Path
    forms: Path


def read_upload(data: bytes) -> tuple[str | None, list[Problem]]:
    """The text of an uploaded document if the safe parser accepts it as BPMN, else the problems."""
    doc, problems = _read(data)
    if doc is not None and doc.kind != "bpmn":
        problems.append(Problem(UPLOAD_NAME, None, None, "not a BPMN document (a DMN table cannot be opened here)",
                                code="upload_not_bpmn"))
    return (doc.text if doc is not None and not problems else None), problems


def decision_ids(dmn_files: Mapping[str, str]) -> list[str]:
    """The decisions a business rule task of the version may call, one per readable DMN file."""
    found = set()
    for text in dmn_files.values():
        try:
            decision = decision_id(etree.fromstring(text.encode("utf-8"), safe_xml_parser()))
        except etree.XMLSyntaxError:
            continue  # the validator names a broken DMN file; here only what can be read is offered
        if decision:
            found.add(decision)
    return sorted(found)


def check_document(bpmn: bytes, dmn_files: Mapping[str, str], forms: Mapping[str, Any], forms_dir: Path,
                   roles: Mapping[str, str]) -> ModelCheck:
    """Every problem the validator and the compatibility analysis find in the document."""
    with _workspace(bpmn, dmn_files, forms, forms_dir) as space:
        reports = check_files([space.models], space.forms, roles)
        forms_path = f" in {space.forms}"
    return ModelCheck(problems=[_plain_name(p, forms_path) for r in reports for p in r.problems],
                      ignored=[_plain_name(p, forms_path) for r in reports for p in r.ignored])


def package_document(bpmn: bytes, dmn_files: Mapping[str, str], forms: Mapping[str, Any], forms_dir: Path,
                     roles: Mapping[str, str]) -> list[ModelFile]:
    """The deployable models of a valid document; raises ModelValidationError listing its problems."""
    check = check_document(bpmn, dmn_files, forms, forms_dir, roles)
    if not check.valid:
        raise ModelValidationError(problems=check.problems)
    with _workspace(bpmn, dmn_files, forms, forms_dir) as space:
        models = read_models([space.models], space.forms, roles=roles)
    if not models:
        raise ModelValidationError(problems=[Problem(UPLOAD_NAME, None, None, "no executable process to deploy",
                                                     code="nothing_to_deploy")])
    return [replace(m, source_file=Path(m.source_file).name) for m in models]


@contextmanager
def _workspace(bpmn: bytes, dmn_files: Mapping[str, str], forms: Mapping[str, Any],
               forms_dir: Path) -> Iterator[Workspace]:
    with tempfile.TemporaryDirectory(prefix="pis2-model-") as tmp:
        space = Workspace(Path(tmp) / "models", Path(tmp) / "forms")
        space.models.mkdir()
        space.forms.mkdir()
        (space.models / _bpmn_name(bpmn)).write_bytes(bpmn)
        for name, xml in dmn_files.items():
            (space.models / _plain(name)).write_text(xml, encoding="utf-8")
        # The shared forms first, then the forms the process was deployed with, which win.
        if Path(forms_dir).is_dir():
            for form in Path(forms_dir).glob("*.json"):
                (space.forms / form.name).write_bytes(form.read_bytes())
        for name, schema in forms.items():
            (space.forms / _plain(name)).write_text(json.dumps(schema), encoding="utf-8")
        yield space


def _read(data: bytes) -> tuple[ParsedDocument | None, list[Problem]]:
    # Through the engine's one safe parser, which reads files.
    with tempfile.TemporaryDirectory(prefix="pis2-upload-") as tmp:
        path = Path(tmp) / UPLOAD_NAME
        path.write_bytes(data)
        doc, problems = read_document(path)
    return doc, [_plain_name(p) for p in problems]


def _bpmn_name(bpmn: bytes) -> str:
    # The validator wants a file named after its one executable process; the browser has no file name.
    doc, _ = _read(bpmn)
    ids = [p.get("id") for p in executable_processes(doc.root)] if doc is not None and doc.kind == "bpmn" else []
    return f"{_plain(ids[0])}.bpmn" if len(ids) == 1 and ids[0] else UPLOAD_NAME


def _plain(name: str) -> str:
    plain = Path(name).name
    if not plain or plain.startswith("."):
        raise ModelValidationError(problems=[Problem(name, None, None, "file names must be plain names",
                                                     code="file_name_not_plain", params={"file": name})])
    return plain


def _plain_name(problem: Problem, temporary_path: str = "") -> Problem:
    def plain(text: str) -> str:
        return text.replace(temporary_path, "") if temporary_path else text

    params = {key: plain(value) if isinstance(value, str) else value for key, value in problem.params.items()}
    return replace(problem, file=Path(problem.file).name, message=plain(problem.message), params=params)
