import json
import shutil
import time
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from engine.errors import ModelValidationError, Problem
from engine.specs import (
    ModelFile,
    parse_model,
    read_models,
    resolve_lane_role,
    safe_xml_parser,
    validate,
)

MODELS = Path(__file__).parent / "models"
GOOD = MODELS / "good"
BAD = MODELS / "bad"
FORMS = MODELS / "forms"
INTEROP = Path("/work/shared/interop")
ROLES = {"coordinatore": "Coordinatore di progetto", "operatore": "Operatore sociale"}


def line_of(path: Path, needle: str) -> int:
    """1-based number of the first line of ``path`` containing ``needle``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def problems_of(name: str, roles=ROLES) -> list[str]:
    return [str(p) for p in validate([BAD / name], FORMS, roles)]


def prefix(name: str, needle: str, element_id: str) -> str:
    path = BAD / name
    return f"{path}:{line_of(path, needle)}: {element_id}: "


# --- the good bundle -------------------------------------------------------------------------------


def test_good_bundle_passes():
    assert validate([GOOD / "intake_register.bpmn", GOOD / "eligibility.dmn"], FORMS, ROLES) == []


def test_read_models_builds_model_file():
    (model,) = read_models([GOOD], FORMS, roles=ROLES)

    assert isinstance(model, ModelFile)
    assert model.process_id == "intake_register"
    assert model.name == "Registrazione della domanda"
    assert model.source_file == str(GOOD / "intake_register.bpmn")
    assert model.bpmn_xml == (GOOD / "intake_register.bpmn").read_text(encoding="utf-8")
    assert model.dmn_files == {"eligibility.dmn": (GOOD / "eligibility.dmn").read_text(encoding="utf-8")}
    assert set(model.forms) == {"intake_register.schema.json", "intake_register.uischema.json"}
    assert model.forms["intake_register.schema.json"]["required"] == ["members", "income"]
    assert model.forms["intake_register.uischema.json"]["ui:order"] == ["members", "income"]
    assert model.start_messages == ["intake_requested"]
    assert len(model.content_hash) == 64
    assert int(model.content_hash, 16) >= 0


def test_content_hash_is_stable_and_follows_forms(tmp_path):
    shutil.copytree(GOOD, tmp_path / "processes")
    shutil.copytree(FORMS, tmp_path / "forms")
    (first,) = read_models([tmp_path / "processes"], tmp_path / "forms")
    (again,) = read_models([tmp_path / "processes"], tmp_path / "forms")
    assert first.content_hash == again.content_hash

    ui = tmp_path / "forms" / "intake_register.uischema.json"
    ui.write_text(json.dumps({"ui:order": ["income", "members"]}), encoding="utf-8")
    (changed,) = read_models([tmp_path / "processes"], tmp_path / "forms")
    assert changed.content_hash != first.content_hash
    assert changed.bpmn_xml == first.bpmn_xml


def test_parse_model_gives_a_runnable_spec():
    (model,) = read_models([GOOD], FORMS)
    spec, subprocess_specs = parse_model(model.bpmn_xml, model.dmn_files, model.process_id)

    assert subprocess_specs == {}
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.do_engine_steps()
    workflow.send_event(BpmnEvent(MessageEventDefinition("intake_requested"), payload={}))
    workflow.do_engine_steps()
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert (task.task_spec.bpmn_id, task.task_spec.lane) == ("register", "Coordinatore di progetto")
    task.data.update(members=[{"name": "Ada", "age": 40}], income=5000)
    task.run()
    workflow.do_engine_steps()
    (task,) = workflow.get_tasks(state=TaskState.READY, manual=True)
    assert task.task_spec.bpmn_id == "call_household"
    assert task.data["eligible"] is True  # the DMN ran: 0 <= 5000 < 9000


def test_parse_model_accepts_an_encoding_declaration():
    # lxml refuses a str that declares an encoding; parse_model must cope with stored text.
    (model,) = read_models([GOOD], FORMS)
    assert model.bpmn_xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    spec, _ = parse_model(model.bpmn_xml, model.dmn_files, model.process_id)
    assert "register" in spec.task_specs


def test_directory_path_reads_every_model_file(tmp_path):
    shutil.copytree(GOOD, tmp_path / "processes")
    (tmp_path / "processes" / "notes.txt").write_text("not a model", encoding="utf-8")
    assert validate([tmp_path / "processes"], FORMS, ROLES) == []

    (tmp_path / "empty").mkdir()
    (problem,) = validate([tmp_path / "empty"], FORMS, ROLES)
    assert problem.message == "directory holds no .bpmn or .dmn files"


# --- XML safety ------------------------------------------------------------------------------------


def test_safe_xml_parser_settings():
    parser = safe_xml_parser()
    root = etree.fromstring(b"<a><!-- kept --><b/></a>", parser)
    assert len(root) == 2  # comments are kept
    assert safe_xml_parser() is not parser  # one parser per use: lxml parsers are not thread-safe


def test_malformed_xml_reports_line():
    (problem,) = validate([BAD / "malformed.bpmn"], FORMS, ROLES)
    assert str(problem).startswith(f"{BAD / 'malformed.bpmn'}:6: -: Opening and ending tag mismatch")
    assert problem.line == line_of(BAD / "malformed.bpmn", "</bpmn:endEvent>")


def test_entity_bomb_is_refused_quickly():
    started = time.perf_counter()
    (problem,) = validate([BAD / "entity_bomb.bpmn"], FORMS, ROLES)
    assert time.perf_counter() - started < 1
    assert str(problem) == f"{BAD / 'entity_bomb.bpmn'}:3: -: entity declarations are not allowed"


def test_entity_bomb_in_utf16_is_stopped_by_lxml(tmp_path):
    # Our byte scan for <!ENTITY misses UTF-16; lxml's amplification limit must still stop it.
    text = (BAD / "entity_bomb.bpmn").read_text(encoding="utf-8").replace('"UTF-8"', '"UTF-16"')
    path = tmp_path / "entity_bomb.bpmn"
    path.write_bytes(text.encode("utf-16"))
    started = time.perf_counter()
    (problem,) = validate([path], FORMS, ROLES)
    assert time.perf_counter() - started < 1
    assert problem.message.startswith("entity declarations are not allowed")


def test_external_entity_is_refused_and_never_read(tmp_path):
    (problem,) = validate([BAD / "xxe.bpmn"], FORMS, ROLES)
    assert str(problem) == f"{BAD / 'xxe.bpmn'}:3: -: entity declarations are not allowed"

    with pytest.raises(ModelValidationError) as excinfo:
        read_models([BAD / "xxe.bpmn"], FORMS)
    assert "root:" not in repr(excinfo.value.problems) + str(excinfo.value.details)

    # Also when the byte scan cannot see the declaration (UTF-16): the DTD check refuses it.
    text = (BAD / "xxe.bpmn").read_text(encoding="utf-8").replace('"UTF-8"', '"UTF-16"')
    path = tmp_path / "xxe.bpmn"
    path.write_bytes(text.encode("utf-16"))
    (problem,) = validate([path], FORMS, ROLES)
    assert problem.message == "entity declarations are not allowed"


def test_missing_file_and_non_model_file(tmp_path):
    missing = tmp_path / "nope.bpmn"
    other = tmp_path / "other.bpmn"
    other.write_text('<?xml version="1.0"?>\n<html><body/></html>', encoding="utf-8")
    problems = [str(p) for p in validate([missing, other], FORMS, ROLES)]
    assert f"{missing}:0: -: file not found" in problems
    assert f"{other}:2: -: not a BPMN or DMN document (root element html)" in problems


# --- BPMN structure --------------------------------------------------------------------------------


def test_unknown_bpmn_element_fails_xsd_with_line():
    assert problems_of("unknown_element.bpmn") == [
        prefix("unknown_element.bpmn", "<bpmn:fooTask", "Foo_1")
        + "Element 'bpmn:fooTask': This element is not expected.",
    ]


def test_connected_complex_gateway_is_unsupported():
    assert problems_of("complex_gateway.bpmn") == [
        prefix("complex_gateway.bpmn", "<bpmn:complexGateway", "Gateway_complex")
        + "There is no support implemented for this task type.",
    ]


def test_file_name_must_match_the_single_process(tmp_path):
    path = tmp_path / "renamed.bpmn"
    shutil.copy(GOOD / "intake_register.bpmn", path)
    problems = [str(p) for p in validate([path, GOOD / "eligibility.dmn"], FORMS, ROLES)]
    assert problems == [f"{path}:6: intake_register: file name should be intake_register.bpmn"]


# --- forms -----------------------------------------------------------------------------------------


def test_missing_forms():
    name = "missing_form.bpmn"
    assert problems_of(name, roles={}) == [
        prefix(name, 'id="Task_missing_file"', "Task_missing_file")
        + f"form file missing.schema.json not found in {FORMS}",
        prefix(name, 'id="Task_missing_file"', "Task_missing_file")
        + f"form file missing.uischema.json not found in {FORMS}",
        prefix(name, 'id="Task_no_form"', "Task_no_form") + "user task has no form (formJsonSchemaFilename)",
        # A model must not make the validator read files outside the forms directory.
        prefix(name, 'id="Task_outside"', "Task_outside")
        + "form file name '../good/intake_register.bpmn' must be a plain file name",
    ]


def test_invalid_json_schema():
    assert problems_of("invalid_schema.bpmn", roles={}) == [
        prefix("invalid_schema.bpmn", 'id="Task_bad_schema"', "Task_bad_schema")
        + "form bad_type.schema.json is not a valid JSON Schema: "
        + "5 is not valid under any of the given schemas",
    ]


def test_form_that_is_not_json(tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "bad_type.schema.json").write_text("{not json", encoding="utf-8")
    (problem,) = validate([BAD / "invalid_schema.bpmn"], forms, {})
    assert problem.element_id == "Task_bad_schema"
    assert problem.message.startswith("form file bad_type.schema.json is not valid JSON: Expecting property")


# --- lanes and roles -------------------------------------------------------------------------------


def test_lane_without_role_and_task_outside_lanes():
    name = "unknown_lane.bpmn"
    assert problems_of(name) == [
        prefix(name, 'id="Lane_gardener"', "Lane_gardener")
        + "lane 'Giardiniere' does not match any role (coordinatore, operatore)",
        prefix(name, 'id="Task_no_lane"', "Task_no_lane") + "task is not in any lane, so no role would receive it",
    ]


def test_lane_roles_are_skipped_without_roles():
    problems = problems_of("unknown_lane.bpmn", roles={})
    expected = (prefix("unknown_lane.bpmn", 'id="Task_no_lane"', "Task_no_lane")
                + "task is not in any lane, so no role would receive it")
    assert problems == [expected]


@pytest.mark.parametrize(
    ("lane", "expected"),
    [
        ("coordinatore", "coordinatore"),
        ("  Coordinatore  ", "coordinatore"),
        ("COORDINATORE DI PROGETTO", "coordinatore"),
        ("Coordinatore   di\tprogetto", "coordinatore"),
        ("Case worker", "case_worker"),
        ("case_worker", "case_worker"),
        ("Giardiniere", None),
        ("", None),
        (None, None),
    ],
)
def test_resolve_lane_role(lane, expected):
    roles = {**ROLES, "case_worker": "Assistente sociale"}
    assert resolve_lane_role(lane, roles) == expected


# --- expressions -----------------------------------------------------------------------------------


def test_bad_condition_expression():
    (problem,) = problems_of("bad_condition.bpmn")
    assert problem.startswith(prefix("bad_condition.bpmn", "<bpmn:conditionExpression>", "flow_yes")
                              + "invalid condition: SyntaxError: invalid syntax")


def test_dangerous_condition_is_refused():
    (problem,) = problems_of("dangerous_condition.bpmn")
    assert problem.startswith(prefix("dangerous_condition.bpmn", "<bpmn:conditionExpression>", "flow_escape")
                              + "invalid condition: ")
    assert "__class__" in problem


def test_unquoted_timer():
    assert problems_of("unquoted_timer.bpmn") == [
        prefix("unquoted_timer.bpmn", "<bpmn:timeDuration>PT1H", "Timer_wait")
        + 'timer expression must be a quoted ISO 8601 string, e.g. "PT1H"',
    ]


def test_empty_timers():
    name = "empty_timer.bpmn"
    assert problems_of(name) == [
        prefix(name, 'id="TimerEventDefinition_empty"', "Timer_empty") + "timer has no expression",
        prefix(name, "<bpmn:timeDuration>", "Timer_blank") + "timer has no expression",
    ]


def test_dmn_expressions():
    path = BAD / "broken_rules.dmn"

    def at(element_id: str) -> str:
        line = line_of(path, 'id="' + element_id + '"')
        return f"{path}:{line}: {element_id}: "

    problems = [str(p) for p in validate([path], FORMS, ROLES)]
    assert len(problems) == 3
    assert problems[0].startswith(at("Input_bad") + "invalid input expression: SyntaxError")
    assert problems[1].startswith(at("Entry_1b") + "invalid input entry '> > 5': SyntaxError")
    assert problems[2].startswith(at("Output_1a") + "invalid output entry: SyntaxError")


# --- decisions -------------------------------------------------------------------------------------


def test_unknown_called_decision():
    assert problems_of("unknown_decision.bpmn") == [
        prefix("unknown_decision.bpmn", 'id="Rule_unknown"', "Rule_unknown")
        + "decision 'no_such_decision' not found in the DMN files given",
    ]


def test_called_decision_must_be_given():
    (problem,) = validate([GOOD / "intake_register.bpmn"], FORMS, ROLES)
    assert problem.element_id == "check_eligibility"
    assert problem.message == "decision 'eligibility' not found in the DMN files given"


# --- many problems at once -------------------------------------------------------------------------


def test_several_problems_in_one_file_reported_together():
    name = "several_problems.bpmn"
    problems = problems_of(name)
    assert problems == [
        prefix(name, '<bpmn:process id="several"', "several") + "file name should be several.bpmn",
        prefix(name, 'id="Task_no_form"', "Task_no_form") + "task is not in any lane, so no role would receive it",
        prefix(name, 'id="Task_no_form"', "Task_no_form") + "user task has no form (formJsonSchemaFilename)",
        prefix(name, "<spiffworkflow:preScript>", "Task_no_form")
        + "invalid pre-script: SyntaxError: invalid syntax (line 1)",
        prefix(name, "<bpmn:script>", "Script_bad") + "invalid script: SyntaxError: invalid syntax (line 1)",
        prefix(name, "<bpmn:timeDate>", "Timer_date")
        + 'timer expression must be a quoted ISO 8601 string, e.g. "PT1H"',
        prefix(name, "<spiffworkflow:parameter ", "Service_call")
        + "invalid parameter 'to': SyntaxError: unmatched ')' (line 1)",
    ]


def test_read_models_raises_with_every_problem_sorted():
    paths = [BAD / "unquoted_timer.bpmn", BAD / "several_problems.bpmn", BAD / "missing_form.bpmn"]
    with pytest.raises(ModelValidationError) as excinfo:
        read_models(paths, FORMS)
    problems = excinfo.value.problems
    assert all(isinstance(p, Problem) for p in problems)
    assert len(problems) == 1 + 6 + 4
    assert problems == sorted(problems, key=lambda p: (p.file, p.line or 0))
    assert excinfo.value.details["problems"][0]["file"] == str(BAD / "missing_form.bpmn")


def test_validation_is_fast():
    paths = [GOOD, *sorted(BAD.iterdir())]
    validate(paths, FORMS, ROLES)  # warm the XSD cache
    started = time.perf_counter()
    validate(paths, FORMS, ROLES)
    assert time.perf_counter() - started < 1


# --- real exports from other tools -----------------------------------------------------------------


@pytest.mark.skipif(not INTEROP.is_dir(), reason="interop corpus not present")
def test_interop_files_give_problems_not_exceptions():
    files = sorted(p for p in INTEROP.rglob("*") if p.is_file() and p.suffix != ".md")
    assert files
    for path in files:
        problems = validate([path], path.parent, ROLES)
        assert all(isinstance(p, Problem) and "\n" not in p.message for p in problems), path
        assert all("Traceback" not in p.message for p in problems), path
    for folder in sorted({p.parent for p in files}):
        assert isinstance(validate([folder], folder, ROLES), list)


@pytest.mark.skipif(not INTEROP.is_dir(), reason="interop corpus not present")
def test_interop_spiff_arena_model_with_its_dmn():
    folder = INTEROP / "spiff-arena" / "user-guide-basics"
    problems = validate([folder], folder, {})
    # Only our naming convention is broken; SpiffWorkflow loads it with its decision.
    assert [p.message for p in problems] == ["file name should be Proccess_rlm9uj3.bpmn"]


def test_event_subprocess_is_refused_with_the_alternative():
    name = "event_subprocess.bpmn"
    problems = problems_of(name, roles={})
    assert prefix(name, 'id="Sub_on_message"', "Sub_on_message") + (
        "event sub-processes are not supported by this engine: use boundary events") in problems


def test_due_in_must_be_an_iso_duration(tmp_path):
    source = (Path(__file__).parent / "bpmn" / "approval.bpmn").read_text(encoding="utf-8")
    (tmp_path / "approval.bpmn").write_text(source.replace('value="P2D"', 'value="2 giorni"'), encoding="utf-8")
    problems = validate([tmp_path / "approval.bpmn"], Path(__file__).parent / "bpmn" / "forms", {})
    assert [p.message for p in problems] == ["dueIn '2 giorni' is not an ISO 8601 duration such as P5D or PT48H"]
    assert problems[0].element_id == "fill"
