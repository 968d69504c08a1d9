"""Files made by other tools, opened through the modeller as an analyst would: upload, then validate.

Each BPMN file of ../shared/interop either opens in the editor and validates, or is named unreadable,
or its problems list names what our engine cannot run (the same verdicts the engine's own corpus test
expects, here through the page's endpoints, with the app's roles in force).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.test_interop import INTEROP, REFUSED, corpus

pytestmark = pytest.mark.skipif(not INTEROP.is_dir(), reason=f"interop corpus not found at {INTEROP}")

BPMN_FILES = [name for name in corpus() if name.endswith((".bpmn", ".xml"))]
DMN_FILES = [name for name in corpus() if name.endswith(".dmn")]


def opened(as_user: Any, name: str) -> tuple[Any, dict[str, Any]]:
    analyst = as_user("analista")
    upload = analyst.upload((INTEROP / name).read_bytes(), filename=(INTEROP / name).name)
    assert upload.status_code == 200, upload.get_json()
    check = analyst.post_xml("validate", upload.get_json()["xml"])
    assert check.status_code == 200
    return analyst, check.get_json()


@pytest.mark.parametrize("name", [name for name in BPMN_FILES if name in REFUSED])
def test_a_refused_file_opens_with_every_unsupported_construct_named(as_user: Any, name: str) -> None:
    _, check = opened(as_user, name)
    assert check["valid"] is False
    listed = [(p["element_id"], p["message"]) for p in check["problems"]]
    for element_id, fragment in REFUSED[name]:
        assert any((element_id is None or found_id == element_id) and fragment in message
                   for found_id, message in listed), (element_id, fragment, listed)


@pytest.mark.parametrize("name", [name for name in BPMN_FILES if name not in REFUSED])
def test_a_runnable_file_opens_and_only_asks_for_our_roles_and_its_forms(as_user: Any, name: str) -> None:
    # Made without our role table, its forms and decisions in files of their own: what remains to fix is
    # routing its tasks to our roles and adding the forms and decisions it names, nothing else.
    _, check = opened(as_user, name)
    assert check["problems"]
    assert all("lane" in p["message"] or "role" in p["message"] or "form file" in p["message"]
               or "not found in the DMN files" in p["message"] for p in check["problems"]), check["problems"]


@pytest.mark.parametrize("name", DMN_FILES)
def test_a_decision_table_is_not_opened_as_a_diagram(as_user: Any, name: str) -> None:
    response = as_user("analista").upload((INTEROP / name).read_bytes(), filename=(INTEROP / name).name)
    assert response.status_code == 422
    assert "DMN" in response.get_json()["error"]["details"]["problems"][-1]["message"]
