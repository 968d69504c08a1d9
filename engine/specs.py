"""Load and validate BPMN/DMN models and their forms; parse stored versions for the runtime.

Every file goes through one hardened XML parser (no entities, no DTD, no network) and SpiffWorkflow
only ever receives the parsed tree. ``validate`` collects every problem it can find rather than
stopping at the first; ``read_models`` refuses the whole bundle when there is any.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine import validation as rules
from engine.errors import ModelValidationError, Problem
from engine.form_files import FormStore
from engine.scripting import compile_check
from engine.validation import ParsedDocument, resolve_lane_role

__all__ = ["ModelFile", "parse_model", "read_document", "read_models", "resolve_lane_role", "safe_xml_parser",
           "validate"]

MODEL_SUFFIXES = (".bpmn", ".bpmn20.xml", ".dmn")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_POSITION = re.compile(r", line \d+, column \d+$")
_ELEMENT_REPR = re.compile(r"<Element (\S+) at 0x[0-9a-f]+>")
_NAMESPACE_PREFIXES = {
    rules.BPMN_NS: "bpmn",
    rules.SPIFF_NS: "spiffworkflow",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
}


def safe_xml_parser() -> etree.XMLParser:
    """A fresh lxml parser that resolves no entities, loads no DTD and never touches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=False)


@dataclass
class ModelFile:
    """One executable process ready to deploy, with the decisions and forms it uses."""

    process_id: str
    name: str | None
    source_file: str
    bpmn_xml: str
    dmn_files: dict[str, str] = field(default_factory=dict)
    forms: dict[str, Any] = field(default_factory=dict)
    start_messages: list[str] = field(default_factory=list)
    content_hash: str = ""

    def __post_init__(self) -> None:
        if not self.content_hash:
            self.content_hash = content_hash(self.bpmn_xml, self.dmn_files, self.forms)


def content_hash(bpmn_xml: str, dmn_files: Mapping[str, str], forms: Mapping[str, Any]) -> str:
    """sha256 hex over the BPMN, the DMN files and the forms, independent of dict order."""
    payload = json.dumps({"bpmn": bpmn_xml, "dmn": dict(dmn_files), "forms": dict(forms)},
                         sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def validate(paths: Iterable[Path], forms_dir: Path, roles: Mapping[str, str]) -> list[Problem]:
    """Every problem in the given models and the forms they reference, sorted by file and line."""
    return _load(paths, forms_dir, roles)[1]


def read_models(paths: Iterable[Path], forms_dir: Path, *,
                roles: Mapping[str, str] | None = None) -> list[ModelFile]:
    """One ModelFile per executable process; raises ModelValidationError listing every problem."""
    docs, problems, forms = _load(paths, forms_dir, roles or {})
    if problems:
        raise ModelValidationError(problems=problems)
    decisions = {rules.decision_id(d.root): d for d in docs if d.kind == "dmn"}
    return [_model_file(doc, process, decisions, forms)
            for doc in docs if doc.kind == "bpmn"
            for process in rules.executable_processes(doc.root)]


def parse_model(bpmn_xml: str, dmn_files: Mapping[str, str], process_id: str) -> tuple[Any, dict[str, Any]]:
    """Parse a stored (already validated) version into ``(spec, subprocess_specs)``."""
    parser = SpiffBpmnParser()  # parsers keep state: one per parse
    for name, xml in sorted(dmn_files.items()):
        parser.add_dmn_xml(_parse_stored(xml, name), filename=name)
    parser.add_bpmn_xml(_parse_stored(bpmn_xml, f"{process_id}.bpmn"), filename=f"{process_id}.bpmn")
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def _parse_stored(text: str, name: str) -> Any:
    # lxml refuses a str that still declares an encoding; the text is already decoded.
    root, problems = _parse_bytes(name, _XML_DECLARATION.sub("", text, count=1).encode("utf-8"))
    if problems:
        raise ModelValidationError(problems=problems)
    return root


# --- reading ---------------------------------------------------------------------------------------


def _load(paths: Iterable[Path], forms_dir: Path,
          roles: Mapping[str, str]) -> tuple[list[ParsedDocument], list[Problem], FormStore]:
    problems: list[Problem] = []
    docs: list[ParsedDocument] = []
    for path in _expand(paths, problems):
        doc = _read_document(path, problems)
        if doc is not None:
            docs.append(doc)
    forms = FormStore(forms_dir)
    own = _rule_problems(docs, forms, roles)
    own += [p for doc in docs for p in _xsd_problems(doc)]
    # SpiffWorkflow stops at the first error of a process, usually one we explain better already;
    # a process-level problem of ours (its file name) explains nothing of SpiffWorkflow's.
    process_ids = {p.get("id") for d in docs for p in d.root.xpath("./bpmn:process", namespaces=rules.NS)}
    known = {(p.file, p.element_id) for p in own if p.element_id and p.element_id not in process_ids}
    spiff = [p for p in _spiff_problems(docs) if (p.file, p.element_id) not in known]
    one_line = {_on_one_line(p) for p in problems + own + spiff}
    return docs, sorted(one_line, key=_sort_key), forms


def _on_one_line(problem: Problem) -> Problem:
    params = {k: _one_line(v) if isinstance(v, str) else v for k, v in problem.params.items()}
    return replace(problem, message=_one_line(problem.message), params=params)


def _sort_key(problem: Problem) -> tuple[str, int, str, str]:
    return problem.file, problem.line or 0, problem.element_id or "", problem.message


def _expand(paths: Iterable[Path], problems: list[Problem]) -> list[Path]:
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            models = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(MODEL_SUFFIXES))
            if not models:
                problems.append(Problem(str(path), None, None, "directory holds no .bpmn or .dmn files",
                                        code="no_model_files"))
            found.extend(models)
        else:
            found.append(path)
    return found


