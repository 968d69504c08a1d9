"""Which partner organisation's staff receive a case's tasks for each role (domain.md §2).

Processes route a lane's tasks to ``task_organisations[role]``. The default comes from what each
organisation is in the programme; a household's case team and the lease of its current flat then
name the actual partners for that household.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from casefile.models import CaseTeamMember, Enrollment, LeaseContract, Organisation, Placement, User

# Role -> the programme role of the organisation that holds it unless the case says otherwise.
ROLE_HOLDERS = {
    "assistente_sociale": "referrer",
    "coordinatore": "capofila",
    "equipe": "capofila",
    "case_manager": "capofila",
    "referente_abitativo": "lease_holder",
    "amministrazione": "lease_holder",
    "mediatore": "mediation",
    "operatore_lavoro": "work_inclusion",
}


def task_organisations(session: Session, household_id: int | None = None) -> dict[str, str]:
    """Role -> organisation key for a household's tasks (the programme's defaults without one)."""
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.id)))
    chosen: dict[str, str] = {}
    for role, programme_role in ROLE_HOLDERS.items():
        holder = next((org for org in organisations if org.plays(programme_role)), None)
        if holder is not None:
            chosen[role] = holder.key
    if household_id is None:
        return chosen
    enrollment = session.scalar(select(Enrollment).where(Enrollment.household_id == household_id)
                                .order_by(Enrollment.exit_date.is_not(None), Enrollment.id.desc()).limit(1))
    if enrollment is None:
        return chosen
    team = session.execute(
        select(CaseTeamMember.role, Organisation.key)
        .join(User, User.id == CaseTeamMember.user_id).join(Organisation, Organisation.id == User.organisation_id)
        .where(CaseTeamMember.enrollment_id == enrollment.id, CaseTeamMember.until.is_(None))
        .order_by(CaseTeamMember.since, CaseTeamMember.id))
    for role, organisation in team:
        chosen[role] = organisation
    tenant = session.scalar(
        select(Organisation.key).join(LeaseContract, LeaseContract.tenant_org_id == Organisation.id)
        .join(Placement, Placement.lease_id == LeaseContract.id)
        .where(Placement.enrollment_id == enrollment.id, Placement.end_date.is_(None))
        .order_by(Placement.start_date.desc()).limit(1))
    if tenant is not None:
        chosen["referente_abitativo"] = chosen["amministrazione"] = tenant
    return chosen
