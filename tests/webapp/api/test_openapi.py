"""The OpenAPI document (valid, complete), the browsable docs, the process list, and the one error envelope."""

from __future__ import annotations

import re

import pytest
from jsonschema import Draft202012Validator
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.webapp.api.conftest import assert_error

DOC_ROUTES = {"/api/v1/openapi.json", "/api/v1/docs"}


def test_openapi_document_is_valid_openapi_3_1(client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "PIS 2 API"
    errors = sorted(Draft202012Validator(OPENAPI_31).iter_errors(document), key=str)
    assert errors == [], [e.message for e in errors[:5]]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["security"] == [{"bearerAuth": []}]


def test_openapi_document_lists_every_api_route_with_its_errors(app, client) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1") and rule.rule not in DOC_ROUTES:
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert routes == documented
    assert len(routes) == 22  # tasks 7, instances 3, households 3, processes 1, tracking 7, migrations 1
    for path, method in documented:
        responses = document["paths"][path][method]["responses"]
        assert "401" in responses, (path, method)
        if "{" in path:
            assert "404" in responses, (path, method)
    envelope = document["components"]["schemas"]["Error"]
    assert envelope["properties"]["error"]["$ref"].endswith("/ErrorBody")


def test_browsable_docs_are_served_locally_without_inline_script(client) -> None:
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts
    assert all('src="/static/' in attrs and not body.strip() for attrs, body in scripts)
    assert "/static/dist/swagger-ui/swagger-ui.css" in page
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    with client.get("/static/api-docs.js") as script:
        assert script.status_code == 200
        assert "SwaggerUIBundle" in script.get_data(as_text=True)


def test_process_models_are_listed_with_who_may_start_them(api) -> None:
    def listed(username: str) -> dict[str, bool]:
        body = api.get("/api/v1/processes", as_=username).get_json()
        return {item["process_id"]: item["may_start"] for item in body["items"]}

    assert listed("coordinatore") == {"api_announced": False, "api_flow": True, "api_visit": False}
    assert listed("case_manager") == {"api_announced": False, "api_flow": False, "api_visit": True}
    assert set(listed("analista").values()) == {False}
    (flow,) = [i for i in api.get("/api/v1/processes", as_="analista").get_json()["items"]
               if i["process_id"] == "api_flow"]
    assert flow["name"] == "Richiesta di prova"
    assert [v["id"] for v in flow["versions"]] == [flow["latest_version_id"]]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/v1/nothing-here", 404), ("DELETE", "/api/v1/tasks", 405), ("PUT", "/api/v1/processes", 405)])
def test_unknown_routes_and_methods_use_the_envelope(api, method, path, status) -> None:
    response = api.call(method, path, as_="coordinatore")
    assert_error(response, status)
    if status == 405:
        assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "/api/v1/households?search=a%00b", None), ("GET", "/api/v1/tasks/abc%00", None),
    ("POST", "/api/v1/instances", {"process_id": "api_flow", "data": {"note": "a\u0000b"}}),
    ("POST", "/api/v1/instances", {"process_id": "api_flow", "business_key": "\u0000"})])
def test_nul_characters_are_refused_before_any_database_sees_them(api, method, path, body) -> None:
    # PostgreSQL refuses NUL in text: without this check each of these would be a 500 on that lane.
    assert_error(api.call(method, path, as_="coordinatore", json=body), 400, "bad_request")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_moments_at_the_edge_of_the_calendar_are_422_not_an_overflow(api, moment) -> None:
    error = assert_error(api.get("/api/v1/tasks", as_="coordinatore", query_string={"due_before": moment}), 422)
    assert list(error["details"]["fields"]) == ["due_before"]
