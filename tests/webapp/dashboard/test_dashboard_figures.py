"""Process figures with known answers: where instances wait, how long tasks take, what is overdue."""

from __future__ import annotations

import re
from datetime import timedelta

from engine import dashboard
from engine.models import MessageSubscription, Timer
from tests.webapp.dashboard.conftest import ZENO
from tests.webapp.staff.conftest import NOW
from webapp.extensions import db

REFERRAL = {"household_name": "Rossi"}


def _table_counts(page: str, table: str) -> dict[str, str]:
    bodies = [part.split("</table>", 1)[0] for part in page.split(f'<table class="{table}"')[1:]]
    return dict(re.findall(r'data-element="([^"]+)">.*?<td class="count">(\d+)</td>', "".join(bodies)))


def test_instances_waiting_per_element_own_organisation_only(staff_app, start, complete, as_user) -> None:
    casework = [start("casework") for _ in range(3)]
    intake = [start("intake") for _ in range(2)]
    complete(intake[0], REFERRAL)  # that one ended: it waits nowhere
    start("casework", actor=ZENO)  # another organisation's
    with staff_app.app_context():
        # Timers and message subscriptions do not come from these small models: add waits by hand.
        db.session.add_all([Timer(instance_id=casework[0], task_id="t-1", task_spec_id="reminder", due_at=NOW),
                            Timer(instance_id=casework[1], task_id="t-2", task_spec_id="reminder", due_at=NOW),
                            MessageSubscription(instance_id=casework[2], task_id="m-1", message_name="esito")])
        db.session.commit()
        waiting = {(row.process_id, row.element_id, row.kind): row.instances
                   for row in dashboard.waiting_by_element(db.session, "capofila")}
        everybody = dashboard.waiting_by_element(db.session, None)
    assert waiting == {("casework", "register", "task"): 3, ("casework", "reminder", "timer"): 2,
                       ("casework", "esito", "message"): 1, ("intake", "register_referral", "task"): 1}
    assert {(row.process_id, row.element_id): row.instances for row in everybody}[("casework", "register")] == 4

    page = as_user("coordinatore").get("/dashboard").get_data(as_text=True)
    assert "Dove attendono le istanze" in page
    assert _table_counts(page, "waiting") == {"register": "3", "reminder": "2", "esito": "1",
                                              "register_referral": "1"}


def test_median_and_p90_time_per_task_with_an_injected_clock(staff_app, start, complete, staff_clock,
                                                              as_user) -> None:
    started = [start("intake") for _ in range(4)]
    for instance_id, hours in zip(started, (1, 2, 3, 10), strict=True):
        staff_clock.moment = NOW + timedelta(hours=hours)
        complete(instance_id, REFERRAL)
    staff_clock.moment = NOW
    other = start("intake", actor=ZENO)
    staff_clock.advance(hours=100)
    complete(other, REFERRAL, actor=ZENO)  # another organisation's: not counted
    with staff_app.app_context():
        rows = dashboard.task_durations(db.session, "capofila")
        later = dashboard.task_durations(db.session, "capofila", completed_from=NOW + timedelta(hours=5))
    assert [(row.task_spec_id, row.completed, row.median_seconds, row.p90_seconds) for row in rows] == [
        ("register_referral", 4, 2.5 * 3600, 10 * 3600)]
    assert [(row.completed, row.median_seconds) for row in later] == [(1, 10 * 3600)]

    page = as_user("coordinatore").get("/dashboard?from=2026-03-01&to=2026-03-31").get_data(as_text=True)
    body = page.split('<table class="durations"', 1)[1]
    assert '<td class="median">2,5 h</td>' in body
    assert '<td class="p90">10,0 h</td>' in body


def test_percentile_is_nearest_rank() -> None:
    assert dashboard.percentile([5.0], 0.9) == 5.0
    assert dashboard.percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert dashboard.percentile([float(n) for n in range(1, 12)], 0.9) == 10.0


def test_overdue_tasks_per_role_and_per_organisation_for_admins(staff_app, start, staff_clock, as_user) -> None:
    for _ in range(2):
        start("casework")  # "register" is due a day after it starts
    start("casework", actor=ZENO)
    staff_clock.advance(days=2)
    start("casework")  # started now: not yet late
    with staff_app.app_context():
        now = staff_app.extensions["engine"].clock_now()
        own = dashboard.overdue_by_role(db.session, "capofila", now)
        every = dashboard.overdue_by_role(db.session, None, now, per_organisation=True)
    assert [(row.role, row.tasks) for row in own] == [("coordinatore", 2)]
    assert [(row.organisation, row.role, row.tasks) for row in every] == [
        ("capofila", "coordinatore", 2), ("altro", "coordinatore", 1)]

    coordinator = as_user("coordinatore").get("/dashboard").get_data(as_text=True)
    assert re.search(r'<table class="overdue">.*?Coordinatore di progetto</th><td class="count">2</td>',
                     coordinator, re.S)
    admin = as_user("admin").get("/dashboard").get_data(as_text=True).split('<table class="overdue">', 1)[1]
    assert re.search(r"<td>altro</td><th scope=\"row\">Coordinatore di progetto</th><td class=\"count\">1</td>", admin)
