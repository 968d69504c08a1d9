"""Words for the codes the case file stores (casefile.codes), in the reader's language.

Lazy: each label is translated when a page is drawn, in that reader's language. An unknown code
is shown as itself, with underscores as spaces, rather than hidden.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _

LABELS: dict[str, dict[Any, Any]] = {
    "enrollment_status": {
        "segnalazione": _("Segnalato"), "in_valutazione": _("In valutazione"),
        "in_attesa_alloggio": _("In attesa di alloggio"), "inserito": _("Inserito in alloggio"),
        "in_uscita": _("In uscita"), "chiuso": _("Chiuso"),
    },
    "relationship": {
        1: _("Intestatario"), 2: _("Figlio/a"), 3: _("Coniuge o partner"), 4: _("Altro parente"),
        5: _("Non parente"),
    },
    "plan_status": {"bozza": _("Bozza"), "firmato": _("Firmato"), "sostituito": _("Sostituito")},
    "goal_status": {
        "non_avviato": _("Non avviato"), "in_corso": _("In corso"), "raggiunto": _("Raggiunto"),
        "sospeso": _("Sospeso"), "abbandonato": _("Abbandonato"),
    },
    "domain": {
        "abitare": _("Abitare"), "reddito": _("Reddito"), "lavoro": _("Lavoro"), "salute": _("Salute"),
        "relazioni": _("Relazioni e rete"), "competenze_domestiche": _("Competenze domestiche"),
        "documenti": _("Documenti"),
    },
    "visit_mode": {
        "domiciliare": _("Visita domiciliare"), "ufficio": _("In ufficio"), "telefonica": _("Telefonica"),
        "accompagnamento_esterno": _("Accompagnamento esterno"),
    },
    "level": {
        "basso": _("Basso"), "medio": _("Medio"), "alto": _("Alto"), "critico": _("Critico"),
        "buono": _("Buono"), "discreto": _("Discreto"),
    },
    "conflict_type": {
        "rumori": _("Rumori"), "spazi_comuni": _("Uso degli spazi comuni"), "igiene_pulizia": _("Igiene e pulizia"),
        "danni_alloggio": _("Danni all'alloggio"), "manutenzione_guasti": _("Manutenzione e guasti"),
        "pagamenti_oneri": _("Pagamenti e oneri condominiali"), "ospiti_non_autorizzati": _("Ospiti non autorizzati"),
        "rapporti_proprietario": _("Rapporti con il proprietario"), "conflitti_interni": _("Conflitti nel nucleo"),
        "interculturale": _("Interculturale"), "altro": _("Altro"),
    },
    "case_status": {"aperto": _("Aperto"), "chiuso": _("Chiuso")},
    "lease_status": {
        "attivo": _("Attivo"), "in_disdetta": _("In disdetta"), "scaduto": _("Scaduto"), "risolto": _("Risolto"),
        "volturato": _("Volturato"),
    },
    "exit_type": {"programmata": _("Programmata"), "non_programmata": _("Non programmata")},
    "role": {
        "assistente_sociale": _("Assistente sociale referente"), "coordinatore": _("Coordinatore di progetto"),
        "case_manager": _("Case manager"), "referente_abitativo": _("Referente abitativo"),
        "amministrazione": _("Amministrazione"), "mediatore": _("Mediatore"),
        "operatore_lavoro": _("Operatore inserimento lavorativo"), "equipe": _("Équipe multidisciplinare"),
        "supervisore": _("Supervisore"), "analista": _("Analista"), "admin": _("Amministratore di sistema"),
    },
    # Timeline entries: engine events and case-file operations.
    "event": {
        "instance_started": _("Processo avviato"), "task_completed": _("Attività completata"),
        "incident": _("Errore nel processo"), "retry": _("Processo ripreso"), "terminated": _("Processo chiuso"),
        "suspended": _("Processo sospeso"), "resumed": _("Processo riattivato"),
        "message_received": _("Messaggio ricevuto"),
        "register_household": _("Nucleo registrato"), "add_household_member": _("Componente aggiunto"),
        "end_household_membership": _("Componente uscito dal nucleo"), "update_person": _("Dati anagrafici aggiornati"),
        "record_sensitive_data": _("Dati sanitari aggiornati"), "record_privacy_notice": _("Informativa privacy"),
        "record_consent": _("Consenso registrato"), "withdraw_consent": _("Consenso revocato"),
        "register_referral": _("Invio registrato"), "acknowledge_referral": _("Invio confermato"),
        "record_referral_result": _("Esito dell'invio"), "open_enrollment": _("Presa in carico"),
        "assign_case_team_member": _("Équipe del caso aggiornata"),
        "end_case_team_member": _("Équipe del caso aggiornata"), "record_assessment": _("Valutazione"),
        "update_enrollment_status": _("Stato della presa in carico"), "draft_plan": _("Progetto personalizzato"),
        "sign_plan": _("Progetto firmato"), "review_plan": _("Verifica del progetto"),
        "place_household": _("Abbinamento all'alloggio"), "sign_occupancy_agreement": _("Accordo di ospitalità"),
        "hand_over_keys": _("Consegna delle chiavi"), "record_move_in": _("Ingresso in alloggio"),
        "end_placement": _("Uscita dall'alloggio"), "issue_rent_charge": _("Canone addebitato"),
        "record_rent_payment": _("Canone pagato"), "issue_contribution_charge": _("Contributo addebitato"),
        "record_contribution_payment": _("Contributo versato"), "agree_repayment_plan": _("Piano di rientro"),
        "record_visit": _("Visita"), "record_support_activity": _("Sostegno domiciliare"),
        "record_work_activity": _("Inserimento lavorativo"), "update_work_outcome": _("Esito inserimento lavorativo"),
        "report_incident": _("Evento critico"), "open_mediation_case": _("Mediazione aperta"),
        "record_mediation_session": _("Incontro di mediazione"),
        "record_mediation_agreement": _("Accordo di mediazione"),
        "record_mediation_followup": _("Verifica dell'accordo di mediazione"),
        "close_mediation_case": _("Mediazione chiusa"), "record_exit": _("Uscita dal progetto"),
        "record_handover": _("Passaggio ai servizi"), "record_follow_up": _("Contatto dopo l'uscita"),
        "sign_lease": _("Contratto firmato"), "register_lease": _("Contratto registrato"),
        "end_lease": _("Contratto chiuso"),
    },
}


def label(code: Any, group: str) -> str:
    """The reader's word for ``code`` in ``group`` (the code itself, readable, when unknown)."""
    if code is None or code == "":
        return ""
    found = LABELS.get(group, {}).get(code)
    return str(found) if found is not None else str(code).replace("_", " ")
