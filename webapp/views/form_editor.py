"""'Moduli': analysts list, create and edit the JSON Schema forms of user tasks, with a live preview.

Registered on the modeller blueprint (so only analysts and administrators reach it) by :func:`register`.
The engine (:mod:`engine.form_library`) judges a form and saves it only when it has no problem; this
module shows the problems in the analyst's language (:mod:`webapp.i18n.problems`) and draws the preview
with the staff's own form renderer, so the analyst sees the form exactly as a case worker will. A saved
form reaches running work only through the modeller: validating and deploying a process freezes the
saved form in the new version.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    render_template_string,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from engine import form_library
from engine.form_library import FormEntry, FormProblem, FormRejectedError
from webapp.accounts.auth import current_actor
from webapp.errors import error_body
from webapp.extensions import db
from webapp.forms.render import Field, build_fields
from webapp.i18n.problems import problem_text

# Our largest form is ~10 kB; a hundred kilobytes per text leaves room and keeps a hostile post cheap.
MAX_TEXT = 100 * 1024
# These path segments are taken by the editor's own routes, so no form may be called so.
RESERVED_NAMES = frozenset({"new", "preview"})
# Problems after which the preview cannot be drawn: the renderer reads a structure that is not there.
UNDRAWABLE = frozenset({"json", "schema_object", "meta_schema", "ui_object", "too_large"})
STARTER_UI: dict[str, Any] = {"ui:order": ["notes"], "notes": {"ui:widget": "textarea"}}
# The preview is drawn by the task page's own field macros, so it looks as staff will see it. Outside a
# <form> its buttons (add or remove a row) do nothing.
PREVIEW = """{% from "tasks/_fields.html" import field %}
{%- if fields is none -%}
<p class="muted preview-unavailable">{{ _('Anteprima non disponibile: correggi prima i problemi dello schema.') }}</p>
{%- else -%}
<div class="task-form form-preview-body">
  {% if title %}<h3>{{ title }}</h3>{% endif %}
  {% if fields|selectattr('required')|list %}<p class="muted">{{ _('I campi con * sono obbligatori.') }}</p>{% endif %}
  {% for f in fields %}{{ field(f) }}{% endfor %}
  {% if not fields %}<p class="muted">{{ _('Il modulo non ha campi.') }}</p>{% endif %}
</div>
{%- endif %}"""

Page = str | BaseResponse | tuple[str, int]


def register(bp: Blueprint) -> None:
    """Add the form editor's routes to the modeller blueprint."""
    bp.add_url_rule("/forms", "list_forms", list_forms, methods=["GET"])
    bp.add_url_rule("/forms", "create_form", create_form, methods=["POST"])
    bp.add_url_rule("/forms/preview", "preview_form", preview_form, methods=["POST"])
    bp.add_url_rule("/forms/<name>", "edit_form", edit_form, methods=["GET"])
    bp.add_url_rule("/forms/<name>", "save_form", save_form, methods=["POST"])


# --- problems in the analyst's language ------------------------------------------------------------


def problem_dict(problem: FormProblem) -> dict[str, Any]:
    """A problem for the page: its file, line, JSON pointer and its sentence in the analyst's language, as
    ``text`` like the modeller's answers, and as ``message`` too, which the editor has always sent."""
    text = problem_text(problem)
    return {"file": problem.file, "line": problem.line, "pointer": problem.element_id, "rule": problem.rule,
            "code": problem.code, "params": dict(problem.params), "message": text, "text": text}


# The editor's own refusals, beside the engine's (webapp.i18n.problems has their sentences).
def _too_large(file: str) -> FormProblem:
    size = MAX_TEXT // 1024
    return FormProblem(file, None, None, f"the text is larger than {size} kB", code="form_too_large",
                       rule="too_large", params={"size": size})


def _name_refused(name: str, *, exists: bool) -> FormProblem:
    file = form_library.schema_file(name)
    if exists:
        return FormProblem(file, None, "name", f"a form called {name!r} exists already", code="form_exists",
                           rule="exists", params={"name": name})
    return FormProblem(file, None, "name", f"the name {name!r} is reserved", code="form_reserved",
                       rule="reserved", params={"name": name})


# --- reading what was typed ------------------------------------------------------------------------


def _parse(name: str, schema_text: str, ui_text: str) -> tuple[Any, Any, list[FormProblem]]:
    """Both texts as JSON (an empty UI schema is none), with the problems of reading and checking them."""
    schema_file, ui_file = form_library.schema_file(name), form_library.ui_file(name)
    too_large = [_too_large(file) for file, text in ((schema_file, schema_text), (ui_file, ui_text))
                 if len(text) > MAX_TEXT]
    if too_large:
        return None, None, too_large
    schema, problems = form_library.parse_json(schema_text, schema_file)
    ui: Any = None
    if ui_text.strip():
        ui, ui_problems = form_library.parse_json(ui_text, ui_file)
        problems += ui_problems
    if problems:
        return schema, ui, problems
    return schema, ui, form_library.check_form(schema, ui, name)


def _preview_html(schema: Any, ui: Any, problems: list[FormProblem]) -> Markup:
    """The form drawn as staff see it, or a note saying why it cannot be drawn yet."""
    if any(p.rule in UNDRAWABLE for p in problems) or not isinstance(schema, dict):
        return _draw(None, None)
    try:
        fields = build_fields(schema, ui if isinstance(ui, dict) else None, {})
    except (AttributeError, KeyError, TypeError, ValueError):
        # A schema the meta-schema accepts can still be one the renderer cannot draw (a field given
        # as `true`, say); the problems list already says what to fix.
        return _draw(None, None)
    title = schema.get("title")
    return _draw(fields, _(str(title)) if title else None)


