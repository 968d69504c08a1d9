"""Two versions of a process model side by side, and moving running instances onto the newest one.

On the modeller blueprint: the comparison page (the diff itself is computed in the browser by
bpmn-js-differ, see assets/js/compare.js) and the migration of one version's running instances. On the
tracking blueprint: the migration of one instance, offered from its page. Migrating follows the rules
of the JSON API (webapp/api/tracking.py): analysts and administrators only; administrators reach every
organisation's instances, analysts their own organisation's. The engine checks, migrates and audits
each instance (:mod:`engine.migration`); these views show its dry run, ask for confirmation and commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine import migration, tracking
from engine.errors import ConflictError, NotAllowedError, ProcessNotFoundError
from engine.models import ProcessInstance, ProcessVersion
from engine.runtime import Actor
from engine.store import latest_version
from webapp.accounts.auth import current_actor
from webapp.extensions import db
from webapp.i18n.problems import problem_text, reason_text
from webapp.tracking import STATUS_LABELS, may_track
from webapp.views.taskpage import get_engine

ID = "<int(max=2147483647):instance_id>"
MAX_ID = 2**31 - 1
# The same roles as the API's migration endpoints.
MIGRATING_ROLES = frozenset({"analista", "admin"})


def register(bp: Blueprint) -> None:
    """Add the comparison and bulk migration pages to the modeller blueprint (which checks the roles)."""
    bp.add_url_rule("/compare", view_func=compare_versions)
    bp.add_url_rule("/versions/<int:version_id>/migrate", view_func=migrate_version, methods=["GET", "POST"])
    # App-wide: the instance's own migration page (tracking blueprint) prints reasons too.
    bp.add_app_template_filter(reason_text, "reason_text")
    bp.add_app_template_filter(problem_text, "problem_text")


def register_tracking(bp: Blueprint) -> None:
    """Add one instance's migration page to the tracking blueprint, and what its instance page needs."""
    bp.add_url_rule(f"/instances/{ID}/migrate", view_func=migrate_one_instance, methods=["GET", "POST"])
    bp.add_app_template_global(version_offer, "version_offer")


# --- who may migrate ---------------------------------------------------------------------------------


def may_migrate(actor: Actor) -> bool:
    """Whether the actor's roles migrate instances at all."""
    return bool(MIGRATING_ROLES & actor.roles)


def _migrator() -> tuple[Actor, str | None]:
    """The caller and the organisation whose instances they may migrate (None: every one), or 403."""
    actor = current_actor()
    if not may_migrate(actor):
        raise NotAllowedError(_("Migrare le istanze è riservato ad analisti e amministratori."))
    if "admin" in actor.roles:
        return actor, None
    if not actor.organisation:
        raise NotAllowedError(_("Per migrare le istanze serve un ente."))
    return actor, actor.organisation


@dataclass(frozen=True)
class VersionOffer:
    """What an instance's page says about its version: the newer one, if any, and whether I may migrate."""

    current: ProcessVersion
    newer: ProcessVersion | None
    may_migrate: bool


def version_offer(instance: ProcessInstance) -> VersionOffer:
    """The instance's version, the newest of its process when that is newer, and my right to migrate it."""
    actor = current_actor()
    latest = latest_version(db.session, instance.process_id)
    newer = latest if latest.id > instance.process_version_id else None
    allowed = may_migrate(actor) and ("admin" in actor.roles or (
        actor.organisation is not None and instance.organisation == actor.organisation))
    return VersionOffer(current=instance.process_version, newer=newer, may_migrate=allowed)


# --- comparing two versions --------------------------------------------------------------------------


class CompareArgsSchema(Schema):
    """The comparison's query string: two version ids."""

    class Meta:
        unknown = EXCLUDE

    base = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=MAX_ID))
    other = fields.Integer(required=True, strict=False, validate=validate.Range(min=1, max=MAX_ID))


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


def _version(version_id: int) -> ProcessVersion:
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise ProcessNotFoundError(_("Versione %(id)d non trovata.", id=version_id))
    return version


def process_versions(process_id: str) -> list[ProcessVersion]:
    """Every version of a process, newest first."""
    return list(db.session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id)
                                   .order_by(ProcessVersion.number.desc())))


def compare_versions() -> tuple[str, int]:
    """GET ?base=&other=: two versions of one process, the older above, their differences marked."""
    try:
        args = CompareArgsSchema().load(request.args)
    except ValidationError as exc:
        names = ", ".join(sorted(str(name) for name in exc.messages))
        return _error_page(400, _("Parametri mancanti o non validi: %(names)s. Indica le due versioni da "
                                  "confrontare con i loro numeri identificativi (base e other).", names=names))
    base, other = _version(args["base"]), _version(args["other"])
    if base.process_id != other.process_id:
        return _error_page(400, _("Le versioni %(base)d e %(other)d sono di processi diversi (%(first)s, "
                                  "%(second)s): si confrontano solo versioni dello stesso processo.",
                                  base=base.id, other=other.id, first=base.process_id, second=other.process_id))
    if base.id == other.id:
        return _error_page(400, _("Scegli due versioni diverse da confrontare."))
    old, new = sorted((base, other), key=lambda version: version.number)
    return render_template("modeller/compare.html", old=old, new=new,
                           versions=process_versions(old.process_id)), 200


# --- migrating one version's instances ---------------------------------------------------------------


def _dry_runs(instances: list[ProcessInstance], target: ProcessVersion,
              actor: Actor) -> list[migration.MigrationReport]:
    engine = get_engine()
    return [migration.migrate_instance(engine, db.session, instance.id, actor, to_version=target.id, dry_run=True)
            for instance in instances]


