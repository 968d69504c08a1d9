"""The monitoring process (domain.md §3.3): rent to the landlord, the household's contribution, lease expiry.

The lease-holding partner's administration pays the rent and collects the contribution; its housing
officer handles the lease. In the test programme both belong to the organisation ``locatario``.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from casefile.models import ContributionCharge, ContributionPayment, RentCharge, RentPayment, RepaymentPlan
from engine import FormValidationError
from engine.models import Incident, Timer

from .conftest import ProcessDriver
from .test_monitoring import on, start, tasks, timer_day

PAID = {"contribution_amount": "150.00", "payment_method": "bonifico"}


# --- rent ----------------------------------------------------------------------------------------


def test_rent_is_charged_each_month_and_paid_to_the_landlord(driver: ProcessDriver, session: Session) -> None:
    instance, payload = start(driver, session)
    [march] = driver.rows(RentCharge)
    assert (march.lease_id, march.period, march.due_date, march.amount_cents) == (
        payload["lease_id"], date(2026, 3, 1), date(2026, 3, 5), 69000)
    pay = driver.task("pay_rent", instance)
    assert (pay.role, pay.organisation, pay.due_at) == ("amministrazione", "locatario",
                                                        pay.created_at + timedelta(days=10))
    driver.complete("pay_rent", {"rent_paid_date": "2026-03-04", "rent_amount": "690.00",
                                 "payment_reference": "TRN 0001"})
    [payment] = driver.rows(RentPayment)
    assert (payment.paid_on, payment.amount_cents, payment.reference) == (date(2026, 3, 4), 69000, "TRN 0001")
    assert tasks(driver, instance, "pay_rent") == []
    assert timer_day(driver, instance, "rent_charge_day") == "2026-03-26"  # ten days before 5 April
    on(driver, "2026-03-26")
    assert [c.period for c in driver.rows(RentCharge)] == [date(2026, 3, 1), date(2026, 4, 1)]
    assert tasks(driver, instance, "pay_rent") == [("pay_rent", "amministrazione", "locatario")]


def test_rent_unpaid_five_days_after_the_due_day_alerts_the_coordinator(driver: ProcessDriver,
                                                                       session: Session) -> None:
    instance, _ = start(driver, session)
    on(driver, "2026-03-10", hour=6)
    assert tasks(driver, instance, "rent_late_alert") == []
    on(driver, "2026-03-10")
    assert tasks(driver, instance, "pay_rent", "rent_late_alert") == [
        ("pay_rent", "amministrazione", "locatario"), ("rent_late_alert", "coordinatore", "capofila")]
    alert = driver.task("rent_late_alert", instance)
    assert alert.due_at == alert.created_at + timedelta(days=1)
    driver.complete("rent_late_alert", {"rent_alert_action": "pagamento_in_corso",
                                        "rent_alert_notes": "Bonifico disposto oggi"})
    driver.complete("pay_rent", {"rent_paid_date": "2026-03-11", "rent_amount": "690.00"})
    assert [(p.paid_on, p.reference) for p in driver.rows(RentPayment)] == [(date(2026, 3, 11), None)]
    assert tasks(driver, instance, "pay_rent", "rent_late_alert") == []


def test_rent_stops_with_the_last_month_of_the_lease(driver: ProcessDriver, session: Session) -> None:
    instance, _ = start(driver, session, first_expiry="2026-04-14")
    # A lease ending within eight months gets its reminder at once.
    assert tasks(driver, instance, "plan_lease_expiry") == [("plan_lease_expiry", "referente_abitativo", "locatario")]
    driver.complete("pay_rent", {"rent_paid_date": "2026-03-04", "rent_amount": "690.00"})
    on(driver, "2026-03-26")
    driver.complete("pay_rent", {"rent_paid_date": "2026-04-03", "rent_amount": "690.00"})
    assert driver.rows(Timer, instance_id=instance.id, task_spec_id="rent_charge_day") == []
    on(driver, "2026-05-20")
    assert [c.period for c in driver.rows(RentCharge)] == [date(2026, 3, 1), date(2026, 4, 1)]
    assert tasks(driver, instance, "pay_rent") == []
    assert driver.rows(Incident, instance_id=instance.id) == []


def test_a_payment_the_case_file_refuses_becomes_an_incident_naming_the_amount(driver: ProcessDriver,
                                                                               session: Session) -> None:
    instance, _ = start(driver, session)
    with pytest.raises(FormValidationError) as refused:
        driver.complete("pay_rent", {"rent_paid_date": "2026-03-04", "rent_amount": "690 euro"})
    assert set(refused.value.fields) == {"rent_amount"}
    driver.complete("pay_rent", {"rent_paid_date": "2026-03-04", "rent_amount": "0"})  # the form allows it
    session.refresh(instance)
    assert instance.status == "error"
    [incident] = driver.rows(Incident, instance_id=instance.id)
    assert (incident.task_spec_id, incident.status) == ("save_rent_payment", "open")
    assert "amount" in incident.message
    assert driver.rows(RentPayment) == []


# --- household contribution ----------------------------------------------------------------------


def test_the_contribution_is_charged_from_the_month_after_move_in_and_recorded(driver: ProcessDriver,
                                                                              session: Session) -> None:
    instance, _ = start(driver, session)
    assert driver.rows(ContributionCharge) == []
    on(driver, "2026-04-01")
    [april] = driver.rows(ContributionCharge)
    assert (april.period, april.due_date, april.amount_cents) == (date(2026, 4, 1), date(2026, 4, 5), 15000)
    assert tasks(driver, instance, "record_contribution") == [
        ("record_contribution", "amministrazione", "locatario")]
    # A part payment leaves the month open; the rest settles it.
    driver.complete("record_contribution", {"contribution_paid_date": "2026-04-03", "contribution_amount": "100",
                                            "payment_method": "contanti"})
    assert tasks(driver, instance, "record_contribution") == [
        ("record_contribution", "amministrazione", "locatario")]
    driver.complete("record_contribution", {"contribution_paid_date": "2026-04-04", "contribution_amount": "50.00",
                                            "payment_method": "bonifico"})
    assert [(p.paid_on, p.amount_cents, p.method) for p in driver.rows(ContributionPayment)] == [
        (date(2026, 4, 3), 10000, "contanti"), (date(2026, 4, 4), 5000, "bonifico")]
    on(driver, "2026-04-20")
    assert tasks(driver, instance, "record_contribution", "remind_contribution") == []
    assert timer_day(driver, instance, "contribution_charge_day") == "2026-05-01"


def test_unpaid_contributions_are_reminded_escalated_and_end_in_a_repayment_plan(driver: ProcessDriver,
                                                                                 session: Session) -> None:
    instance, _ = start(driver, session)
    steps = ("record_contribution", "remind_contribution", "contribution_overdue", "agree_repayment")
    on(driver, "2026-04-15")  # April's contribution, due on the 5th: reminder at D+10
    assert tasks(driver, instance, *steps) == [("record_contribution", "amministrazione", "locatario"),
                                               ("remind_contribution", "amministrazione", "locatario")]
    driver.complete("remind_contribution", {"reminder_date": "2026-04-15", "reminder_channel": "telefono"})
    on(driver, "2026-05-05")  # D+30: to the case manager; May is charged and awaited instead
    assert tasks(driver, instance, *steps) == [("contribution_overdue", "case_manager", "capofila"),
                                               ("record_contribution", "amministrazione", "locatario")]
    assert [c.period for c in driver.rows(ContributionCharge)] == [date(2026, 4, 1), date(2026, 5, 1)]
    driver.complete("contribution_overdue", {"household_contacted_date": "2026-05-06",
                                             "arrears_cause": "incolpevole_riduzione_orario"})
    assert tasks(driver, instance, "agree_repayment") == []  # one month unpaid: no coordinator yet
    on(driver, "2026-05-15")
    driver.complete("remind_contribution", {"reminder_date": "2026-05-15", "reminder_channel": "messaggio"})
    on(driver, "2026-06-04")  # May at D+30: two months unpaid
    driver.complete("contribution_overdue", {"household_contacted_date": "2026-06-05",
                                             "arrears_cause": "incolpevole_riduzione_orario",
                                             "arrears_notes": "Orario ridotto da aprile"})
    assert tasks(driver, instance, "agree_repayment") == [("agree_repayment", "coordinatore", "capofila")]
    with pytest.raises(FormValidationError) as refused:
        driver.complete("agree_repayment", {"repayment_decision": "piano", "arrears_cause": "colpevole"})
    assert set(refused.value.fields) == {"plan_agreed_date", "instalment_amount", "first_instalment_date"}
    driver.complete("agree_repayment", {"repayment_decision": "piano", "arrears_cause": "incolpevole_riduzione_orario",
                                        "plan_agreed_date": "2026-06-10", "instalment_amount": "50,00",
                                        "first_instalment_date": "2026-07-01", "repayment_notes": "Sei rate"})
    [plan] = driver.rows(RepaymentPlan)
    assert (plan.agreed_on, plan.cause, plan.total_cents, plan.instalment_cents, plan.first_due) == (
        date(2026, 6, 10), "incolpevole_riduzione_orario", 45000, 5000, date(2026, 7, 1))
    # April, May and June (due on the 5th) are owed: June's task stays open until all of it is paid.
    driver.complete("record_contribution", {"contribution_paid_date": "2026-06-12", "contribution_amount": "200.00",
                                            "payment_method": "contanti"})
    assert tasks(driver, instance, *steps) == [("record_contribution", "amministrazione", "locatario")]
    driver.complete("record_contribution", {**PAID, "contribution_paid_date": "2026-06-20",
                                            "contribution_amount": "250"})
    assert [p.amount_cents for p in driver.rows(ContributionPayment)] == [20000, 25000]
    assert tasks(driver, instance, *steps) == []
    assert timer_day(driver, instance, "contribution_charge_day") == "2026-07-01"
    assert driver.rows(Incident, instance_id=instance.id) == []


def test_without_a_contribution_nothing_is_charged(driver: ProcessDriver, session: Session) -> None:
    instance, _ = start(driver, session, contribution="0.00")
    on(driver, "2026-05-10")
    assert driver.rows(ContributionCharge) == []
    assert driver.rows(Timer, instance_id=instance.id, task_spec_id="contribution_charge_day") == []
    assert tasks(driver, instance, "record_contribution") == []


# --- lease expiry --------------------------------------------------------------------------------


def test_the_housing_officer_is_reminded_eight_and_six_months_before_the_lease_expires(driver: ProcessDriver,
                                                                                      session: Session) -> None:
    instance, _ = start(driver, session, first_expiry="2027-02-14")
    on(driver, "2026-06-13")
    assert tasks(driver, instance, "plan_lease_expiry") == []
    on(driver, "2026-06-14")
    plan = driver.task("plan_lease_expiry", instance)
    assert (plan.role, plan.organisation, plan.due_at) == ("referente_abitativo", "locatario",
                                                           plan.created_at + timedelta(days=30))
    driver.complete("plan_lease_expiry", {"lease_intention": "disdetta", "lease_notes": "Il nucleo è autonomo"})
    assert timer_day(driver, instance, "lease_expiry_in_6_months") == "2026-08-14"
    on(driver, "2026-08-14")
    assert tasks(driver, instance, "confirm_lease_notice") == [
        ("confirm_lease_notice", "referente_abitativo", "locatario")]
    with pytest.raises(FormValidationError) as refused:
        driver.complete("confirm_lease_notice", {"lease_decision": "disdetta"})
    assert set(refused.value.fields) == {"notice_sent_date"}
    driver.complete("confirm_lease_notice", {"lease_decision": "disdetta", "notice_sent_date": "2026-08-15"})
    assert tasks(driver, instance, "plan_lease_expiry", "confirm_lease_notice") == []
    assert driver.rows(Timer, instance_id=instance.id, task_spec_id="lease_expiry_in_6_months") == []
