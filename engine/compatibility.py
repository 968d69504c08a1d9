"""What a BPMN/DMN file made by another tool uses that this engine cannot run, or would ignore.

Models from Camunda Modeler, Flowable, Signavio, Trisotech or spiff-arena parse as BPMN, but much of
what they say lives in constructs SpiffWorkflow does not run (choreographies, compensation, complex
gateways) or in vendor extensions we never read (``camunda:class``, ``flowable:formKey``). Dropping
those silently would deploy a process that behaves differently from its diagram, so ``check_files``
names each of them: ``problems`` refuse the file, ``ignored`` are warnings that change nothing we run.
Everything the validator in ``engine.specs`` finds is added, so "importable" means "deployable".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree

from engine import validation as rules
from engine.errors import Problem
from engine.specs import MODEL_SUFFIXES, read_document, validate
from engine.validation import BPMN_NS, NS, SPIFF_NS, ParsedDocument

__all__ = ["CompatibilityReport", "analyse", "check_files"]

# Namespaces that describe the drawing or XML itself: nothing in them is behaviour.
_NEUTRAL_NAMESPACES = {
    BPMN_NS, SPIFF_NS, "http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI", "http://www.w3.org/2001/XMLSchema-instance",
    "http://www.w3.org/XML/1998/namespace",
}
# Vendor namespaces of execution engines: what they hold there is how the process runs.
_ENGINE_NAMESPACES = ("camunda.org/schema/1.0/bpmn", "camunda.org/schema/zeebe", "flowable.org/bpmn",
                      "activiti.org/bpmn", "camunda.org/schema/1.0/dmn")
# Extensions of those engines that carry behaviour: ignoring them would run a different process.
_BEHAVIOUR = {
    "class", "delegateExpression", "expression", "type", "topic", "resource", "resultVariable",
    "decisionRef", "mapDecisionResult", "triggerable", "eventType", "taskListener", "executionListener",
    "in", "out", "inputOutput", "connector", "field", "taskDefinition", "ioMapping", "calledElement",
    "calledDecision", "script", "eventInParameter", "eventOutParameter", "channelKey", "inputVariable",
    "collection", "elementVariable", "completionCondition", "errorCodeVariable", "escalationCodeVariable",
}



class _Refusal(NamedTuple):
    """A construct we refuse: its problem code and English message."""

    code: str
    message: str


_DATA_STORE = _Refusal(code="data_store", message="data stores are not supported: keep data in the case file "
                                                  "or process data")
_CONVERSATION = _Refusal(code="conversation", message="conversations are not supported")
_GLOBAL_TASK = _Refusal(code="global_task", message="global tasks are not supported: model the task inside "
                                                    "the process")
_UNSUPPORTED_IN_PROCESS = {
    "complexGateway": _Refusal(code="complex_gateway", message="complex gateways are not supported"),
    "transaction": _Refusal(code="transaction", message="transaction sub-processes are not supported"),
    "adHocSubProcess": _Refusal(code="ad_hoc_subprocess", message="ad-hoc sub-processes are not supported"),
    "compensateEventDefinition": _Refusal(code="compensation_event", message="compensation events are not supported"),
    "cancelEventDefinition": _Refusal(code="cancel_event", message="cancel events are not supported (they belong "
                                                                   "to transactions)"),
    "dataStoreReference": _DATA_STORE,
}
_UNSUPPORTED_IN_DOCUMENT = {
    "choreography": _Refusal(code="choreography", message="choreographies are not supported: this engine runs "
                                                          "processes only"),
    "conversation": _CONVERSATION, "subConversation": _CONVERSATION, "callConversation": _CONVERSATION,
    "dataStore": _DATA_STORE,
    "globalUserTask": _GLOBAL_TASK, "globalManualTask": _GLOBAL_TASK, "globalScriptTask": _GLOBAL_TASK,
    "globalBusinessRuleTask": _GLOBAL_TASK, "globalTask": _GLOBAL_TASK,
}
# Event definitions whose ref attribute must name an element of this tag in the same file.
_EVENT_REFS = {
    "messageEventDefinition": ("messageRef", "message"),
    "signalEventDefinition": ("signalRef", "signal"),
    "errorEventDefinition": ("errorRef", "error"),
    "escalationEventDefinition": ("escalationRef", "escalation"),
}
# SpiffWorkflow returns the first matching rule for any policy but COLLECT: right for UNIQUE and FIRST,
# wrong for ANY, PRIORITY, RULE ORDER and OUTPUT ORDER.
_SUPPORTED_HIT_POLICIES = {"UNIQUE", "FIRST", "COLLECT"}
_KNOWLEDGE_MODEL = _Refusal(code="dmn_knowledge_model", message="business knowledge models are not supported")
_DMN_REFUSED = {
    "informationRequirement": _Refusal(code="dmn_required_decision", message="decisions that require other "
                                       "decisions are not supported: one decision per file"),
    "knowledgeRequirement": _KNOWLEDGE_MODEL, "businessKnowledgeModel": _KNOWLEDGE_MODEL,
    "decisionService": _Refusal(code="dmn_decision_service", message="decision services are not supported"),
}


@dataclass
class CompatibilityReport:
    """The verdict on one file: importable when ``problems`` is empty."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    ignored: list[Problem] = field(default_factory=list)

    @property
    def importable(self) -> bool:
        """True when the engine can deploy and run the file as it is."""
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, for ``pis2 processes check --json``."""
        return {"file": self.file, "importable": self.importable,
                "problems": [p.as_dict() for p in self.problems], "ignored": [p.as_dict() for p in self.ignored]}


def check_files(paths: Iterable[Path], forms_dir: Path, roles: Mapping[str, str]) -> list[CompatibilityReport]:
    """One report per model file; the files are validated together, as one deployment would be."""
    files = _expand(paths)
    bundle_problems = validate(files, forms_dir, roles) if files else []
    reports = []
    for path in files:
        report = CompatibilityReport(str(path))
        doc, read_problems = read_document(path)
        report.problems += read_problems
        if doc is not None:
            unsupported, ignored = analyse(doc)
            report.problems += unsupported
            report.ignored += ignored
        # Our analysis names the cause; the validator's error on the same element only restates it.
        explained = {(p.element_id, p.line) for p in report.problems}
        for problem in bundle_problems:
            if problem.file != str(path) or (problem.element_id, problem.line) in explained:
                continue
            # An imported model is stored under its process id: the file's own name does not matter.
            target = report.ignored if problem.code == rules.FILE_NAME_RULE else report.problems
            target.append(problem)
        report.problems.sort(key=_line)
        report.ignored.sort(key=_line)
        reports.append(report)
    return reports


def _expand(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith(MODEL_SUFFIXES))
        else:
            found.append(path)
    return found


def _line(problem: Problem) -> tuple[int, str]:
    return problem.line or 0, problem.element_id or ""


def analyse(doc: ParsedDocument) -> tuple[list[Problem], list[Problem]]:
    """(what the engine cannot run, what it would ignore) in one parsed document."""
    if doc.kind == "dmn":
        return _analyse_dmn(doc)
    unsupported: list[Problem] = []
    ignored: list[Problem] = []
    root = doc.root
    for node in root.iter(tag=etree.Element):
        refusal = _UNSUPPORTED_IN_DOCUMENT.get(_local(node))
        if refusal and etree.QName(node).namespace == BPMN_NS:
            unsupported.append(_problem(doc, node, refusal.message, refusal.code))
    processes = root.xpath("./bpmn:process", namespaces=NS)
    running = rules.executable_processes(root)
    for process in processes:
        if process.get("isExecutable") is None:
            ignored.append(_problem(doc, process, "process has no isExecutable flag: run as executable "
                                                  "(the BPMN default would be not executable)",
                                    code="executable_flag_missing"))
        elif process not in running:
            ignored.append(_problem(doc, process, "process is not executable (isExecutable=\"false\"): "
                                                  "it is ignored", code="not_executable"))
    unsupported += _pool_problems(doc, processes, running)
    for process in running:
        unsupported += _process_problems(doc, process)
    vendor_unsupported, vendor_ignored = _vendor_extensions(doc, [*running, *_collaborations(root)])
    return unsupported + vendor_unsupported, ignored + vendor_ignored


def _pool_problems(doc: ParsedDocument, processes: list[Any], running: list[Any]) -> list[Problem]:
    """The file must hold a process to run, and only one if it is a collaboration of pools."""
    root = doc.root
    if not processes:
        return [Problem(doc.path, root.sourceline, root.get("id"), "the file holds no process at all: nothing "
                        "to run", code="no_process")]
    if not running:
        return [Problem(doc.path, root.sourceline, root.get("id"), "the file holds no executable process: "
                        "nothing to run", code="no_executable_process")]
    if len(running) > 1 and root.find("bpmn:collaboration", namespaces=NS) is not None:
        names = ", ".join(p.get("id") for p in running)
        return [Problem(doc.path, root.sourceline, root.get("id"), f"collaboration with {len(running)} executable "
                        f"pools ({names}): deploy one executable process per file", code="collaboration_pools",
                        params={"count": len(running), "processes": names})]
    return []


def _collaborations(root: Any) -> list[Any]:
    return list(root.xpath("./bpmn:collaboration", namespaces=NS))


def _process_problems(doc: ParsedDocument, process: Any) -> list[Problem]:
    problems = []
    for node in process.iter(tag=etree.Element):
        if etree.QName(node).namespace != BPMN_NS:
            continue
        tag = _local(node)
        if tag in _UNSUPPORTED_IN_PROCESS:
            refusal = _UNSUPPORTED_IN_PROCESS[tag]
            problems.append(_problem(doc, node, refusal.message, refusal.code))
        elif tag in _EVENT_REFS:
            problems += _event_ref_problems(doc, node)
        elif tag == "scriptTask":
            problems += _script_problems(doc, node)
        elif tag in ("conditionExpression", "timeDate", "timeDuration", "timeCycle"):
            problems += _expression_problems(doc, node)
        elif tag == "serviceTask" and node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator",
                                                namespaces=NS) is None:
            problems.append(_problem(doc, node, "service task has no spiffworkflow:serviceTaskOperator: "
                                                "this engine calls registered operations by name",
                                     code="service_task_no_operator"))
    return problems


def _event_ref_problems(doc: ParsedDocument, definition: Any) -> list[Problem]:
    attribute, target = _EVENT_REFS[_local(definition)]
    ref = definition.get(attribute)
    if ref is None:
        return []
    ids = set(doc.root.xpath(f"./bpmn:{target}/@id", namespaces=NS))
    if ref in ids:
        return []
    return [_problem(doc, definition, f"{attribute} {ref!r} does not name a {target} of this file",
                     code="event_ref_unknown", attribute=attribute, ref=ref, target=target)]


def _script_problems(doc: ParsedDocument, task: Any) -> list[Problem]:
    script_format = (task.get("scriptFormat") or "").strip().lower()
    if script_format and "python" not in script_format:
        return [_problem(doc, task, f"script language {task.get('scriptFormat')!r} is not supported: "
                                    "scripts are Python", code="script_language", language=task.get("scriptFormat"))]
    return []


def _expression_problems(doc: ParsedDocument, node: Any) -> list[Problem]:
    text = (node.text or "").strip()
    condition = _local(node) == "conditionExpression"
    what = "condition" if condition else "timer"
    if text.startswith(("${", "#{")):
        return [_problem(doc, node, f"{what} {text!r} is a UEL/JUEL expression: write it in Python",
                         code="condition_uel" if condition else "timer_uel", expression=text)]
    language = (node.get("language") or doc.root.get("expressionLanguage") or "").lower()
    if not text:
        return []  # the validator reports the missing expression
    if "feel" in language or (node.get("language") and "python" not in language):
        return [_problem(doc, node, f"{what} language {language!r} is not supported: expressions are Python",
                         code="condition_language" if condition else "timer_language", language=language)]
    return []


def _vendor_extensions(doc: ParsedDocument, scopes: list[Any]) -> tuple[list[Problem], list[Problem]]:
    """Per owning element: the vendor attributes and elements found, split into behaviour and the rest."""
    found: dict[Any, tuple[list[str], list[str]]] = {}
    for scope in scopes:
        for node, name, namespace in _vendor_names(scope):
            owner = _owner(node)
            behaviour, other = found.setdefault(owner, ([], []))
            is_behaviour = any(ns in namespace for ns in _ENGINE_NAMESPACES) and name.split(":")[-1] in _BEHAVIOUR
            target = behaviour if is_behaviour else other
            if name not in target:
                target.append(name)
    unsupported, ignored = [], []
    for owner, (behaviour, other) in found.items():
        if behaviour:
            unsupported.append(_problem(doc, owner, "vendor execution extensions are not supported: "
                                        + ", ".join(behaviour), code="vendor_behaviour", names=", ".join(behaviour)))
        if other:
            ignored.append(_problem(doc, owner, "vendor extensions ignored: " + ", ".join(other),
                                    code="vendor_ignored", names=", ".join(other)))
    return unsupported, ignored


def _vendor_names(scope: Any) -> Iterator[tuple[Any, str, str]]:
    """(element, prefixed name, namespace) of every vendor attribute and top-level vendor element."""
    for node in scope.iter(tag=etree.Element):
        qname = etree.QName(node)
        if qname.namespace not in _NEUTRAL_NAMESPACES:
            parent_ns = etree.QName(node.getparent()).namespace
            if parent_ns in _NEUTRAL_NAMESPACES:  # report the outermost vendor element only
                yield node, f"{node.prefix or qname.namespace}:{qname.localname}", qname.namespace or ""
            continue
        for attribute in node.attrib:
            namespace = etree.QName(attribute).namespace
            if namespace and namespace not in _NEUTRAL_NAMESPACES:
                yield node, _prefixed(node, attribute), namespace


def _prefixed(node: Any, attribute: str) -> str:
    qname = etree.QName(attribute)
    prefix = next((p for p, ns in node.nsmap.items() if ns == qname.namespace and p), qname.namespace)
    return f"{prefix}:{qname.localname}"


def _owner(node: Any) -> Any:
    """The nearest element with an id in the model's own namespace (a task, not its extensionElements)."""
    element = node
    while element is not None:
        if etree.QName(element).namespace in (BPMN_NS,) and element.get("id"):
            return element
        element = element.getparent()
    return node