def _posted_target(target: ProcessVersion) -> str | None:
    """Why the version the form was made for is not the latest any more (None when it still is)."""
    posted = request.form.get("target", "")
    if not posted.isdigit() or int(posted) != target.id:
        return _("Nel frattempo è stata pubblicata una versione più recente (v%(number)d): controlla di nuovo "
                 "quali istanze si possono migrare.", number=target.number)
    return None


def migrate_version(version_id: int) -> tuple[str, int]:
    """GET: which running instances of this version could move to the latest one, and why not the others.
    POST (confirmed): move the chosen ones, each on its own, and show what moved and what was refused."""
    actor, scope = _migrator()
    version = _version(version_id)
    target = latest_version(db.session, version.process_id)
    instances = list(migration.instances_to_migrate(db.session, version.process_id, from_version=version.id,
                                                    organisation=scope))
    if request.method == "POST" and target.id != version.id:
        return _migrate_chosen(actor, version, target, instances)
    reports = _dry_runs(instances, target, actor) if target.id != version.id else []
    return _migrate_page(version, target, instances, reports), 200


def _migrate_page(version: ProcessVersion, target: ProcessVersion, instances: list[ProcessInstance],
                  reports: list[migration.MigrationReport], *, error: str | None = None,
                  done: bool = False) -> str:
    by_id = {instance.id: instance for instance in instances}
    rows = [(by_id.get(report.instance_id), report) for report in reports]
    chosen = set(request.form.getlist("instance")) if error else None
    return render_template("modeller/migrate.html", version=version, target=target, rows=rows, error=error,
                           done=done, chosen=chosen, status_labels=STATUS_LABELS,
                           tracks=may_track(current_actor().roles))


def _migrate_chosen(actor: Actor, version: ProcessVersion, target: ProcessVersion,
                    instances: list[ProcessInstance]) -> tuple[str, int]:
    def refuse(status: int, message: str) -> tuple[str, int]:
        return _migrate_page(version, target, instances, _dry_runs(instances, target, actor), error=message), status

    stale = _posted_target(target)
    if stale:
        return refuse(409, stale)
    if request.form.get("confirm") != "yes":
        return refuse(422, _("Spunta la conferma per migrare le istanze scelte."))
    candidates = {str(instance.id): instance.id for instance in instances}
    picked = request.form.getlist("instance")
    unknown = [value for value in picked if value not in candidates]
    if unknown:
        return refuse(422, _("Istanze non migrabili da questa versione: %(ids)s. Ricarica la pagina.",
                             ids=", ".join(unknown)))
    if not picked:
        return refuse(422, _("Scegli almeno un'istanza da migrare."))
    engine = get_engine()
    reports = []
    for instance_id in sorted({candidates[value] for value in picked}):
        savepoint = db.session.begin_nested()  # one that fails leaves the others migrated
        try:
            report = migration.migrate_instance(engine, db.session, instance_id, actor, to_version=target.id)
            savepoint.commit()
        except ConflictError as exc:
            savepoint.rollback()
            report = migration.MigrationReport(instance_id, version.process_id, version.id, target.id,
                                               details=[migration.conflict_reason(exc)])
        reports.append(report)
    db.session.commit()
    return _migrate_page(version, target, instances, reports, done=True), 200


# --- migrating one instance, from its tracking page ----------------------------------------------------


@login_required
def migrate_one_instance(instance_id: int) -> Response | tuple[str, int]:
    """GET: the dry run of moving this instance to its process's latest version. POST: move it."""
    actor, scope = _migrator()
    instance = tracking.visible_instance(db.session, instance_id, scope)
    target = latest_version(db.session, instance.process_id)
    if target.id <= instance.process_version_id:
        return _instance_page(instance, target, None), 200
    if request.method == "GET":
        report = migration.migrate_instance(get_engine(), db.session, instance.id, actor, to_version=target.id,
                                            dry_run=True)
        return _instance_page(instance, target, report), 200
    return _migrate_instance(actor, instance, target)


def _instance_page(instance: ProcessInstance, target: ProcessVersion, report: migration.MigrationReport | None,
                   *, error: str | None = None) -> str:
    return render_template("tracking/migrate.html", instance=instance, target=target, report=report, error=error,
                           status_labels=STATUS_LABELS, tracks=may_track(current_actor().roles))


def _migrate_instance(actor: Actor, instance: ProcessInstance, target: ProcessVersion) -> Response | tuple[str, int]:
    engine = get_engine()

    def refuse(status: int, message: str) -> tuple[str, int]:
        db.session.rollback()
        fresh = tracking.visible_instance(db.session, instance.id, None)
        report = migration.migrate_instance(engine, db.session, fresh.id, actor, to_version=target.id, dry_run=True)
        return _instance_page(fresh, target, report, error=message), status

    stale = _posted_target(target)
    if stale:
        return refuse(409, stale)
    if request.form.get("confirm") != "yes":
        return refuse(422, _("Spunta la conferma per migrare l'istanza."))
    expected = request.form.get("expected_version", "")
    if not expected.isdigit():
        return refuse(400, _("Manca il campo expected_version: ricarica la pagina e riprova."))
    try:
        report = migration.migrate_instance(engine, db.session, instance.id, actor, to_version=target.id,
                                            expected_version=int(expected))
    except ConflictError:
        return refuse(409, _("L'istanza è cambiata nel frattempo: controlla di nuovo e riprova."))
    if not report.migrated:
        return refuse(409, _("L'istanza non si può migrare a v%(number)d.", number=target.number))
    db.session.commit()
    flash(_("Istanza #%(id)d migrata a v%(number)d.", id=instance.id, number=target.number), "success")
    if may_track(actor.roles):
        return redirect(url_for("tracking.show_instance", instance_id=instance.id), code=303)
    return redirect(url_for("tracking.migrate_one_instance", instance_id=instance.id), code=303)
