"""Comparing two versions of a model, and migrating running instances from the modeller list and from an
instance's tracking page: pages, dry runs, confirmation, organisations and roles."""

from __future__ import annotations

from typing import Any, NamedTuple

from flask import Flask
from sqlalchemy import select

from engine.models import AuditEvent, HumanTask, ProcessInstance
from engine.specs import ModelFile, read_models
from tests.webapp.modeller.conftest import latest_version
from tests.webapp.staff.conftest import MODELS, login, start_case, token_of
from webapp.extensions import db

# v2 adds a step after the one the instances wait at: they can move. v3 renames that step: they cannot.
ADDED_STEP = ('<bpmn:sequenceFlow id="f2" sourceRef="register_referral" targetRef="end"/>',
              '<bpmn:sequenceFlow id="f2" sourceRef="register_referral" targetRef="check"/>'
              '<bpmn:task id="check" name="Controlla"><bpmn:incoming>f2</bpmn:incoming>'
              '<bpmn:outgoing>f3</bpmn:outgoing></bpmn:task>'
              '<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end"/>')
RENAMED_STEP = ("register_referral", "register_referral_new")


class Deployed(NamedTuple):
    id: int
    number: int


def deploy_intake(app: Flask, *edits: tuple[str, str]) -> Deployed:
    """The intake model with text replacements, deployed as its next version."""
    with app.app_context():
        v1 = next(m for m in read_models([MODELS], MODELS / "forms") if m.process_id == "intake")
        xml = v1.bpmn_xml
        for old, new in edits:
            assert old in xml
            xml = xml.replace(old, new)
        [version] = app.extensions["engine"].deploy(db.session, [ModelFile(
            process_id="intake", name=v1.name, source_file=v1.source_file, bpmn_xml=xml, forms=v1.forms)],
            actor="tester")
        deployed = Deployed(version.id, version.number)
        db.session.commit()
        return deployed


def instance_of(app: Flask, task_id: str) -> int:
    with app.app_context():
        return db.session.get(HumanTask, task_id).instance_id


def version_of(app: Flask, instance_id: int) -> int:
    with app.app_context():
        return db.session.get(ProcessInstance, instance_id).process_version_id


def migrated_events(app: Flask) -> list[tuple[int | None, str | None, dict[str, Any]]]:
    with app.app_context():
        return [(e.instance_id, e.actor, e.details) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "instance_migrated").order_by(AuditEvent.id))]


def logged_in(app: Flask, username: str) -> Any:
    client = app.test_client()
    login(client, username)
    return client


def row_of(page: str, attribute: str, value: int) -> str:
    return page.split(f'{attribute}="{value}"', 1)[1].split("</tr>", 1)[0]


# --- compare -----------------------------------------------------------------------------------------


