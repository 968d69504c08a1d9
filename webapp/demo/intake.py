"""Demo intake cases for `make run`: referrals stopped at successive steps of the real intake model.

Every answer goes through the task forms and the model's service tasks, as staff would type it, so
the households and referrals they register are ordinary case-file records. Dates are relative to
the engine's today, so the cases always look current and no deadline timer is already due.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casefile.models import Household
from engine import Engine
from engine.models import HumanTask, ProcessInstance
from webapp.demo import demo_actor, deployed

# --- what staff type at each step ----------------------------------------------------------------

# An answer is made from ``on``: ``on(k)`` is the ISO date k days after the referral came in.
On = Callable[[int], str]
Answer = Callable[[On], dict[str, Any]]


def _referral(name: str, source: str, org: str, worker: str, urgency: str) -> Answer:
    return lambda on: {"household_name": name, "referral_date": on(0), "referral_source": source,
                       "referring_org": org, "referring_worker": worker, "urgency": urgency,
                       "housing_need_type": "emergenza_abitativa"}


HOUSING = {"prior_living_situation": "410", "length_of_stay": "5", "ethos_category": "insecure",
           "eviction_status": "intimato", "turin_residence_or_work": True}
WORK = {"employment_status": "disoccupato_in_cerca", "education_level": "secondaria_primo_grado",
        "cpi_registered": True}
SCORES = {"abitare": 1, "reddito": 2, "lavoro": 2, "salute": 4, "relazioni": 3, "competenze_domestiche": 3,
          "documenti": 4}
PLAN_GOALS = [{"domain": "abitare", "description": "Entrare in un alloggio del progetto e mantenerlo"},
              {"domain": "lavoro", "description": "Avviare un tirocinio di inclusione"}]


def _main_path(referral: Answer, members: Callable[[On], list[dict[str, Any]]]) -> list[tuple[str, Answer]]:
    """The intake's main path up to the plan, with dates from the referral on."""
    return [
        ("enter_referral", referral),
        ("confirm_receipt", lambda on: {"ack_date": on(1)}),
        ("first_interview", lambda on: {"interview_date": on(6), "privacy_notice_given": True,
                                        "language": "italiano", "interpreter_needed": False}),
        ("household_composition", lambda on: {"members": members(on), "legal_status": "permesso_valido"}),
        ("housing_history", lambda on: HOUSING),
        ("economic_situation", lambda on: {"isee_available": True, "isee_value": "7200,00",
                                           "isee_expiry_date": on(300),
                                           "income_sources": [{"source": "adi", "monthly_amount": "480.00"}]}),
        ("work_situation", lambda on: WORK),
        ("health_data", lambda on: {"health_data_needed": False}),
        ("assessment", lambda on: {"assessment_date": on(14), "assessment_kind": "preliminare",
                                   **{f"score_{domain}": score for domain, score in SCORES.items()},
                                   "strengths": "Motivazione e rete di vicinato", "risks": "Sfratto intimato"}),
        ("decide_admission", lambda on: {"decision": "accettato", "decision_date": on(17)}),
        ("enroll_household", lambda on: {"project_start_date": on(18), "case_manager_username": "case_manager",
                                         "social_worker_username": "assistente_sociale"}),
        ("write_plan", lambda on: {"plan_draft_date": on(30), "household_contribution": "100.00",
                                   "plan_summary": "Un alloggio stabile e un lavoro", "goals": PLAN_GOALS}),
    ]


# The three first referrals keep what `make run` always showed: a referral to enter and one to
# acknowledge (coordinator), a first interview (case manager).
SIMPLE_REFERRALS = [
    _referral("Anna Esposito", "servizio_sociale_territoriale", "Polo di Inclusione Sociale Nord",
              "Dott.ssa Bianchi", "altro"),
    _referral("Moussa Diallo", "sad", "Servizio Adulti in Difficoltà", "Dott. Ferrero", "altro"),
    _referral("Elena Popescu", "locare", "Lo.C.A.Re.", "Sig.ra Gallo", "altro"),
]
# The next ones stop further along: (household, the step they wait at, days since the referral,
# source, members). Waiting at the economic situation also waits at the work situation beside it.
FURTHER_REFERRALS: list[tuple[str, str, int, str, Callable[[On], list[dict[str, Any]]]]] = [
    ("Francesco Greco", "economic_situation", 12, "servizio_sociale_territoriale", lambda on: [
        {"first_name": "Francesco", "last_name": "Greco", "relationship_to_hoh": 1, "birth_date": "1975-05-18",
         "citizenship": "Italia"},
        {"first_name": "Sofia", "last_name": "Greco", "relationship_to_hoh": 2, "birth_date": "2011-02-07"}]),
    ("Olga Petrova", "assessment", 22, "terzo_settore", lambda on: [
        {"first_name": "Olga", "last_name": "Petrova", "relationship_to_hoh": 1, "birth_date": "1983-10-02",
         "citizenship": "Ucraina", "permit_type": "Protezione temporanea", "permit_expiry": on(200)}]),
    ("Kwame Mensah", "co_sign_plan", 34, "sad", lambda on: [
        {"first_name": "Kwame", "last_name": "Mensah", "relationship_to_hoh": 1, "birth_date": "1990-12-12",
         "citizenship": "Ghana", "permit_type": "Permesso per lavoro subordinato", "permit_expiry": on(700)},
        {"first_name": "Ama", "last_name": "Mensah", "relationship_to_hoh": 3, "birth_date": "1992-04-25"}]),
]
BESIDE = {"economic_situation": "work_situation"}


def seed_intakes(session: Session, engine: Engine) -> list[ProcessInstance]:
    """Start the demo referrals not started yet; returns the instances started."""
    if not deployed(session, "intake"):
        return []
    today = engine.clock_now().date()
    started = []
    # The first of these registers nothing yet, so all three go in once, with the first intake.
    if not session.scalar(select(func.count()).select_from(ProcessInstance)
                          .where(ProcessInstance.process_id == "intake")):
        for steps, referral in enumerate(SIMPLE_REFERRALS):
            answers = [("enter_referral", referral), ("confirm_receipt", lambda on: {"ack_date": on(0)})]
            started.append(_drive(session, engine, answers[:steps], today))
    for name, stop, days_ago, source, members in FURTHER_REFERRALS:
        if session.scalar(select(Household.id).where(Household.display_name == name).limit(1)) is not None:
            continue
        referral = _referral(name, source, "Polo di Inclusione Sociale Sud", "Dott.ssa Rinaldi", "sfratto_esecutivo")
        path = _main_path(referral, members)
        specs = [spec for spec, _ in path]
        upto = specs.index(stop) if stop in specs else len(path)  # co_sign_plan comes after the last
        answers = [step for step in path[:upto] if step[0] != BESIDE.get(stop)]
        started.append(_drive(session, engine, answers, today - timedelta(days=days_ago)))
    return started


def _drive(session: Session, engine: Engine, answers: list[tuple[str, Answer]], referred: date) -> ProcessInstance:
    """Start an intake as the coordinator and give ``answers`` in order, each as its task's role."""
    def on(days: int) -> str:
        return (referred + timedelta(days=days)).isoformat()

    instance = engine.start(session, "intake", {}, demo_actor("coordinatore"))
    for spec, answer in answers:
        task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.task_spec_id == spec,
                                                       HumanTask.status == "ready")).one()
        engine.complete_task(session, task.id, answer(on), demo_actor(task.role or "coordinatore"))
    return instance