def _analyse_dmn(doc: ParsedDocument) -> tuple[list[Problem], list[Problem]]:
    unsupported: list[Problem] = []
    ignored: list[Problem] = []
    for node in doc.root.iter(tag=etree.Element):
        tag = _local(node)
        if tag in _DMN_REFUSED:
            unsupported.append(_problem(doc, node, _DMN_REFUSED[tag].message, _DMN_REFUSED[tag].code))
        elif tag == "decision" and node.find("{*}decisionTable") is None:
            unsupported.append(_problem(doc, node, "only decision tables are supported as decision logic",
                                        code="dmn_not_table"))
        elif tag == "decisionTable":
            unsupported += _table_problems(doc, node)
        elif tag == "text" and _looks_like_feel(node.text or ""):
            unsupported.append(_problem(doc, node.getparent(), f"FEEL expression {node.text.strip()!r} is "
                                        "not supported: decision table cells are Python", code="dmn_feel",
                                        expression=node.text.strip()))
        for attribute in node.attrib:
            namespace = etree.QName(attribute).namespace
            if namespace and namespace not in _NEUTRAL_NAMESPACES:
                name = _prefixed(node, attribute)
                ignored.append(_problem(doc, node, f"vendor extension ignored: {name}", code="vendor_ignored",
                                        names=name))
    return unsupported, ignored