def test_compare_page_puts_the_older_version_first_and_loads_the_differ(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    v2 = deploy_intake(staff_app, ADDED_STEP)
    client = as_user("analista").client
    response = client.get(f"/modeller/compare?base={v2.id}&other={v1}")  # swapped: still old above
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-old-url="/modeller/versions/{v1}/bpmn"' in page
    assert f'data-new-url="/modeller/versions/{v2.id}/bpmn"' in page
    assert "v1 → v2" in page
    assert "dist/bpmn/compare.js" in page
    assert 'data-msg-added="Aggiunto"' in page
    assert "<script>" not in page
    assert " style=" not in page


def test_compare_refuses_bad_missing_foreign_and_equal_versions(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    casework = latest_version(staff_app, "casework")
    client = as_user("analista").client
    missing = client.get(f"/modeller/compare?base={v1}")
    assert missing.status_code == 400
    assert "other" in missing.get_data(as_text=True)
    bad = client.get("/modeller/compare?base=uno&other=2")
    assert bad.status_code == 400
    assert "base" in bad.get_data(as_text=True)
    unknown = client.get(f"/modeller/compare?base={v1}&other=999999")
    assert unknown.status_code == 404
    assert "999999" in unknown.get_data(as_text=True)
    foreign = client.get(f"/modeller/compare?base={v1}&other={casework}")
    assert foreign.status_code == 400
    assert "processi diversi" in foreign.get_data(as_text=True)
    assert client.get(f"/modeller/compare?base={v1}&other={v1}").status_code == 400
    assert as_user("coordinatore").client.get(f"/modeller/compare?base={v1}&other={v1}").status_code == 403


def test_list_links_compare_and_migrate_where_they_apply(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    start_case(staff_app, "intake")
    v2 = deploy_intake(staff_app, ADDED_STEP)
    page = as_user("analista").client.get("/modeller/").get_data(as_text=True)
    newest, oldest = row_of(page, "data-version-id", v2.id), row_of(page, "data-version-id", v1)
    assert f"/modeller/compare?base={v1}&amp;other={v2.id}" in newest
    assert "Confronta con la precedente" not in oldest
    assert f"/modeller/versions/{v1}/migrate" in oldest
    assert "/migrate" not in newest
    form = page.split('id="compare-intake"', 1)[1].split("</form>", 1)[0]
    assert 'name="base"' in form
    assert 'name="other"' in form
    assert f'<option value="{v1}" selected>v1</option>' in form
    casework = row_of(page, "data-version-id", latest_version(staff_app, "casework"))
    assert "/migrate" not in casework  # the only version: nothing to migrate to


# --- migrating one version's instances ---------------------------------------------------------------


def test_dry_run_then_migrating_the_chosen_instances(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    first = instance_of(staff_app, start_case(staff_app, "intake", business_key="INVIO-A"))
    second = instance_of(staff_app, start_case(staff_app, "intake", business_key="INVIO-B"))
    elsewhere = instance_of(staff_app, start_case(staff_app, "intake", org="altro"))
    v2 = deploy_intake(staff_app, ADDED_STEP)
    client = as_user("analista").client
    page = client.get(f"/modeller/versions/{v1}/migrate").get_data(as_text=True)
    assert 'data-migratable="yes"' in row_of(page, "data-instance-id", first)
    assert f'name="instance" value="{second}" id="pick-{second}"\n             checked' in page
    assert f'data-instance-id="{elsewhere}"' not in page  # another organisation's: the analyst's scope
    assert f'name="target" value="{v2.id}"' in page

    token = token_of(page)
    unconfirmed = client.post(f"/modeller/versions/{v1}/migrate",
                              data={"csrf_token": token, "target": v2.id, "instance": [first]})
    assert unconfirmed.status_code == 422
    assert "conferma" in unconfirmed.get_data(as_text=True)
    stranger = client.post(f"/modeller/versions/{v1}/migrate",
                           data={"csrf_token": token, "target": v2.id, "instance": [elsewhere], "confirm": "yes"})
    assert stranger.status_code == 422
    assert str(elsewhere) in stranger.get_data(as_text=True)
    assert version_of(staff_app, first) == v1
    assert version_of(staff_app, elsewhere) == v1

    done = client.post(f"/modeller/versions/{v1}/migrate",
                       data={"csrf_token": token, "target": v2.id, "instance": [first], "confirm": "yes"})
    result = done.get_data(as_text=True)
    assert done.status_code == 200
    assert 'data-migrated="yes"' in row_of(result, "data-instance-id", first)
    assert f'data-instance-id="{second}"' not in result
    assert (version_of(staff_app, first), version_of(staff_app, second)) == (v2.id, v1)
    [(instance_id, actor, details)] = migrated_events(staff_app)
    assert (instance_id, actor, details["from_version"], details["to_version"]) == (first, "analista", v1, v2.id)


def test_a_newer_deploy_since_the_dry_run_is_a_conflict(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    instance = instance_of(staff_app, start_case(staff_app, "intake"))
    v2 = deploy_intake(staff_app, ADDED_STEP)
    client = as_user("admin").client
    token = token_of(client.get(f"/modeller/versions/{v1}/migrate").get_data(as_text=True))
    deploy_intake(staff_app, ADDED_STEP, ("Controlla", "Controlla bene"))
    stale = client.post(f"/modeller/versions/{v1}/migrate",
                        data={"csrf_token": token, "target": v2.id, "instance": [instance], "confirm": "yes"})
    assert stale.status_code == 409
    assert "v3" in stale.get_data(as_text=True)
    assert version_of(staff_app, instance) == v1


def test_what_cannot_migrate_says_why_and_is_refused(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    instance = instance_of(staff_app, start_case(staff_app, "intake"))
    v2 = deploy_intake(staff_app, RENAMED_STEP)
    client = as_user("admin").client
    page = client.get(f"/modeller/versions/{v1}/migrate").get_data(as_text=True)
    row = row_of(page, "data-instance-id", instance)
    assert 'data-migratable="no"' in row
    assert "L&#39;attività «register_referral» (UserTask) non esiste nella versione" in row
    assert 'name="instance"' not in row
    assert 'id="migrate-nothing"' in page
    forced = client.post(f"/modeller/versions/{v1}/migrate", data={
        "csrf_token": token_of(page), "target": v2.id, "instance": [instance], "confirm": "yes"})
    result = row_of(forced.get_data(as_text=True), "data-instance-id", instance)
    assert 'data-migrated="no"' in result
    assert "non esiste" in result
    assert version_of(staff_app, instance) == v1
    assert migrated_events(staff_app) == []


def test_the_latest_version_has_nothing_to_migrate_and_others_may_not(staff_app: Flask, as_user: Any) -> None:
    v1 = latest_version(staff_app)
    page = as_user("analista").client.get(f"/modeller/versions/{v1}/migrate").get_data(as_text=True)
    assert 'id="migrate-latest"' in page
    assert as_user("coordinatore").client.get(f"/modeller/versions/{v1}/migrate").status_code == 403
    assert as_user("analista").client.get("/modeller/versions/999999/migrate").status_code == 404


# --- migrating one instance from its tracking page -----------------------------------------------------


def test_instance_page_offers_the_check_to_those_who_may_migrate(staff_app: Flask) -> None:
    instance = instance_of(staff_app, start_case(staff_app, "intake"))
    admin = logged_in(staff_app, "admin")
    before = admin.get(f"/instances/{instance}").get_data(as_text=True)
    assert '<strong id="instance-version-number">v1</strong>' in before
    assert 'id="check-migration"' not in before  # no newer version yet
    deploy_intake(staff_app, ADDED_STEP)
    after = admin.get(f"/instances/{instance}").get_data(as_text=True)
    assert f'href="/instances/{instance}/migrate"' in after
    assert "Verifica la migrazione a v2" in after
    coordinator = logged_in(staff_app, "coordinatore").get(f"/instances/{instance}").get_data(as_text=True)
    assert "v1" in coordinator.split('id="version-title"', 1)[1]
    assert 'id="check-migration"' not in coordinator


def test_one_instance_migrates_after_its_dry_run(staff_app: Flask) -> None:
    v1 = latest_version(staff_app)
    instance = instance_of(staff_app, start_case(staff_app, "intake"))
    v2 = deploy_intake(staff_app, ADDED_STEP)
    admin = logged_in(staff_app, "admin")
    page = admin.get(f"/instances/{instance}/migrate").get_data(as_text=True)
    assert 'data-migratable="yes"' in page
    assert f"/modeller/compare?base={v1}&amp;other={v2.id}" in page
    token = token_of(page)
    expected = page.split('name="expected_version" value="', 1)[1].split('"', 1)[0]
    form = {"csrf_token": token, "target": v2.id, "expected_version": expected}
    assert admin.post(f"/instances/{instance}/migrate", data=form).status_code == 422
    outdated = admin.post(f"/instances/{instance}/migrate",
                          data={**form, "expected_version": int(expected) + 5, "confirm": "yes"})
    assert outdated.status_code == 409
    assert version_of(staff_app, instance) == v1
    done = admin.post(f"/instances/{instance}/migrate", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/instances/{instance}")
    assert version_of(staff_app, instance) == v2.id
    assert [(i, a) for i, a, _d in migrated_events(staff_app)] == [(instance, "admin")]
    shown = admin.get(f"/instances/{instance}").get_data(as_text=True)
    assert f"Istanza #{instance} migrata a v2." in shown
    assert 'id="check-migration"' not in shown
    assert 'id="migrate-latest"' in admin.get(f"/instances/{instance}/migrate").get_data(as_text=True)


def test_one_instance_refused_with_reasons_roles_and_organisations(staff_app: Flask) -> None:
    mine = instance_of(staff_app, start_case(staff_app, "intake"))
    theirs = instance_of(staff_app, start_case(staff_app, "intake", org="altro"))
    v2 = deploy_intake(staff_app, RENAMED_STEP)
    analyst = logged_in(staff_app, "analista")
    page = analyst.get(f"/instances/{mine}/migrate").get_data(as_text=True)
    assert 'data-migratable="no"' in page
    assert "«register_referral» (UserTask) non esiste nella versione" in page.split('id="migrate-reasons"', 1)[1]
    assert 'id="migrate-form"' not in page
    refused = analyst.post(f"/instances/{mine}/migrate", data={
        "csrf_token": token_of(page), "target": v2.id, "expected_version": 1, "confirm": "yes"})
    assert refused.status_code == 409
    assert analyst.get(f"/instances/{theirs}/migrate").status_code == 404
    assert logged_in(staff_app, "coordinatore").get(f"/instances/{mine}/migrate").status_code == 403
    assert logged_in(staff_app, "admin").get(f"/instances/{theirs}/migrate").status_code == 200
    assert migrated_events(staff_app) == []
    english = analyst.get(f"/instances/{mine}/migrate?lang=en").get_data(as_text=True)
    assert "Task &#39;register_referral&#39; (UserTask) does not exist in version" in english