def read_document(path: Path) -> tuple[ParsedDocument | None, list[Problem]]:
    """One file through the safe parser: (document, []) or (None, the problems that stopped it)."""
    problems: list[Problem] = []
    return _read_document(path, problems), problems


def _read_document(path: Path, problems: list[Problem]) -> ParsedDocument | None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append(Problem(str(path), None, None, "file not found", code="file_not_found"))
        return None
    except OSError as exc:
        problems.append(Problem(str(path), None, None, f"cannot read file: {exc.strerror}",
                                code="file_unreadable", params={"detail": exc.strerror}))
        return None
    root, parse_problems = _parse_bytes(str(path), data)
    problems.extend(parse_problems)
    if root is None:
        return None
    namespace = etree.QName(root).namespace or ""
    kind = "bpmn" if namespace == rules.BPMN_NS else "dmn" if "/DMN/" in namespace else None
    if kind is None:
        problems.append(Problem(str(path), root.sourceline, None,
                                f"not a BPMN or DMN document (root element {root.tag})",
                                code="not_a_model", params={"element": _short_tag(root.tag)}))
        return None
    return ParsedDocument(str(path), kind, _decode(data, root), root)


def _parse_bytes(file: str, data: bytes) -> tuple[Any, list[Problem]]:
    """(root element, []) or (None, [problem]); entity declarations are always refused."""
    if b"<!DOCTYPE" in data and b"<!ENTITY" in data:
        # Never hand a possible entity bomb to the parser at all.
        return None, [Problem(file, _line_of(data, b"<!ENTITY"), None, "entity declarations are not allowed",
                              code="xml_entities")]
    try:
        root = etree.fromstring(data, safe_xml_parser())
    except etree.XMLSyntaxError as exc:
        detail = _POSITION.sub("", exc.msg)  # the line is in the Problem already
        if "amplification" in detail or "entity reference loop" in detail:
            return None, [Problem(file, exc.lineno, None, f"entity declarations are not allowed ({detail})",
                                  code="xml_entity_expansion", params={"detail": detail})]
        return None, [Problem(file, exc.lineno, None, detail, code="xml_syntax", params={"detail": detail})]
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        return None, [Problem(file, 1, None, "entity declarations are not allowed", code="xml_entities")]
    return root, []


