"""Model rules checked on the parsed XML, before and beside SpiffWorkflow's own parser.

Every check takes a parsed document and returns a list of ``Problem`` instead of raising, so one
run reports everything that is wrong. ``engine.specs`` reads the files and runs these checks.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.errors import Problem
from engine.form_files import FormStore

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# compile_check(source, "eval" | "exec") -> error message or None
CompileCheck = Callable[[str, str], "str | None"]

FORM_SCHEMA = "formJsonSchemaFilename"
FORM_UI_SCHEMA = "formUiSchemaFilename"
FILE_NAME_RULE = "file_name"  # check_file_name's problem code

# An unquoted ISO 8601 duration, date(time) or cycle: SpiffWorkflow evaluates timer bodies as Python,
# where `PT1H` is an unknown name and `2025-01-01` a syntax error.
_ISO_8601 = re.compile(r"(R\d*/)?(P(?=[^/]*\d)[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}[\dT:.,+\-Z]*)(/\S*)?")
# SpiffWorkflow's DMNEngine turns `?` outside quotes into the input value (`4 < ? < 6`).
_DMN_PLACEHOLDER = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


@dataclass
class ParsedDocument:
    """One BPMN or DMN file after safe XML parsing."""

    path: str
    kind: str  # "bpmn" or "dmn"
    text: str
    root: Any  # lxml element

    def problem(self, owner: Any, message: str, node: Any = None, *, code: str, **params: Any) -> Problem:
        """A problem on ``owner`` (its id), at the line of ``node`` (default: the owner)."""
        line = (node if node is not None else owner).sourceline
        return Problem(self.path, line, owner.get("id"), message, code=code, params=params)

    def restate(self, owner: Any, found: Problem) -> Problem:
        """A problem found outside the document (in a form file, say) as one on ``owner``."""
        return Problem(self.path, owner.sourceline, owner.get("id"), found.message, found.code, dict(found.params))


def resolve_lane_role(lane_name: str | None, roles: Mapping[str, str]) -> str | None:
    """The role key a lane name stands for (key or label, any case and spacing), or None."""
    name = _normalise(lane_name or "")
    if not name:
        return None
    for key, label in roles.items():
        key_norm = _normalise(key)
        if name in (key_norm, _normalise(label)) or name.replace(" ", "_") == key_norm:
            return key
    return None


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def executable_processes(root: Any) -> list[Any]:
    """The document's processes SpiffWorkflow will run (a missing isExecutable counts as true)."""
    return [p for p in root.xpath("./bpmn:process", namespaces=NS) if p.get("isExecutable", "true") == "true"]


def decision_id(root: Any) -> str | None:
    """The id SpiffWorkflow registers a DMN file under: its first decision's."""
    decision = root.find("{*}decision")
    return None if decision is None else decision.get("id")


def properties(element: Any) -> dict[str, str]:
    """The ``spiffworkflow:property`` name/value pairs of an element."""
    nodes = element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                          namespaces=NS)
    return {node.get("name"): node.get("value") for node in nodes if node.get("name")}


def form_references(process: Any) -> Iterator[tuple[Any, str | None, str | None]]:
    """(element, schema file, ui schema file) for user tasks and anything else naming a form."""
    for element in process.xpath(".//bpmn:userTask|.//bpmn:*[bpmn:extensionElements]", namespaces=NS):
        props = properties(element)
        if element.tag == f"{{{BPMN_NS}}}userTask" or FORM_SCHEMA in props or FORM_UI_SCHEMA in props:
            yield element, props.get(FORM_SCHEMA), props.get(FORM_UI_SCHEMA)


def called_decisions(process: Any) -> Iterator[tuple[Any, str | None]]:
    """(business rule task, its ``spiffworkflow:calledDecisionId`` text) pairs."""
    for task in process.xpath(".//bpmn:businessRuleTask", namespaces=NS):
        ref = task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", namespaces=NS)
        yield task, None if ref is None else ref.text


