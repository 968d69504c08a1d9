"""The case file's tables, one module per area of the programme's records."""

from casefile.models.accompaniment import (
    CaseIncident,
    ExitRecord,
    FollowUp,
    MediationAgreement,
    MediationCase,
    MediationSession,
    MonitoringVisit,
    SupportActivity,
    WorkInclusionActivity,
)
from casefile.models.accounts import ApiToken, Organisation, User, UserRole
from casefile.models.base import Base, utcnow
from casefile.models.cases import (
    Assessment,
    AssessmentScore,
    CaseTeamMember,
    Enrollment,
    PersonalisedPlan,
    PlanAction,
    PlanGoal,
    PlanReview,
    Referral,
)
from casefile.models.households import Consent, Household, HouseholdMembership, Person, PersonSensitive, PrivacyNotice
from casefile.models.housing import HousingUnit, Landlord, LeaseContract, OccupancyAgreement, Placement
from casefile.models.journal import CaseEvent, DataAccessEvent
from casefile.models.money import (
    ContributionCharge,
    ContributionPayment,
    RentCharge,
    RentPayment,
    RepaymentPlan,
)

__all__ = [
    "ApiToken", "Assessment", "AssessmentScore", "Base", "CaseEvent", "CaseIncident", "CaseTeamMember", "Consent",
    "ContributionCharge", "ContributionPayment", "DataAccessEvent", "Enrollment", "ExitRecord", "FollowUp",
    "Household", "HouseholdMembership", "HousingUnit", "Landlord", "LeaseContract", "MediationAgreement",
    "MediationCase", "MediationSession", "MonitoringVisit", "OccupancyAgreement", "Organisation", "Person",
    "PersonSensitive", "PersonalisedPlan", "Placement", "PlanAction", "PlanGoal", "PlanReview", "PrivacyNotice",
    "Referral", "RentCharge", "RentPayment", "RepaymentPlan", "SupportActivity", "User", "UserRole",
    "WorkInclusionActivity", "utcnow",
]