def _table_problems(doc: ParsedDocument, table: Any) -> list[Problem]:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    problems = []
    if policy not in _SUPPORTED_HIT_POLICIES:
        problems.append(_problem(doc, table, f"hit policy {policy} is not supported (only UNIQUE, FIRST and COLLECT)",
                                 code="dmn_hit_policy", policy=policy))
    if table.get("aggregation"):
        problems.append(_problem(doc, table, f"COLLECT aggregation {table.get('aggregation')} is not supported",
                                 code="dmn_aggregation", aggregation=table.get("aggregation")))
    return problems


def _looks_like_feel(text: str) -> bool:
    """FEEL ranges (``[250..1000]``) and negations (``not("a")``), which Python cannot read."""
    text = text.strip()
    return (".." in text and text[:1] in "[(]") or text.startswith("not(")


def _local(node: Any) -> str:
    return str(etree.QName(node).localname)


def _problem(doc: ParsedDocument, node: Any, message: str, code: str, **params: Any) -> Problem:
    """A problem named by the element a modeller selects (an event, not its event definition).

    The message starts with the XML element's name, given to a translation as ``element``.
    """
    owner = node
    while owner is not None and (not owner.get("id") or _local(owner).endswith("EventDefinition")
                                 or _local(owner) == "conditionExpression"):
        owner = owner.getparent()
    owner = node if owner is None else owner
    return Problem(doc.path, node.sourceline, owner.get("id"), f"{_local(node)}: {message}", code=code,
                   params={"element": _local(node), **params})