def start_messages(root: Any, process: Any) -> list[str]:
    """Names of the messages that start ``process`` (its own message start events)."""
    names = {m.get("id"): m.get("name") for m in root.xpath(".//bpmn:message", namespaces=NS)}
    refs = process.xpath("./bpmn:startEvent/bpmn:messageEventDefinition/@messageRef", namespaces=NS)
    return [names[ref] for ref in refs if names.get(ref)]


def check_forms(doc: ParsedDocument, process: Any, forms: FormStore) -> list[Problem]:
    """Every user task names a JSON Schema form that exists and is a valid schema."""
    problems = []
    for element, schema_name, ui_name in form_references(process):
        if schema_name is None:
            problems.append(doc.problem(element, f"user task has no form ({FORM_SCHEMA})", code="user_task_no_form",
                                        property=FORM_SCHEMA))
        else:
            error = forms.schema_problem(schema_name)
            if error:
                problems.append(doc.restate(element, error))
        if ui_name is not None:
            error = forms.load(ui_name)[1]
            if error:
                problems.append(doc.restate(element, error))
        problems += _due_in_problems(doc, element)
    return problems


def _due_in_problems(doc: ParsedDocument, element: Any) -> list[Problem]:
    due_in = properties(element).get("dueIn")
    if due_in is None:
        return []
    try:
        TimerEventDefinition.parse_iso_duration(due_in.strip("\"'"))
    except Exception:  # SpiffWorkflow raises a bare Exception('Invalid duration')
        return [doc.problem(element, f"dueIn {due_in!r} is not an ISO 8601 duration such as P5D or PT48H",
                            code="due_in_invalid", value=due_in)]
    return []


def check_lanes(doc: ParsedDocument, process: Any, roles: Mapping[str, str]) -> list[Problem]:
    """Lanes name known roles; human tasks sit in a lane (always when roles are given: the lane is
    how a task finds the people who may do it)."""
    lanes = process.xpath("./bpmn:laneSet//bpmn:lane[not(bpmn:childLaneSet)]", namespaces=NS)
    if not lanes and not roles:
        return []
    problems = []
    for lane in lanes:
        name = (lane.get("name") or "").strip()
        if not name:
            problems.append(doc.problem(lane, "lane has no name", code="lane_no_name"))
        elif roles and resolve_lane_role(name, roles) is None:
            known = ", ".join(sorted(roles))
            problems.append(doc.problem(lane, f"lane '{name}' does not match any role ({known})",
                                        code="lane_unknown_role", lane=name, roles=known))
    in_lane = {(ref.text or "").strip() for ref in process.xpath("./bpmn:laneSet//bpmn:flowNodeRef",
                                                                 namespaces=NS)}
    for task in process.xpath("./bpmn:userTask|./bpmn:manualTask", namespaces=NS):
        if task.get("id") not in in_lane:
            problems.append(doc.problem(task, "task is not in any lane, so no role would receive it",
                                        code="task_no_lane"))
    return problems


def check_decisions(doc: ParsedDocument, process: Any, decision_ids: set[str]) -> list[Problem]:
    """Every business rule task calls a decision found among the DMN files given."""
    problems = []
    for task, ref in called_decisions(process):
        if not (ref or "").strip():
            problems.append(doc.problem(task, "business rule task has no spiffworkflow:calledDecisionId",
                                        code="rule_task_no_decision"))
        elif ref not in decision_ids:
            problems.append(doc.problem(task, f"decision {ref!r} not found in the DMN files given",
                                        code="decision_not_found", decision=ref))
    return problems


def check_call_activities(doc: ParsedDocument, process: Any) -> list[Problem]:
    """Called processes live in the same file: a deployed version stores exactly one BPMN file."""
    local = {p.get("id") for p in doc.root.xpath("./bpmn:process", namespaces=NS)}
    return [
        doc.problem(call, f"called process {call.get('calledElement')!r} is not defined in this file",
                    code="called_process_missing", process=call.get("calledElement"))
        for call in process.xpath(".//bpmn:callActivity", namespaces=NS)
        if call.get("calledElement") not in local
    ]


