"""Code lists of the programme's records (domain.md §3), keyed as stored; labels live in the UI catalogues."""

from __future__ import annotations

PROGRAMME_ROLES = ("capofila", "partner", "lease_holder", "referrer", "funder", "mediation", "work_inclusion")

# --- households ------------------------------------------------------------------------------------
# HMIS 3.15 relationship to head of household.
RELATIONSHIP_TO_HOH = {1: "intestatario", 2: "figlio", 3: "coniuge_partner", 4: "altro_parente", 5: "non_parente"}
RESIDENCE_STATUS = ("residente", "residenza_fittizia", "non_residente")
SEX = ("F", "M", "altro", "non_dichiarato")
CONSENT_PURPOSES = ("foto", "condivisione_datore_lavoro", "testimonianza", "newsletter", "altro")

# --- case ------------------------------------------------------------------------------------------
REFERRAL_SOURCES = ("servizio_sociale_territoriale", "sad", "locare", "servizi_sanitari", "terzo_settore",
                    "autosegnalazione", "altro")
URGENCY = ("sfratto_esecutivo", "in_strada_dormitorio", "fine_accoglienza_emergenziale", "altro")
HOUSING_NEED_TYPES = ("emergenza_abitativa", "medio_periodo_post_emergenza")
# HMIS 4.20: accepted / waiting list / provider rejected / client rejected / withdrawn.
REFERRAL_RESULTS = ("accettato", "lista_attesa", "non_idoneo", "rifiutato", "ritirato")
ENROLLMENT_STATUSES = ("in_valutazione", "in_attesa_alloggio", "inserito", "in_uscita", "chiuso")
ASSESSMENT_KINDS = ("preliminare", "quadro_analisi", "annuale", "uscita")
ASSESSMENT_DOMAINS = ("abitare", "reddito", "lavoro", "salute", "relazioni", "competenze_domestiche", "documenti")
PLAN_STATUSES = ("bozza", "firmato", "sostituito")
GOAL_STATUSES = ("non_avviato", "in_corso", "raggiunto", "sospeso", "abbandonato")
PLAN_ACTION_KINDS = ("sostegno", "azione", "impegno")

# --- housing ---------------------------------------------------------------------------------------
UNIT_SOURCES = ("co_progettazione", "locare", "mercato_privato", "erp_provvisoria", "altro_ente")
LANDLORD_KINDS = ("persona", "societa", "ente")
LEASE_TYPES = ("4+4", "3+2", "transitorio", "art42", "comodato")
LEASE_STATUSES = ("attivo", "in_disdetta", "scaduto", "risolto", "volturato")
OCCUPANCY_KINDS = ("sublocazione", "ospitalita", "comodato")

# --- money -----------------------------------------------------------------------------------------
ARREARS_CAUSES = ("incolpevole_perdita_lavoro", "incolpevole_riduzione_orario", "incolpevole_cig",
                  "incolpevole_mancato_rinnovo", "incolpevole_malattia_decesso", "colpevole",
                  "errore_amministrativo")
PAYMENT_METHODS = ("bonifico", "contanti", "trattenuta", "altro")

# --- accompaniment ---------------------------------------------------------------------------------
VISIT_MODES = ("domiciliare", "ufficio", "telefonica", "accompagnamento_esterno")
HOUSING_CONDITIONS = ("buono", "discreto", "critico")
RISK_LEVELS = ("basso", "medio", "alto")
SUPPORT_KINDS = ("gestione_budget", "utenze", "pulizia_manutenzione", "pratiche_amministrative",
                 "accompagnamento_servizi", "socializzazione_reti")
WORK_ACTIVITY_KINDS = ("orientamento", "bilancio_competenze", "corso_formazione", "tirocinio_inclusione",
                       "tirocinio_extracurriculare", "borsa_lavoro", "ricerca_attiva", "assunzione")
WORK_OUTCOMES = ("in_corso", "completato", "interrotto", "assunto_td", "assunto_ti")
INCIDENT_KINDS = ("violenza", "danni_gravi", "ricovero", "arresto", "altro")
SEVERITIES = ("basso", "medio", "alto", "critico")
MEDIATION_REPORTERS = ("proprietario", "amministratore_condominio", "vicino", "nucleo", "operatore", "altro")
CONFLICT_TYPES = ("rumori", "spazi_comuni", "igiene_pulizia", "danni_alloggio", "manutenzione_guasti",
                  "pagamenti_oneri", "ospiti_non_autorizzati", "rapporti_proprietario", "conflitti_interni",
                  "interculturale", "altro")
MEDIATION_SESSION_KINDS = ("individuale", "congiunta")
FOLLOWUP_RESULTS = ("rispettato", "parzialmente", "non_rispettato")
MEDIATION_OUTCOMES = ("risolto", "risolto_con_accordo", "non_risolto_escalation", "trasferimento_alloggio",
                      "chiusura_rinuncia", "inviato_servizi_specialistici")

# --- exit (domain.md §3.5) -------------------------------------------------------------------------
EXIT_TYPES = ("programmata", "non_programmata")
EXIT_REASONS = ("obiettivi_raggiunti", "altra_soluzione_abitativa", "trasferito_altro_progetto",
                "abbandono_volontario", "irreperibile", "non_adesione", "allontanamento_violazioni",
                "morosita_non_sanata", "fine_progetto_contratto", "ricovero_struttura", "detenzione",
                "decesso", "altro")
PROJECT_COMPLETION = ("completato", "uscita_anticipata_volontaria", "uscita_involontaria")
# HMIS 3.12 destination codes (Italian labels in the UI) grouped as in the HMIS CSV spec, plus
# "subentro": the household takes over the lease, the ideal autonomy outcome.
DESTINATION_GROUPS: dict[str, str] = {
    "410": "permanent", "435": "permanent", "411": "permanent", "421": "permanent", "422": "permanent",
    "423": "permanent", "subentro": "permanent",
    "312": "temporary", "313": "temporary", "302": "temporary",
    "329": "institutional", "204": "institutional", "205": "institutional", "206": "institutional",
    "207": "institutional", "225": "institutional",
    "101": "homeless", "116": "homeless",
    "24": "other", "30": "other", "17": "other", "8": "other", "9": "other", "99": "other",
}
DESTINATIONS = tuple(DESTINATION_GROUPS)
SUBSIDY_TYPES = ("erp", "locare_contributo_affitto", "housing_sociale", "altro")
# HMIS W5 housing assessment at exit.
HOUSING_AT_EXIT = ("mantiene_alloggio_progetto", "nuovo_alloggio", "familiari_amici_temporaneo",
                   "familiari_amici_permanente", "struttura_temporanea", "senza_dimora", "carcere", "deceduto")
EMPLOYMENT_STATUSES = ("occupato_ft", "occupato_pt", "stagionale", "disoccupato_in_cerca", "non_in_cerca", "inabile")
LEASE_DISPOSITIONS = ("subentro", "riassegnazione", "disdetta", "risoluzione_consensuale", "nessuna")
# HMIS 4.12 current living situation, grouped like destinations.
LIVING_SITUATIONS = DESTINATIONS
FOLLOW_UP_MONTHS = (3, 6, 12)

# --- housing and money (area b) --------------------------------------------------------------------
# Energy performance classes of the APE (D.M. 26/6/2015), best first.
APE_CLASSES = ("A4", "A3", "A2", "A1", "B", "C", "D", "E", "F", "G")
# How a lease ends (end_lease); "attivo" is only ever set by sign_lease.
LEASE_END_STATUSES = ("in_disdetta", "risolto", "scaduto", "volturato")
