"""'Modelli': analysts list the deployed process models, edit one in bpmn-js, validate and deploy it.

The browser sends the diagram's XML; the engine's validator and compatibility analysis
(:mod:`engine.modelling`) judge it, and only a valid model is deployed, as a new version. Running
instances keep the version they started on. Every endpoint is for analysts and administrators; the JSON
endpoints answer in the error envelope, and their POSTs carry the CSRF token in ``X-CSRFToken``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from engine.errors import ModelValidationError, NotAllowedError, ProcessNotFoundError
from engine.form_library import forms_for_modelling
from engine.modelling import check_document, decision_ids, package_document, read_upload
from engine.models import ProcessInstance, ProcessVersion
from webapp.accounts.auth import current_actor
from webapp.casefile_services import operation_parameters
from webapp.errors import error_body
from webapp.extensions import db
from webapp.i18n.problems import problems_with_text
from webapp.views import form_editor, model_versions
from webapp.views.taskpage import get_engine

bp = Blueprint("modeller", __name__, url_prefix="/modeller")

MODELLER_ROLES = frozenset({"analista", "admin"})
# A BPMN file of ours is ~100 kB; ten times that is room enough and keeps a hostile upload cheap.
MAX_MODEL_BYTES = 1024 * 1024
FINISHED = ("completed", "terminated")


@bp.before_request
@login_required
def _require_modeller() -> None:
    if not MODELLER_ROLES & current_actor().roles:
        raise NotAllowedError(_("Il modellatore è riservato ad analisti e amministratori."))


@bp.get("/")
def list_models() -> str:
    """Every process with its versions, newest first, and how many instances still run on each."""
    versions = db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                  ProcessVersion.id.desc())).all()
    running: dict[int, int] = {
        version_id: count for version_id, count in db.session.execute(
            select(ProcessInstance.process_version_id, func.count())
            .where(ProcessInstance.status.not_in(FINISHED))
            .group_by(ProcessInstance.process_version_id))}
    processes: dict[str, list[ProcessVersion]] = {}
    for version in versions:
        processes.setdefault(version.process_id, []).append(version)
    return render_template("modeller/list.html", processes=processes, running=running)


@bp.get("/versions/<int:version_id>")
def edit(version_id: int) -> str:
    """The bpmn-js editor on one version, with the catalogues its properties panel offers: the
    programme's roles, the registered service operations (and their parameters where known), the form
    files (shared, the version's own and the form library's) and the decisions of the version's DMN files."""
    version = _version(version_id, with_xml=True)
    engine = get_engine()
    forms_dir = Path(current_app.config["FORMS_DIR"])
    shared_forms = {path.name for path in forms_dir.glob("*.json")} if forms_dir.is_dir() else set()
    catalogue = {
        "roles": [{"key": key, "label": label} for key, label in engine.roles.items()],
        "operations": [{"name": name, "parameters": operation_parameters(name)} for name in engine.services.names()],
        "forms": sorted(shared_forms | set(forms_for_modelling(db.session, version.forms or {}))),
        "decisions": decision_ids(version.dmn_files or {}),
    }
    return render_template("modeller/edit.html", version=version, catalogue=catalogue)


