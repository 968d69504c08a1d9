"""The timer worker loop behind ``pis2 worker``."""

from __future__ import annotations

import signal
import time
from typing import Any

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from engine import EngineError
from engine.timers import fire_due_timers
from webapp.extensions import db


def run_worker(app: Flask, *, once: bool = False) -> int:
    """Fire due timers until stopped (or once); each firing commits on its own."""
    engine = app.extensions["engine"]
    stopping = False

    def _stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    total = 0
    while True:
        try:
            total += fire_due_timers(engine, db.session, commit=True)
        except EngineError as exc:
            # Another worker or a user changed the instance first: it is retried on the next pass.
            db.session.rollback()
            app.logger.warning("timer skipped: %s", exc.message)
        except SQLAlchemyError:
            # The database was unreachable or locked: keep the worker alive and try again.
            db.session.rollback()
            app.logger.exception("timer pass failed")
        if once or stopping:
            break
        time.sleep(app.config["WORKER_INTERVAL"])
    db.session.remove()
    return total
