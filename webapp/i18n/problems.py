"""Problems in models and forms, and why an instance cannot migrate, in the reader's language.

The engine knows no Flask: it says each problem (``engine.errors.Problem``) and each migration reason
(``engine.migration.Reason``) in English, and names it with a ``code`` and the ``params`` the sentence
mentions. Here every code has its sentence as a lazy gettext template with ``%(name)s`` placeholders,
translated when a page or a JSON answer is drawn, in that reader's language. An unknown code, or a
template its params cannot fill, gives the engine's English rather than failing the page. Texts quoted
from other software (an XML parser's error, SpiffWorkflow's, jsonschema's) stay as they are, inside
our sentence (the ``detail`` param).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _

from engine.errors import Problem
from engine.migration import Reason
from webapp.tracking import STATUS_LABELS

__all__ = ["PROBLEMS", "REASONS", "problem_text", "problems_with_text", "reason_text"]

PROBLEMS: dict[str, Any] = {
    # Reading the files.
    "no_model_files": _("La cartella non contiene file .bpmn o .dmn."),
    "file_not_found": _("File non trovato."),
    "file_unreadable": _("Il file non si può leggere: %(detail)s"),
    "not_a_model": _("Non è un documento BPMN o DMN (elemento radice %(element)s)."),
    "xml_entities": _("Le dichiarazioni di entità non sono ammesse."),
    "xml_entity_expansion": _("Le dichiarazioni di entità non sono ammesse (%(detail)s)."),
    "xml_syntax": _("XML non valido: %(detail)s"),
    "xsd": _("Il documento non rispetta lo schema BPMN/DMN: %(detail)s"),
    "spiff_invalid": _("SpiffWorkflow rifiuta il modello: %(detail)s"),
    "spiff_process": _("SpiffWorkflow non riesce a caricare il processo %(process)s: %(detail)s"),
    "spiff_file": _("SpiffWorkflow non riesce a caricare questo file: %(detail)s"),
    "decision_duplicate": _("L'id della decisione è definito anche in %(file)s."),
    "upload_not_bpmn": _("Non è un documento BPMN (qui non si può aprire una tabella DMN)."),
    "nothing_to_deploy": _("Nessun processo eseguibile da pubblicare."),
    "file_name_not_plain": _("I nomi dei file devono essere nomi semplici, senza percorso: %(file)s"),
    # Our rules for a model (engine.validation, engine.form_files).
    "file_name": _("Il file dovrebbe chiamarsi %(file)s."),
    "user_task_no_form": _("L'attività utente non ha un modulo (%(property)s)."),
    "form_file_name": _("Il nome del file del modulo %(file)s deve essere un nome semplice."),
    "form_file_missing": _("Il file del modulo %(file)s non esiste."),
    "form_file_unreadable": _("Il file del modulo %(file)s non si può leggere: %(detail)s"),
    "form_file_json": _("Il file del modulo %(file)s non è JSON valido (riga %(line)s, colonna %(column)s): "
        "%(detail)s"),
    "form_schema_not_object": _("Il modulo %(file)s non è uno schema JSON valido: deve essere un oggetto JSON."),
    "form_schema_invalid": _("Il modulo %(file)s non è uno schema JSON valido: %(detail)s"),
    "due_in_invalid": _("dueIn %(value)s non è una durata ISO 8601 come P5D o PT48H."),
    "lane_no_name": _("La corsia non ha un nome."),
    "lane_unknown_role": _("La corsia «%(lane)s» non corrisponde a nessun ruolo (%(roles)s)."),
    "task_no_lane": _("L'attività non è in nessuna corsia, quindi nessun ruolo la riceverebbe."),
    "rule_task_no_decision": _("L'attività di regola non ha spiffworkflow:calledDecisionId."),
    "decision_not_found": _("La decisione «%(decision)s» non si trova tra i file DMN."),
    "called_process_missing": _("Il processo chiamato «%(process)s» non è definito in questo file."),
    "event_subprocess": _("I sottoprocessi di evento non sono supportati da questo motore: usa gli eventi di bordo."),
    "invalid_script": _("Script non valido: %(detail)s"),
    "invalid_pre_script": _("Pre-script non valido: %(detail)s"),
    "invalid_post_script": _("Post-script non valido: %(detail)s"),
    "invalid_condition": _("Condizione non valida: %(detail)s"),
    "invalid_message_payload": _("Contenuto del messaggio non valido: %(detail)s"),
    "invalid_correlation_expression": _("Espressione di correlazione non valida: %(detail)s"),
    "invalid_parameter": _("Parametro «%(parameter)s» non valido: %(detail)s"),
    "timer_empty": _("Il timer non ha un'espressione."),
    "timer_unquoted": _("L'espressione del timer deve essere una stringa ISO 8601 tra virgolette, ad es. \"PT1H\"."),
    "invalid_timer": _("Espressione del timer non valida: %(detail)s"),
    "dmn_decision_count": _("Un file DMN deve contenere una sola decisione (ne contiene %(count)s)."),
    "dmn_missing_id": _("L'elemento DMN %(element)s non ha un id."),
    "invalid_input_expression": _("Espressione di input non valida: %(detail)s"),
    "invalid_input_entry": _("Voce di input «%(entry)s» non valida: %(detail)s"),
    "invalid_output_entry": _("Voce di output non valida: %(detail)s"),
    # What other tools' models use that this engine cannot run or ignores (engine.compatibility). The
    # sentence starts with the XML element's name.
    "complex_gateway": _("%(element)s: i gateway complessi non sono supportati."),
    "transaction": _("%(element)s: i sottoprocessi di transazione non sono supportati."),
    "ad_hoc_subprocess": _("%(element)s: i sottoprocessi ad hoc non sono supportati."),
    "compensation_event": _("%(element)s: gli eventi di compensazione non sono supportati."),
    "cancel_event": _("%(element)s: gli eventi di annullamento non sono supportati (appartengono alle transazioni)."),
    "data_store": _("%(element)s: gli archivi dati non sono supportati: tieni i dati nella cartella del caso o nei "
        "dati del processo."),
    "choreography": _("%(element)s: le coreografie non sono supportate: questo motore esegue solo processi."),
    "conversation": _("%(element)s: le conversazioni non sono supportate."),
    "global_task": _("%(element)s: le attività globali non sono supportate: modella l'attività dentro il processo."),
    "executable_flag_missing": _("%(element)s: il processo non ha l'attributo isExecutable: viene eseguito come "
        "eseguibile (per BPMN non lo sarebbe)."),
    "not_executable": _("%(element)s: il processo non è eseguibile (isExecutable=\"false\"): viene ignorato."),
    "no_process": _("Il file non contiene nessun processo: niente da eseguire."),
    "no_executable_process": _("Il file non contiene nessun processo eseguibile: niente da eseguire."),
    "collaboration_pools": _("Collaborazione con %(count)s pool eseguibili (%(processes)s): pubblica un solo "
        "processo eseguibile per file."),
    "service_task_no_operator": _("%(element)s: l'attività di servizio non ha spiffworkflow:serviceTaskOperator: "
        "questo motore chiama per nome le operazioni registrate."),
    "event_ref_unknown": _("%(element)s: %(attribute)s «%(ref)s» non indica un elemento %(target)s di questo file."),
    "script_language": _("%(element)s: il linguaggio di script «%(language)s» non è supportato: gli script sono in "
        "Python."),
    "condition_uel": _("%(element)s: la condizione «%(expression)s» è un'espressione UEL/JUEL: scrivila in Python."),
    "timer_uel": _("%(element)s: il timer «%(expression)s» è un'espressione UEL/JUEL: scrivilo in Python."),
    "condition_language": _("%(element)s: il linguaggio «%(language)s» della condizione non è supportato: le "
        "espressioni sono in Python."),
    "timer_language": _("%(element)s: il linguaggio «%(language)s» del timer non è supportato: le espressioni sono "
        "in Python."),
    "vendor_behaviour": _("%(element)s: le estensioni di esecuzione di altri motori non sono supportate: %(names)s"),
    "vendor_ignored": _("%(element)s: estensioni di altri strumenti ignorate: %(names)s"),
    "dmn_required_decision": _("%(element)s: le decisioni che richiedono altre decisioni non sono supportate: una "
        "decisione per file."),
    "dmn_knowledge_model": _("%(element)s: i modelli di conoscenza (business knowledge model) non sono supportati."),
    "dmn_decision_service": _("%(element)s: i servizi decisionali non sono supportati."),
    "dmn_not_table": _("%(element)s: come logica della decisione sono supportate solo le tabelle decisionali."),
    "dmn_feel": _("%(element)s: l'espressione FEEL «%(expression)s» non è supportata: le celle della tabella sono "
        "in Python."),
    "dmn_hit_policy": _("%(element)s: la hit policy %(policy)s non è supportata (solo UNIQUE, FIRST e COLLECT)."),
    # Forms (engine.form_library, and the form editor's own: too large, reserved name, existing name).
    "dmn_aggregation": _("%(element)s: l'aggregazione COLLECT %(aggregation)s non è supportata."),
    "form_json": _("Non è JSON valido alla riga %(line)s, colonna %(column)s: %(detail)s"),
    "form_too_large": _("Il testo supera il limite di %(size)d kB."),
    "form_schema_object": _("Lo schema JSON deve essere un oggetto JSON."),
    "form_meta_schema": _("Non è uno schema JSON valido (Draft 2020-12): %(detail)s"),
    "form_draft": _("$schema deve essere %(expected)s."),
    "form_type_object": _("Il modulo deve avere \"type\": \"object\"."),
    "form_no_title": _("Il modulo non ha un titolo (title)."),
    "form_no_properties": _("Il modulo non ha campi (properties)."),
    "form_group_additional_properties": _("Il gruppo %(group)s deve avere additionalProperties: false."),
    "form_additional_properties": _("Il modulo deve avere additionalProperties: false."),
    "form_required_unknown": _("Il campo obbligatorio %(field)s non è tra i campi (properties)."),
    "form_field_title": _("Il campo %(field)s non ha un'etichetta (title)."),
    "form_option": _("L'opzione %(index)s di %(field)s deve avere const e title."),
    "form_ui_object": _("Lo schema UI deve essere un oggetto JSON."),
    "form_ui_order": _("ui:order deve elencare i nomi dei campi, nell'ordine in cui compaiono."),
    "form_ui_order_unknown": _("ui:order nomina %(field)s, che non è un campo del modulo."),
    "form_ui_order_twice": _("ui:order elenca %(field)s più di una volta."),
    "form_ui_order_missing": _("ui:order non elenca il campo %(field)s."),
    "form_ui_unknown_key": _("La chiave %(field)s dello schema UI non corrisponde a nessun campo."),
    "form_name": _("Il nome del modulo può contenere solo lettere minuscole, cifre e _ (al massimo %(max)s "
        "caratteri)."),
    "form_reserved": _("Il nome «%(name)s» è riservato: scegline un altro."),
    "form_exists": _("Esiste già un modulo chiamato «%(name)s»."),
}

REASONS: dict[str, Any] = {
    "task_missing": _("L'attività «%(task)s» (%(kind)s)%(where)s non esiste nella versione %(version)s."),
    "task_missing_done": _("L'attività «%(task)s» (%(kind)s)%(where)s, già svolta, non esiste nella versione "
        "%(version)s: se ne perderebbe la storia."),
    "task_kind_changed": _("L'attività «%(task)s» (%(kind)s)%(where)s nella versione %(version)s è un "
                           "%(new_kind)s."),
    "task_event_changed": _("L'attività «%(task)s» (%(kind)s)%(where)s nella versione %(version)s attende un evento "
        "diverso."),
    "subprocess_missing": _("Il sottoprocesso «%(subprocess)s» non esiste nella versione %(version)s."),
    "subprocess_call_changed": _("Nella versione %(version)s l'attività «%(task)s» chiama «%(called)s» invece di "
        "«%(subprocess)s»."),
    "version_other_process": _("La versione %(version)s appartiene al processo «%(process)s», non a "
        "«%(instance_process)s»."),
    "instance_status": _("L'istanza è nello stato «%(status)s»: migrano solo le istanze in corso, in attesa o "
        "sospese."),
    "version_not_newer": _("La versione %(version)s non è più recente della versione %(current)s."),
    "rebuild_failed": _("Lo stato non si può ricostruire sulla versione %(version)s: %(detail)s"),
    "instance_conflict": _("Qualcun altro ha modificato l'istanza nel frattempo: ricarica la pagina e riprova."),
}
# A task reason's "where": inside a subprocess, or nothing.
_IN_SUBPROCESS = _("nel sottoprocesso «%(subprocess)s»")


def _fill(template: Any, params: Mapping[str, Any], fallback: str) -> str:
    if template is None:
        return fallback
    try:
        return str(template) % dict(params)
    except (KeyError, TypeError, ValueError):
        return fallback


def problem_text(problem: Mapping[str, Any] | Problem) -> str:
    """The problem's sentence in the reader's language (a Problem, or its ``as_dict()``)."""
    if isinstance(problem, Problem):
        code, params, message = problem.code, problem.params, problem.message
    else:
        code, params, message = problem.get("code"), problem.get("params") or {}, str(problem.get("message", ""))
    return _fill(PROBLEMS.get(code or ""), params, message)


def reason_text(reason: Reason | str) -> str:
    """Why the instance cannot migrate, in the reader's language (a plain string is shown as it is)."""
    if not isinstance(reason, Reason):
        return str(reason)
    params = dict(reason.params)
    if "status" in params:
        params["status"] = str(STATUS_LABELS.get(params["status"], params["status"]))
    subprocess = params.get("subprocess")
    params["where"] = " " + _fill(_IN_SUBPROCESS, params, str(subprocess)) if subprocess else ""
    return _fill(REASONS.get(reason.code), params, reason.message)


def problems_with_text(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """JSON-ready problems for the browser: ``message`` stays English, ``text`` is the reader's."""
    return [{**problem.as_dict(), "text": problem_text(problem)} for problem in problems]