@bp.get("/versions/<int:version_id>/bpmn")
def download(version_id: int) -> Response:
    """The version's BPMN XML; ``?download=1`` makes it a file named after the process."""
    version = _version(version_id, with_xml=True)
    response = Response(version.bpmn_xml, mimetype="application/xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{version.process_id}.bpmn"'
    return response


@bp.post("/versions/<int:version_id>/validate")
def validate(version_id: int) -> tuple[Response, int]:
    """The problems in the posted XML, each naming its element, as JSON (``text`` in the analyst's language)."""
    version = _version(version_id, with_xml=True)
    body = _posted_xml()
    if isinstance(body, tuple):
        return body
    check = check_document(body, version.dmn_files, forms_for_modelling(db.session, version.forms),
                           current_app.config["FORMS_DIR"], get_engine().roles)
    return jsonify({**check.as_dict(), "problems": problems_with_text(check.problems),
                    "ignored": problems_with_text(check.ignored)}), 200


@bp.post("/versions/<int:version_id>/deploy")
def deploy(version_id: int) -> tuple[Response, int]:
    """Deploy the posted XML as a new version, only if it is valid, with the process's forms and decisions."""
    version = _version(version_id, with_xml=True)
    body = _posted_xml()
    if isinstance(body, tuple):
        return body
    try:
        models = package_document(body, version.dmn_files, forms_for_modelling(db.session, version.forms),
                                  current_app.config["FORMS_DIR"], get_engine().roles)
    except ModelValidationError as error:
        message = _("Il modello ha %(count)d problemi: non è stato pubblicato.", count=len(error.problems))
        return jsonify(error_body(error.code, message, {"problems": problems_with_text(error.problems)})), 422
    try:
        stored = get_engine().deploy(db.session, models, actor=current_actor().username)
        db.session.commit()
    except IntegrityError:
        # Another analyst deployed this process between our reading its last number and storing ours.
        db.session.rollback()
        return _refuse("deploy_conflict", _("Un'altra versione di questo processo è stata pubblicata nello "
                                            "stesso momento: pubblica di nuovo per farne la successiva."), 409)
    if not stored:
        return jsonify({"deployed": [], "message": _("Nessuna modifica: la versione pubblicata è già questa.")}), 200
    deployed = [{"id": v.id, "number": v.number, "process_id": v.process_id, "content_hash": v.content_hash,
                 "url": url_for("modeller.edit", version_id=v.id)} for v in stored]
    message = _("Pubblicata la versione %(number)d di %(process)s.", number=stored[0].number,
                process=stored[0].process_id)
    return jsonify({"deployed": deployed, "message": message}), 201


@bp.post("/upload")
def upload() -> tuple[Response, int]:
    """An uploaded ``.bpmn`` file read through the safe parser; its XML goes back to the editor."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return _refuse("file_missing", _("Scegli un file .bpmn da caricare."), 400)
    with file.stream:  # a large upload is spooled to a temporary file: release it now
        data = file.stream.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        return _too_large()
    xml, problems = read_upload(data)
    if xml is None:
        return jsonify(error_body("model_unreadable", _("Il file non è un documento BPMN leggibile."),
                                  {"problems": problems_with_text(problems)})), 422
    return jsonify({"xml": xml, "file": file.filename}), 200


def _version(version_id: int, *, with_xml: bool = False) -> ProcessVersion:
    query = select(ProcessVersion).where(ProcessVersion.id == version_id)
    if with_xml:
        query = query.options(undefer(ProcessVersion.bpmn_xml), undefer(ProcessVersion.dmn_files))
    version = db.session.scalars(query).first()
    if version is None:
        raise ProcessNotFoundError(_("Versione %(id)d non trovata.", id=version_id))
    return version


def _posted_xml() -> bytes | tuple[Response, int]:
    if request.content_length is not None and request.content_length > MAX_MODEL_BYTES:
        return _too_large()
    data = request.stream.read(MAX_MODEL_BYTES + 1)
    if len(data) > MAX_MODEL_BYTES:
        return _too_large()
    if not data.strip():
        return _refuse("model_missing", _("Manca il modello: invia l'XML BPMN nel corpo della richiesta."), 400)
    return data


def _too_large() -> tuple[Response, int]:
    return _refuse("model_too_large", _("Il modello supera il limite di %(size)d kB.",
                                        size=MAX_MODEL_BYTES // 1024), 413)


def _refuse(code: str, message: str, status: int, **details: Any) -> tuple[Response, int]:
    return jsonify(error_body(code, message, details)), status


model_versions.register(bp)
form_editor.register(bp)