def _draw(fields: list[Field] | None, title: str | None) -> Markup:
    # render_template_string autoescapes: everything typed by the analyst arrives escaped.
    return Markup(render_template_string(PREVIEW, fields=fields, title=title))  # noqa: S704


def _text(source: Any, key: str) -> str | None:
    value = source.get(key)
    return value if isinstance(value, str) else None


# --- pages -----------------------------------------------------------------------------------------


def list_forms() -> str:
    """Every form: where it comes from (a file or saved by whom, when) and which versions use it."""
    return _render_list()


def _render_list(name: str = "", problems: list[dict[str, Any]] | None = None) -> str:
    forms = form_library.list_forms(db.session, current_app.config["FORMS_DIR"])
    return render_template("modeller/forms.html", forms=forms, usage=form_library.form_usage(db.session),
                           new_name=name, problems=problems or [])


def create_form() -> Page:
    """Start a new form: its name is checked, then the editor opens on a starter form (saved on «Salva»)."""
    name = (request.form.get("name") or "").strip()
    problems = form_library.check_name(name)
    if not problems and name in RESERVED_NAMES:
        problems = [_name_refused(name, exists=False)]
    if problems:
        return _render_list(name, [problem_dict(p) for p in problems]), 422
    if form_library.get_form(db.session, current_app.config["FORMS_DIR"], name) is not None:
        return _render_list(name, [problem_dict(_name_refused(name, exists=True))]), 409
    return redirect(url_for("modeller.edit_form", name=name, new=1), code=303)


def _starter(name: str) -> FormEntry:
    schema = {"$schema": form_library.DRAFT_2020_12, "title": name.replace("_", " ").capitalize(),
              "type": "object", "additionalProperties": False, "required": [],
              "properties": {"notes": {"type": "string", "title": "Note", "maxLength": 4000}}}
    return FormEntry(name, schema, STARTER_UI, "new")


def _form_or_404(name: str, *, creating: bool = False) -> FormEntry:
    """The form, or for a new one (``creating``, a well-formed name) the starter form."""
    form = form_library.get_form(db.session, current_app.config["FORMS_DIR"], name)
    if form is not None:
        return form
    if creating and not form_library.check_name(name) and name not in RESERVED_NAMES:
        return _starter(name)
    abort(404, description=_("Modulo «%(name)s» non trovato.", name=name))


def _pretty(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, indent=2)


def edit_form(name: str) -> Page:
    """The editor: the two texts, their problems and the form's preview."""
    form = _form_or_404(name, creating=bool(request.args.get("new")))
    schema_text, ui_text = _pretty(form.json_schema), _pretty(form.ui_schema)
    schema, ui, problems = _parse(name, schema_text, ui_text)
    return _render_editor(form, schema_text, ui_text, schema, ui, problems)


def _render_editor(form: FormEntry, schema_text: str, ui_text: str, schema: Any, ui: Any,
                   problems: list[FormProblem], status: int = 200) -> tuple[str, int]:
    usage = form_library.form_usage(db.session).get(form.name, [])
    return render_template("modeller/form_edit.html", form=form, schema_text=schema_text, ui_text=ui_text,
                           problems=[problem_dict(p) for p in problems], usage=usage,
                           preview_html=_preview_html(schema, ui, problems)), status


def save_form(name: str) -> Page:
    """Save the typed form if it has no problem; otherwise show them beside the texts, nothing lost."""
    form = _form_or_404(name, creating=True)  # the first save of a new form creates it
    schema_text, ui_text = _text(request.form, "json_schema"), _text(request.form, "ui_schema")
    if schema_text is None or ui_text is None:
        abort(400, description=_("Mancano i campi json_schema e ui_schema."))
    schema, ui, problems = _parse(name, schema_text, ui_text)
    if not problems:
        try:
            form_library.save_form(db.session, name, schema, ui, current_actor().username)
        except FormRejectedError as error:
            problems = error.problems
    if problems:
        db.session.rollback()
        flash(_("Il modulo ha %(count)d problemi: non è stato salvato.", count=len(problems)), "error")
        return _render_editor(form, schema_text, ui_text, schema, ui, problems, status=422)
    db.session.commit()
    flash(_("Modulo «%(name)s» salvato. Valida e pubblica i processi che lo usano per renderlo effettivo.",
            name=name), "success")
    return redirect(url_for("modeller.edit_form", name=name), code=303)


def preview_form() -> tuple[Response, int]:
    """JSON in ({name, json_schema, ui_schema} as texts), JSON out: {problems, html} for the live preview."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(error_body("body_invalid", _("Il corpo della richiesta deve essere un oggetto JSON."))), 400
    raw_name = body.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    schema_text, ui_text = _text(body, "json_schema"), _text(body, "ui_schema")
    bad = [key for key, value in (("json_schema", schema_text), ("ui_schema", ui_text)) if value is None]
    if not name or form_library.check_name(name):
        bad.insert(0, "name")
    if bad or schema_text is None or ui_text is None:
        message = _("Campi mancanti o non validi: %(fields)s.", fields=", ".join(bad))
        return jsonify(error_body("body_invalid", message, {"fields": {key: [message] for key in bad}})), 400
    schema, ui, problems = _parse(name, schema_text, ui_text)
    return jsonify({"problems": [problem_dict(p) for p in problems],
                    "html": _preview_html(schema, ui, problems)}), 200