def _line_of(data: bytes, needle: bytes) -> int:
    return data[: max(data.find(needle), 0)].count(b"\n") + 1


def _decode(data: bytes, root: Any) -> str:
    encoding = root.getroottree().docinfo.encoding or "utf-8"
    try:
        return data.decode("utf-8-sig" if encoding.lower() == "utf-8" else encoding)
    except (LookupError, UnicodeDecodeError):
        return str(etree.tostring(root, encoding="unicode"))


# --- checks ----------------------------------------------------------------------------------------


def _rule_problems(docs: list[ParsedDocument], forms: FormStore,
                   roles: Mapping[str, str]) -> list[Problem]:
    decision_files: dict[str, str] = {}
    problems: list[Problem] = []
    for doc in (d for d in docs if d.kind == "dmn"):
        problems += rules.check_dmn(doc, compile_check) + _duplicate_decision(doc, decision_files)
    for doc in (d for d in docs if d.kind == "bpmn"):
        problems += rules.check_file_name(doc) + rules.check_document_expressions(doc, compile_check)
        for process in rules.executable_processes(doc.root):
            problems += (rules.check_forms(doc, process, forms) + rules.check_lanes(doc, process, roles)
                         + rules.check_expressions(doc, process, compile_check)
                         + rules.check_decisions(doc, process, set(decision_files))
                         + rules.check_call_activities(doc, process)
                         + rules.check_event_subprocesses(doc, process))
    return problems


def _duplicate_decision(doc: ParsedDocument, seen: dict[str, str]) -> list[Problem]:
    decision = rules.decision_id(doc.root)
    if decision is None:
        return []
    if decision in seen:
        message = f"decision id also defined in {seen[decision]}"
        return [Problem(doc.path, doc.root.sourceline, decision, message, code="decision_duplicate",
                        params={"file": Path(seen[decision]).name})]
    seen[decision] = doc.path
    return []


_xsd_lock = threading.Lock()  # an lxml XMLSchema keeps the error log of its last run on itself


@functools.cache
def _schema(xsd_path: str | None) -> BpmnValidator | None:
    try:
        return BpmnValidator() if xsd_path is None else BpmnValidator(xsd_path)
    except etree.LxmlError:
        # SpiffWorkflow 3.2.0 ships a DMN 1.2 schema whose DI import does not resolve.
        return None


def _xsd_problems(doc: ParsedDocument) -> list[Problem]:
    """Every schema error (SpiffWorkflow's validator raises only the last one)."""
    if doc.kind == "bpmn":
        validator = _schema(None)
    else:
        xsd = DMN_SCHEMAS.get(etree.QName(doc.root).namespace or "")
        validator = _schema(xsd) if xsd else None
    if validator is None:
        return []
    # preprocess() renames correlation formalExpressions as SpiffWorkflow's validate() does;
    # run it on a copy so the tree keeps the modeller's elements.
    root = copy.deepcopy(doc.root)  # keeps source lines
    validator.preprocess(root)
    with _xsd_lock:
        validator.validator.validate(root)
        errors = list(validator.validator.error_log)
    ids_by_line = _ids_by_line(doc.root)
    return [Problem(doc.path, e.line, ids_by_line.get(e.line), message, code="xsd", params={"detail": message})
            for e in errors for message in [_short_xsd_message(e.message)]]


def _ids_by_line(root: Any) -> dict[int, str]:
    ids: dict[int, str] = {}
    for element in root.iter(tag=etree.Element):
        if element.get("id") and element.sourceline not in ids:
            ids[element.sourceline] = element.get("id")
    return ids


def _short_xsd_message(message: str) -> str:
    message = _short_tag(message)
    head, sep, _ = message.partition(" Expected is")
    return head if sep and len(message) > 200 else message


