"""The rules an agreement must satisfy, each named so it can be found from DOMAIN.md.

``agreement_rule_breaches`` evaluates them against any agreement — including one recorded
retrospectively, like King's Cross 2016-2018 — so the register can show exactly what is wrong.
The lifecycle services enforce the same rules before they let an agreement move forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from governance.agreements.models import Agreement, AgreementStatus

# Fields the ICO data sharing code expects every agreement to state.
ICO_REQUIRED_FIELDS: tuple[tuple[str, str], ...] = (
    ("purpose", "purpose"),
    ("data_items", "data items shared"),
    ("schedule8_condition", "Schedule 8 condition"),
    ("individual_rights", "how individual rights are handled"),
    ("security_measures", "security"),
    ("breach_handling", "breach handling"),
    ("termination_terms", "termination"),
    ("sanctions", "sanctions"),
)


@dataclass(frozen=True)
class RuleBreach:
    code: str
    title: str
    explanation: str
    severity: str = "breach"  # "breach" or "warning"


APPROVED_OR_LATER = {
    AgreementStatus.APPROVED,
    AgreementStatus.ACTIVE,
    AgreementStatus.EXPIRED,
    AgreementStatus.TERMINATED,
    AgreementStatus.SUPERSEDED,
}


@dataclass(frozen=True)
class DateProblem:
    field: str
    code: str
    message: str


def agreement_date_problems(
    *, starts_on: date | None, ends_on: date | None, review_on: date | None
) -> list[DateProblem]:
    """The order of an agreement's dates: it ends on or after it starts, and its review falls within
    it. One rule for the form (field errors) and the services (coded refusals); a missing date is
    left to the required-field checks."""
    problems = []
    if starts_on and ends_on and ends_on < starts_on:
        problems.append(DateProblem("ends_on", "ends_before_start", "The end date must be on or after the start date."))
    if starts_on and review_on and review_on < starts_on:
        problems.append(
            DateProblem("review_on", "review_before_start", "The review date must be on or after the start date.")
        )
    elif ends_on and review_on and review_on > ends_on:
        problems.append(
            DateProblem("review_on", "review_after_end", "The review date must fall before the agreement ends.")
        )
    return problems


def ico_missing_contents(agreement: Agreement) -> list[str]:
    missing = [label for field, label in ICO_REQUIRED_FIELDS if not str(getattr(agreement, field) or "").strip()]
    if not agreement.permitted_custody_categories:
        missing.append("permitted custody categories")
    return missing


def agreement_rule_breaches(agreement: Agreement) -> list[RuleBreach]:
    """Every rule this agreement breaks (or warns about), for its page and the dashboard."""
    breaches: list[RuleBreach] = []
    went_live = agreement.status in APPROVED_OR_LATER
    if went_live and agreement.approving_organisation and not agreement.approving_organisation.is_force_level:
        breaches.append(
            RuleBreach(
                "local_level_approval",
                "Approved at local level",
                f"Approved by {agreement.approving_organisation}, a unit, not by the force. Agreements must be "
                "approved above local level (Met policy after King's Cross forbids local-level agreements).",
            )
        )
    if went_live and not agreement.approving_organisation:
        breaches.append(
            RuleBreach(
                "no_recorded_approval", "No recorded approval", "Nobody is recorded as having approved this agreement."
            )
        )
    if went_live and not agreement.regulator_notified_on:
        breaches.append(
            RuleBreach(
                "regulator_not_notified",
                "Regulator never notified",
                "The agreement was not notified to the regulator / Surveillance Camera Commissioner, so oversight bodies "
                "and the public could not know of it (Surveillance Camera Code principles 3 and 10).",
            )
        )
    if went_live and not agreement.countersigned_at and not agreement.recorded_retrospectively:
        breaches.append(
            RuleBreach("not_countersigned", "Not countersigned", "The operator has not countersigned the agreement.")
        )
    if went_live and not agreement.signed_document:
        breaches.append(
            RuleBreach(
                "no_signed_document", "No signed document", "No signed copy of the agreement is held in the register."
            )
        )
    missing = ico_missing_contents(agreement)
    if went_live and missing:
        breaches.append(
            RuleBreach(
                "ico_contents_missing",
                "Contents missing",
                "The ICO data sharing code expects the agreement to state: " + ", ".join(missing) + ".",
            )
        )
    if went_live or agreement.status == AgreementStatus.SUBMITTED:
        from governance.dpia.rules import agreement_dpia_problem

        problem = agreement_dpia_problem(agreement)
        if problem is not None:
            title = "No DPIA" if problem.code == "dpia_missing" else "DPIA not in force"
            breaches.append(
                RuleBreach(problem.code, title, problem.message, severity="breach" if went_live else "warning")
            )
    if agreement.review_overdue:
        breaches.append(
            RuleBreach(
                "review_overdue",
                "Review date passed",
                f"The review was due on {agreement.review_on:%d %B %Y}.",
                severity="warning",
            )
        )
    return breaches


# --- approval prerequisites -----------------------------------------------------------------------


@dataclass(frozen=True)
class Prerequisite:
    """One thing force-level approval waits for. ``met``: it is in place; ``detail``: what is there,
    or what is missing, in plain words; ``refusal``: the sentence approval is refused with."""

    code: str
    label: str
    met: bool
    detail: str
    refusal: str


def agreement_approval_prerequisites(agreement: Agreement) -> list[Prerequisite]:
    """Everything approval needs, each with its state — the one rule that ``agreement_approve``
    enforces and the agreement page shows as a checklist (all at once, not one refusal per click).

    The order is the order a DPO works through them, and the first unmet one gives the refusal's code.
    """
    from governance.dpia.rules import agreement_dpia_problem

    notified = bool(agreement.regulator_notified_on)
    countersigned = bool(agreement.countersigned_at)
    signed = bool(agreement.signed_document)
    dpia_problem = agreement_dpia_problem(agreement)
    return [
        Prerequisite(
            "regulator_not_notified",
            "Regulator notified",
            notified,
            (
                f"Notified on {agreement.regulator_notified_on:%d %B %Y}, reference "
                f"{agreement.regulator_notification_reference}, by {agreement.regulator_notified_by}."
                if notified
                else "Record the notification to the regulator: its date, reference and who sent it."
            ),
            "Approval is refused until the regulator notification is recorded (date, reference, who sent it).",
        ),
        Prerequisite(
            "not_countersigned",
            "Countersigned by the operator",
            countersigned,
            (
                f"Countersigned by {agreement.countersigned_by or 'the operator'} on "
                f"{agreement.countersigned_at:%d %B %Y}."
                if countersigned
                else f"A data protection officer of {agreement.receiving_organisation} must countersign it"
                + (" once it is submitted." if agreement.status == AgreementStatus.DRAFT else ".")
            ),
            "Approval is refused until the operator has countersigned.",
        ),
        Prerequisite(
            "no_signed_document",
            "Signed document attached",
            signed,
            (
                "A signed copy is held in the register."
                if signed
                else "Attach the signed agreement as a PDF (download the draft for signature from this page)."
            ),
            "Approval is refused until the signed document is attached.",
        ),
        Prerequisite(
            dpia_problem.code if dpia_problem else "dpia_missing",
            "DPIA approved and in force",
            dpia_problem is None,
            "An approved, in-date DPIA covers this agreement." if dpia_problem is None else dpia_problem.message,
            dpia_problem.message if dpia_problem else "",
        ),
    ]


def agreement_approval_missing(agreement: Agreement) -> list[Prerequisite]:
    return [p for p in agreement_approval_prerequisites(agreement) if not p.met]


def agreement_review_blind_problem(agreement: Agreement) -> str | None:
    """Terms under which an alert could be reviewed with no reviewer ever shown the reference face.

    DOMAIN.md (UK GDPR Art. 22; DPA 2018 ss.49-50): *a decision is "solely automated" when there is no
    meaningful human involvement. A reviewer who confirms a match without seeing the reference image is
    not meaningful involvement.* The supplying side's police reviewers always see their own image; the
    operator's reviewers only where ``operator_reviewers_see_image`` says so. Without that term and
    without ``police_reviewer_required``, no reviewer the terms guarantee would ever be shown the enrolled
    image: such terms cannot be approved. Returns the refusal's sentence, or None when the terms are sound.
    """
    if agreement.operator_reviewers_see_image or agreement.police_reviewer_required:
        return None
    return (
        "Approval is refused: under these terms no reviewer of an alert would be shown the enrolled watchlist "
        "image (the operator's reviewers may not see it and no police reviewer is required). Let the operator's "
        "reviewers see the image, or require a police reviewer."
    )