def check_event_subprocesses(doc: ParsedDocument, process: Any) -> list[Problem]:
    """Event sub-processes are refused: in SpiffWorkflow 3.2 an interrupting one does not cancel the
    main flow, and triggering one alters the spec that every instance of the version shares."""
    return [
        doc.problem(node, "event sub-processes are not supported by this engine: use boundary events",
                    code="event_subprocess")
        for node in process.xpath(".//bpmn:subProcess[@triggeredByEvent='true']", namespaces=NS)
    ]


def check_file_name(doc: ParsedDocument) -> list[Problem]:
    """A file holding one executable process is named after it (mild: only then)."""
    processes = doc.root.xpath("./bpmn:process", namespaces=NS)
    if len(processes) != 1 or not executable_processes(doc.root):
        return []
    process_id = processes[0].get("id")
    if not process_id or file_stem(doc.path) == process_id:
        return []
    return [doc.problem(processes[0], f"file name should be {process_id}.bpmn", code="file_name",
                        file=f"{process_id}.bpmn")]


def file_stem(path: str) -> str:
    """The file name without its model suffix (``.bpmn``, ``.bpmn20.xml``, ``.dmn``)."""
    name = Path(path).name
    for suffix in (".bpmn20.xml", ".bpmn", ".dmn", ".xml"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def check_expressions(doc: ParsedDocument, process: Any, compile_check: CompileCheck) -> list[Problem]:
    """Scripts, conditions, payloads and parameters compile; timers hold quoted expressions."""
    problems = [
        doc.problem(_owner(node), f"invalid {kind.label}: {error}", node, code=kind.code, detail=error, **params)
        for node, source, kind, params in _expressions(process)
        if (error := compile_check(source, kind.mode))
    ]
    for timer in process.xpath(".//bpmn:timerEventDefinition", namespaces=NS):
        problems.extend(_timer_problems(doc, timer, compile_check))
    return problems

class _Expression(NamedTuple):
    """Where Python sits in a model: how it compiles, and how its problems are named."""

    xpath: str
    mode: str  # "eval" or "exec"
    label: str  # in the English message
    code: str


# The Python held in element text, relative to a process or the document.
_TEXT_EXPRESSIONS = (
    _Expression(".//bpmn:scriptTask/bpmn:script", "exec", "script", code="invalid_script"),
    _Expression(".//spiffworkflow:preScript", "exec", "pre-script", code="invalid_pre_script"),
    _Expression(".//spiffworkflow:postScript", "exec", "post-script", code="invalid_post_script"),
    _Expression(".//bpmn:sequenceFlow/bpmn:conditionExpression", "eval", "condition", code="invalid_condition"),
    _Expression(".//spiffworkflow:messagePayload", "eval", "message payload", code="invalid_message_payload"),
    _Expression(".//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression", "eval",
                "correlation expression", code="invalid_correlation_expression"),
)


def _expressions(scope: Any) -> Iterator[tuple[Any, str, _Expression, dict[str, Any]]]:
    for kind in _TEXT_EXPRESSIONS:
        for node in scope.xpath(kind.xpath, namespaces=NS):
            if (node.text or "").strip():
                yield node, node.text, kind, {}
    for param in scope.xpath(".//spiffworkflow:serviceTaskOperator//spiffworkflow:parameter[@value]",
                             namespaces=NS):
        kind = _Expression("", "eval", f"parameter {param.get('id')!r}", code="invalid_parameter")
        yield param, param.get("value"), kind, {"parameter": param.get("id")}


def check_document_expressions(doc: ParsedDocument, compile_check: CompileCheck) -> list[Problem]:
    """Expressions declared outside processes: message payloads and correlation retrievals."""
    problems: list[Problem] = []
    for scope in doc.root.xpath("./bpmn:message|./bpmn:correlationProperty", namespaces=NS):
        problems.extend(
            doc.problem(_owner(node), f"invalid {kind.label}: {error}", node, code=kind.code, detail=error, **params)
            for node, source, kind, params in _expressions(scope)
            if (error := compile_check(source, kind.mode))
        )
    return problems


def _owner(node: Any) -> Any:
    """The nearest BPMN element with an id that a modeller would recognise (not an event definition)."""
    for element in node.iterancestors():
        qname = etree.QName(element)
        is_definition = qname.localname.endswith("EventDefinition")
        if qname.namespace == BPMN_NS and element.get("id") and not is_definition:
            return element
    return node


def _timer_problems(doc: ParsedDocument, timer: Any, compile_check: CompileCheck) -> list[Problem]:
    owner = _owner(timer)
    bodies = timer.xpath("./bpmn:timeDate|./bpmn:timeDuration|./bpmn:timeCycle", namespaces=NS)
    source = (bodies[0].text or "").strip() if bodies else ""
    node = bodies[0] if bodies else timer
    if not source:
        return [doc.problem(owner, "timer has no expression", node, code="timer_empty")]
    if _ISO_8601.fullmatch(source):
        return [doc.problem(owner, 'timer expression must be a quoted ISO 8601 string, e.g. "PT1H"', node,
                            code="timer_unquoted", expression=source)]
    error = compile_check(source, "eval")
    return [doc.problem(owner, f"invalid timer expression: {error}", node, code="invalid_timer",
                        detail=error)] if error else []


def dmn_structure_problems(doc: ParsedDocument) -> list[Problem]:
    """One decision per file, and ids where SpiffWorkflow needs them (it raises KeyError otherwise)."""
    decisions = doc.root.findall("{*}decision")
    if len(decisions) != 1:
        return [Problem(doc.path, doc.root.sourceline, None,
                        f"a DMN file must hold one decision (found {len(decisions)})",
                        code="dmn_decision_count", params={"count": len(decisions)})]
    return [
        Problem(doc.path, node.sourceline, None, f"DMN element {etree.QName(node).localname} has no id",
                code="dmn_missing_id", params={"element": etree.QName(node).localname})
        for node in decisions[0].iter(tag=etree.Element)
        if etree.QName(node).localname in _DMN_NEEDS_ID and not node.get("id")
    ]


_DMN_NEEDS_ID = {"decision", "decisionTable", "input", "output", "rule", "inputEntry", "outputEntry"}


def check_dmn(doc: ParsedDocument, compile_check: CompileCheck) -> list[Problem]:
    """DMN structure; input expressions, output entries and simple input entries compile."""
    problems = dmn_structure_problems(doc)
    if problems:
        return problems
    decisions = doc.root.findall("{*}decision")
    for table in decisions[0].findall("{*}decisionTable"):
        inputs = [_cell_text(i.find("{*}inputExpression")) for i in table.findall("{*}input")]
        for expr_node, source in zip(table.findall("{*}input"), inputs, strict=True):
            if source and (error := compile_check(source, "eval")):
                problems.append(doc.problem(expr_node, f"invalid input expression: {error}",
                                            code="invalid_input_expression", detail=error))
        for rule in table.findall("{*}rule"):
            problems.extend(_rule_problems(doc, rule, inputs, compile_check))
    return problems


def _cell_text(node: Any) -> str | None:
    text = None if node is None else node.findtext("{*}text")
    text = (text or "").strip()
    return text if text and text != "-" else None


def _rule_problems(doc: ParsedDocument, rule: Any, inputs: list[str | None],
                   compile_check: CompileCheck) -> list[Problem]:
    problems = []
    for entry, input_source in zip(rule.findall("{*}inputEntry"), inputs, strict=False):
        source = _cell_text(entry)
        if source and input_source and (error := compile_check(_dmn_test(input_source, source), "eval")):
            problems.append(doc.problem(entry, f"invalid input entry {source!r}: {error}",
                                        code="invalid_input_entry", entry=source, detail=error))
    for entry in rule.findall("{*}outputEntry"):
        source = _cell_text(entry)
        if source and (error := compile_check(source, "eval")):
            problems.append(doc.problem(entry, f"invalid output entry: {error}", code="invalid_output_entry",
                                        detail=error))
    return problems


def _dmn_test(input_source: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMNEngine evaluates for an input entry (see ``evaluate``)."""
    replaced = _DMN_PLACEHOLDER.sub("dmninputexpr", entry)
    if "dmninputexpr" in replaced:
        return replaced
    try:
        ast.parse(entry)
    except SyntaxError:
        # `> 5`, `in ("a", "b")`: the engine appends the entry to the input expression.
        return input_source + entry
    return f"({input_source}) == ({entry})"
