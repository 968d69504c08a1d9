"""Where instances wait, as the dashboard reads it: the element that waits for a timer or a message, by its name."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine import Engine, dashboard
from tests.engine.conftest import COORD


def test_timer_and_message_waits_name_the_waiting_element(deployed: Engine, session: Session) -> None:
    for household_id in (5, 6):
        deployed.start(session, "reply_or_timeout", {"household_id": household_id}, COORD)
    rows = {(row.element_id, row.kind): (row.name, row.instances)
            for row in dashboard.waiting_by_element(session, None) if row.process_id == "reply_or_timeout"}
    # Behind an event-based gateway the gateway itself waits for both events; its id is a shape on the
    # diagram, so the heat map can draw the message wait as well as the timer.
    assert rows == {("wait", "message"): ("Risposta o scadenza?", 2), ("wait", "timer"): ("Risposta o scadenza?", 2)}


def test_a_delivered_message_no_longer_counts_as_a_wait(deployed: Engine, session: Session) -> None:
    deployed.start(session, "reply_or_timeout", {"household_id": 5}, COORD)
    deployed.messages.send(session, "landlord_answer", {"household_id": 5}, {"household_id": 5})
    kinds = {row.kind for row in dashboard.waiting_by_element(session, None) if row.process_id == "reply_or_timeout"}
    assert kinds == {"task"}
