"""The modeller's answers name each problem in the analyst's language: ``text`` beside the English ``message``."""

from __future__ import annotations

from typing import Any

from tests.webapp.modeller.conftest import intake_xml

MISSING_FORM = intake_xml().replace("test_intake_register.schema.json", "missing.schema.json")
XXE = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
       '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">&secret;</bpmn:definitions>')


def missing_form(problems: list[dict[str, Any]]) -> dict[str, Any]:
    return next(p for p in problems if p["code"] == "form_file_missing")


def test_validate_says_each_problem_in_italian_and_in_english_when_chosen(as_user: Any) -> None:
    analyst = as_user("analista")
    problem = missing_form(analyst.post_xml("validate", MISSING_FORM).get_json()["problems"])
    assert problem["params"] == {"file": "missing.schema.json"}
    assert "form file missing.schema.json not found" in problem["message"]
    assert problem["text"] == "Il file del modulo missing.schema.json non esiste."
    analyst.client.get("/tasks?lang=en")
    english = missing_form(analyst.post_xml("validate", MISSING_FORM).get_json()["problems"])
    assert english["text"] == "Form file missing.schema.json not found."
    assert english["message"] == problem["message"]


def test_refused_deploy_and_upload_carry_the_text_too(as_user: Any) -> None:
    analyst = as_user("analista")
    refused = analyst.post_xml("deploy", MISSING_FORM)
    assert refused.status_code == 422
    problem = missing_form(refused.get_json()["error"]["details"]["problems"])
    assert problem["text"] == "Il file del modulo missing.schema.json non esiste."
    upload = analyst.upload(XXE.encode())
    assert upload.status_code == 422
    [unreadable] = upload.get_json()["error"]["details"]["problems"]
    assert (unreadable["code"], unreadable["text"]) == ("xml_entities", "Le dichiarazioni di entità non sono ammesse.")
