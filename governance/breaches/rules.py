"""The breach clock, by name: every page, the dashboard and the regulator pack use these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from governance.audit.describe import event_phrases_register
from governance.breaches.models import Breach
from governance.reports.figures import duration_words


@dataclass(frozen=True)
class ClockState:
    code: str  # notified | notified_late | not_required | not_notified | running | overdue
    text: str
    chase: bool  # show on the dashboard


def breach_commissioner_clock(breach: Breach, *, at: datetime | None = None) -> ClockState:
    now = at or timezone.now()
    due = breach.commissioner_due_at
    if breach.commissioner_notified_at:
        if breach.commissioner_notified_at <= due:
            return ClockState(
                "notified",
                f"Told the Commissioner {breach.commissioner_notified_at:%d %b %Y %H:%M}, within 72 hours",
                False,
            )
        late = duration_words(breach.commissioner_notified_at - due)
        return ClockState(
            "notified_late",
            f"Told the Commissioner {late} after the 72 hours: {breach.commissioner_delay_reason}",
            False,
        )
    if breach.commissioner_not_notified_reason:
        return ClockState("not_notified", f"Not notified: {breach.commissioner_not_notified_reason}", False)
    if not breach.commissioner_notification_required:
        return ClockState("not_required", "Not notifiable: rated unlikely to result in a risk (record why)", True)
    if now <= due:
        return ClockState(
            "running",
            f"{duration_words(due - now)} left to tell the Commissioner (by {timezone.localtime(due):%d %b %Y %H:%M})",
            True,
        )
    return ClockState(
        "overdue",
        f"Overdue by {duration_words(now - due)}: tell the Commissioner now, with the reasons for the delay",
        True,
    )


def breach_subjects_state(breach: Breach) -> str:
    if breach.subjects_notified_at:
        return f"Told {breach.subjects_notified_at:%d %b %Y}: {breach.subjects_notified_how}"
    if breach.subjects_not_notified_ground:
        return f"Not told — {breach.get_subjects_not_notified_ground_display()}: {breach.subjects_not_notified_reason}"
    if breach.subjects_not_notified_reason:
        return f"Not told: {breach.subjects_not_notified_reason}"
    if breach.subjects_notification_required:
        return "High risk: the people affected must be told without undue delay"
    return "Not required (risk not high)"


def breach_party_hours(agreement) -> int:
    """Hours within which one party to ``agreement`` tells the other of a breach involving the shared
    data: the agreement's own term where the register states one (``breach_notification_hours``),
    else the common 24 hours (ICO data sharing code: breach handling)."""
    from governance.breaches.models import DEFAULT_PARTY_HOURS

    return getattr(agreement, "breach_notification_hours", None) or DEFAULT_PARTY_HOURS


def breach_party_clock(party, *, at: datetime | None = None) -> ClockState:
    """The clock between the parties: tell the other party within the agreement's hours of discovery."""
    now = at or timezone.now()
    due = party.due_at
    hours = f"{party.hours} hours"
    if party.told_at:
        if party.told_at <= due:
            return ClockState(
                "notified", f"{party.organisation} told {party.told_at:%d %b %Y %H:%M}, within {hours}", False
            )
        late = duration_words(party.told_at - due)
        return ClockState("notified_late", f"{party.organisation} told {late} after the {hours}", False)
    if now <= due:
        return ClockState(
            "running",
            f"{duration_words(due - now)} left to tell {party.organisation} (the agreement's {hours}, "
            f"by {timezone.localtime(due):%d %b %Y %H:%M})",
            True,
        )
    return ClockState("overdue", f"Overdue by {duration_words(now - due)}: tell {party.organisation} now", True)


def art33_missing(breach: Breach) -> list[str]:
    """What the notification to the Commissioner lacks. UK GDPR Art. 33(3) / DPA 2018 s.67(4): it
    must at least "(a) describe the nature of the personal data breach including where possible, the
    categories and approximate number of data subjects concerned and the categories and approximate
    number of personal data records concerned; (b) communicate the name and contact details of the
    data protection officer or other contact point where more information can be obtained;
    (c) describe the likely consequences of the personal data breach; (d) describe the measures
    taken or proposed to be taken by the controller to address the personal data breach, including,
    where appropriate, measures to mitigate its possible adverse effects"."""
    missing = []
    if not breach.what_happened.strip():
        missing.append("the nature of the breach")
    if not breach.people_affected_description.strip():
        missing.append("the categories of people concerned")
    if breach.people_affected is None:
        missing.append("the approximate number of people concerned")
    if not breach.data_affected.strip():
        missing.append("the categories of records concerned")
    if breach.records_affected is None:
        missing.append("the approximate number of records concerned")
    if not breach.dpo_contact.strip():
        missing.append("the DPO's name and contact details")
    if not breach.risk_assessment.strip():
        missing.append("the likely consequences")
    if not breach.measures_taken.strip():
        missing.append("the measures taken or proposed")
    return missing


# Grounds on which the people affected by a high-risk breach need not be told.
# UK GDPR Art. 34(3) and DPA 2018 s.68(3): "(a) the controller has implemented appropriate technical
# and organisational protection measures, and those measures were applied to the personal data
# affected by the personal data breach, in particular those that render the personal data
# unintelligible to any person who is not authorised to access it, such as encryption; (b) the
# controller has taken subsequent measures which ensure that the high risk to the rights and
# freedoms of data subjects ... is no longer likely to materialise; (c) it would involve
# disproportionate effort" (then a public communication instead: Art. 34(3)(c), s.68(4)).
# DPA 2018 s.68(7) (Part 3 only): the controller "may restrict, wholly or partly, the provision of
# information to the data subject ... to the extent that and for so long as the restriction is ...
# a necessary and proportionate measure to (a) avoid obstructing an official or legal inquiry,
# investigation or procedure; (b) avoid prejudicing the prevention, detection, investigation or
# prosecution of criminal offences or the execution of criminal penalties; (c) protect public
# security; (d) protect national security; (e) protect the rights and freedoms of others".
ART34_GROUNDS = ("protected", "risk_removed", "disproportionate")
S68_7_RESTRICTIONS = ("s68_7_a", "s68_7_b", "s68_7_c", "s68_7_d", "s68_7_e")


def subjects_not_told_refusal(breach: Breach, *, ground: str, reason: str) -> tuple[str, str] | None:
    """Why the decision not to tell the people affected cannot be recorded (``(code, message)``), or
    ``None``. A ground the law lists is required, with the reasons; the s.68(7) restrictions are for
    a competent authority's law-enforcement processing (Part 3), not an operator's."""
    if ground not in ART34_GROUNDS + S68_7_RESTRICTIONS:
        return (
            "not_told_ground_required",
            "Choose the ground the law gives for not telling them (Art. 34(3)(a)-(c), DPA 2018 s.68(3) or s.68(7)).",
        )
    if ground in S68_7_RESTRICTIONS and not breach.organisation.is_police:
        return (
            "not_told_ground_part3_only",
            "The s.68(7) restrictions apply to a police force's law-enforcement processing, not an operator's.",
        )
    if len(reason.strip()) < 10:
        return ("not_told_reason_required", "Record why the ground applies to this breach.")
    return None


event_phrases_register(
    {
        "breach.shared": "Breach linked to a data-sharing agreement (the other party sees it)",
        "breach.party_told": "Other party to the agreement told of the breach",
        "breach.contents_completed": "Breach notification contents completed",
    }
)