def _spiff_problems(docs: list[ParsedDocument]) -> list[Problem]:
    """What SpiffWorkflow's own parser rejects, parsing the whole bundle with one parser."""
    parser = SpiffBpmnParser()
    lines = {doc.path: _lines_by_id(doc.root) for doc in docs}
    problems = []
    for doc in sorted(docs, key=lambda d: d.kind != "dmn"):  # decisions first: tasks look them up
        try:
            _add_to_parser(parser, doc)
        except Exception as exc:  # SpiffWorkflow also raises KeyError, AttributeError, TypeError
            problems.append(_spiff_problem(exc, doc.path, None, lines))
    for process_id in parser.get_process_ids():
        file = parser.get_process_parser(process_id).filename
        try:
            parser.get_subprocess_specs(process_id)
        except Exception as exc:  # same as above
            problems.append(_spiff_problem(exc, file, process_id, lines))
    return problems


def _add_to_parser(parser: SpiffBpmnParser, doc: ParsedDocument) -> None:
    if doc.kind == "bpmn":
        parser.add_bpmn_xml(doc.root, filename=doc.path)
        return
    if rules.dmn_structure_problems(doc):
        return  # already reported; SpiffWorkflow would fail on it with a bare KeyError or AttributeError
    parser.add_dmn_xml(doc.root, filename=doc.path)
    # Decision tables are parsed lazily when a task needs them: parse now to report their errors.
    parser.dmn_parsers[rules.decision_id(doc.root)].parse()


def _lines_by_id(root: Any) -> dict[str, int]:
    return {e.get("id"): e.sourceline for e in root.iter(tag=etree.Element) if e.get("id")}


def _spiff_problem(exc: Exception, file: str, process_id: str | None,
                   lines: Mapping[str, Mapping[str, int]]) -> Problem:
    if not isinstance(exc, ValidationException):
        detail = _one_line(f"{type(exc).__name__}: {exc}")
        line = lines.get(file, {}).get(process_id or "")
        if process_id:
            return Problem(file, line, process_id, f"SpiffWorkflow cannot load process {process_id}: {detail}",
                           code="spiff_process", params={"process": process_id, "detail": detail})
        return Problem(file, line, None, f"SpiffWorkflow cannot load this file: {detail}", code="spiff_file",
                       params={"detail": detail})
    file = exc.file_name if exc.file_name in lines else file
    element_id = exc.id or process_id
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number > 0 else None
    line = line or lines.get(file, {}).get(element_id or "")
    # Exception.__str__: SpiffWorkflow's own __str__ appends ". " and its notes.
    detail = _one_line(". ".join([Exception.__str__(exc), *exc.notes]))
    return Problem(file, line, element_id, detail, code="spiff_invalid", params={"detail": detail})


def _one_line(text: str) -> str:
    """One line, with lxml element reprs (``<Element {ns}tag at 0x7f..>``) shortened to ``bpmn:tag``."""
    text = _ELEMENT_REPR.sub(lambda m: _short_tag(m.group(1)), text)
    return " ".join(text.split())


def _short_tag(tag: str) -> str:
    for namespace, prefix in _NAMESPACE_PREFIXES.items():
        tag = tag.replace(f"{{{namespace}}}", f"{prefix}:")
    return tag


# --- building ModelFiles ---------------------------------------------------------------------------


def _model_file(doc: ParsedDocument, process: Any, decisions: Mapping[str | None, ParsedDocument],
                forms: FormStore) -> ModelFile:
    processes = rules.executable_processes(doc.root)
    dmn_docs = {decisions[ref].path: decisions[ref] for p in processes
                for _, ref in rules.called_decisions(p) if ref in decisions}
    form_names = {name for p in processes for _, *names in rules.form_references(p) for name in names if name}
    return ModelFile(
        process_id=process.get("id"),
        name=process.get("name"),
        source_file=doc.path,
        bpmn_xml=doc.text,
        dmn_files={Path(path).name: d.text for path, d in sorted(dmn_docs.items())},
        forms={name: forms.load(name)[0] for name in sorted(form_names)},
        start_messages=rules.start_messages(doc.root, process),
    )
