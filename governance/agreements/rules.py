"""The rules an agreement must satisfy, each named so it can be found from DOMAIN.md.

``agreement_rule_breaches`` evaluates them against any agreement — including one recorded
retrospectively, like King's Cross 2016-2018 — so the register can show exactly what is wrong.
The lifecycle services enforce the same rules before they let an agreement move forward.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from governance.agreements.models import Agreement, AgreementStatus, CustodyCategory

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


# --- who may be on a watchlist ------------------------------------------------------------------------

APP_WATCHLIST_CATEGORIES: tuple[str, ...] = (
    CustodyCategory.WANTED,
    CustodyCategory.SUSPECT,
    CustodyCategory.MISSING,
    CustodyCategory.VULNERABLE,
    CustodyCategory.RISK_OF_HARM,
)
CUSTODY_2016_CATEGORIES: tuple[str, ...] = (
    CustodyCategory.ARRESTED,
    CustodyCategory.CHARGED,
    CustodyCategory.CAUTIONED,
    CustodyCategory.REPRIMANDED,
    CustodyCategory.FORMAL_WARNING,
)
APP_CATEGORY_RULE = (
    "College of Policing APP on live facial recognition: a watchlist may hold only people wanted by the police or "
    "the courts, suspects, missing people, vulnerable people, and people posing a risk of harm to themselves or "
    "others. The 2016 King's Cross custody categories (arrested, charged, cautioned, reprimanded, formal warning) "
    "are not APP categories."
)


def non_app_categories(categories, *, agreement: Agreement | None = None) -> list[str]:
    """The watchlist categories among ``categories`` that the APP does not allow.

    College of Policing APP (live facial recognition): the watchlist categories are "wanted by the
    police or the courts; suspects; missing people; vulnerable people; people posing a risk of harm
    to themselves or others". Every new agreement and every upload uses only these; the 2016 custody
    categories stay only on the records of an agreement entered retrospectively (King's Cross), where
    ``agreement_rule_breaches`` shows them as a rule it broke. ``agreement``: the agreement the
    categories are used under (its historical record may hold them).
    """
    if agreement is not None and agreement.recorded_retrospectively:
        return []
    return [c for c in categories if c not in APP_WATCHLIST_CATEGORIES]


def category_labels(categories) -> str:
    labels = dict(CustodyCategory.choices)
    return ", ".join(str(labels.get(c, c)).lower() for c in categories)


# --- bounded retention --------------------------------------------------------------------------------

# Met LFR policy (DOMAIN.md, "Retention in practice"): alert data kept up to 31 days; watchlist data
# deleted within 24 hours after a deployment ends.
MAX_ALERT_RETENTION_DAYS = 31
MAX_WATCHLIST_ERASURE_HOURS = 24


@dataclass(frozen=True)
class TermProblem:
    field: str
    code: str
    message: str


def retention_term_problems(
    agreement: Agreement, *, match_retention_days: int | None = None, watchlist_erasure_hours: int | None = None
) -> list[TermProblem]:
    """The retention terms' bounds, one rule for the form, the API and the services.

    Met LFR policy: "alert data and footage kept up to 31 days unless needed for a specific purpose";
    "watchlist data deleted within 24 hours after a deployment ends". A longer term is allowed only
    where the supplying force's DPO approved it with a recorded reason (``retention_extension_*``),
    and only up to what they approved. 0 is never a term: it would erase an alert before anyone
    reviewed it, and a watchlist before the deployment that needs it ended. The values default to
    the agreement's own; pass them to check a change before it is made.
    """
    days = agreement.match_retention_days if match_retention_days is None else match_retention_days
    hours = agreement.watchlist_erasure_hours if watchlist_erasure_hours is None else watchlist_erasure_hours
    if agreement.recorded_retrospectively:
        return []
    approved_days = agreement.retention_extension_match_days or MAX_ALERT_RETENTION_DAYS
    approved_hours = agreement.retention_extension_watchlist_hours or MAX_WATCHLIST_ERASURE_HOURS
    problems = []
    if days is not None and days < 1:
        problems.append(
            TermProblem("match_retention_days", "retention_zero", "Alert retention must be at least 1 day.")
        )
    elif days is not None and days > max(MAX_ALERT_RETENTION_DAYS, approved_days):
        problems.append(
            TermProblem(
                "match_retention_days",
                "alert_retention_too_long",
                f"Alert data may be kept at most {MAX_ALERT_RETENTION_DAYS} days (Met LFR policy) unless the "
                "supplying force's DPO approves a longer term with a reason"
                + (f" (approved: {approved_days} days)." if agreement.retention_extension_match_days else "."),
            )
        )
    if hours is not None and hours < 1:
        problems.append(
            TermProblem("watchlist_erasure_hours", "retention_zero", "Watchlist erasure must allow at least 1 hour.")
        )
    elif hours is not None and hours > max(MAX_WATCHLIST_ERASURE_HOURS, approved_hours):
        problems.append(
            TermProblem(
                "watchlist_erasure_hours",
                "watchlist_erasure_too_long",
                f"Watchlist data must be erased within {MAX_WATCHLIST_ERASURE_HOURS} hours after a deployment ends "
                "(Met LFR policy) unless the supplying force's DPO approves a longer term with a reason"
                + (f" (approved: {approved_hours} hours)." if agreement.retention_extension_watchlist_hours else "."),
            )
        )
    return problems


def retention_extension_text(agreement: Agreement) -> str:
    """What every report says about a longer term than the bounds ("" when none was approved)."""
    if not agreement.retention_extension_approved_at:
        return ""
    parts = []
    if agreement.retention_extension_match_days:
        parts.append(f"alert data up to {agreement.retention_extension_match_days} days")
    if agreement.retention_extension_watchlist_hours:
        parts.append(f"watchlist erasure within {agreement.retention_extension_watchlist_hours} hours")
    return (
        f"Longer retention approved by {agreement.retention_extension_approved_by_name} (supplying force DPO) on "
        f"{agreement.retention_extension_approved_at:%d %B %Y}: {', '.join(parts)}. "
        f"Reason: {agreement.retention_extension_reason}"
    )


# --- the regulator was told --------------------------------------------------------------------------


def agreement_is_notified(agreement: Agreement) -> bool:
    """Was the agreement notified to a regulator? Only when a regulator organisation was named: a
    date and a reference alone say nothing about who was told (Surveillance Camera Code principles 3
    and 10; the King's Cross deal was never reported to the Surveillance Camera Commissioner)."""
    return bool(agreement.regulator_notified_on and agreement.regulator_id)


# --- the operator's legal basis ----------------------------------------------------------------------


@dataclass(frozen=True)
class LegalBasisProblem:
    code: str
    message: str


def operator_legal_basis_problems(agreement: Agreement) -> list[LegalBasisProblem]:
    """What the operator's own lawful basis lacks before it may scan faces under this agreement.

    DOMAIN.md: "A private operator scanning faces is itself a controller under UK GDPR: it needs an
    Art. 6 basis, an Art. 9 condition (Schedule 1, e.g. substantial public interest: preventing
    crime) and its own appropriate policy document (Schedule 1 Part 4)." Each missing piece is one
    problem, named; recognition's go-live refuses while any remains.
    """
    from governance.dpia.rules import approved_policy_document

    problems = []
    operator = agreement.receiving_organisation
    if not agreement.operator_article6_basis:
        problems.append(
            LegalBasisProblem(
                "operator_article6_missing",
                f"{operator}'s UK GDPR Art. 6 lawful basis is not recorded on the agreement.",
            )
        )
    if not agreement.operator_article9_condition:
        problems.append(
            LegalBasisProblem(
                "operator_article9_missing",
                f"{operator}'s UK GDPR Art. 9 condition for biometric data is not recorded on the agreement.",
            )
        )
    if not agreement.operator_schedule1_condition:
        problems.append(
            LegalBasisProblem(
                "operator_schedule1_missing",
                f"{operator}'s DPA 2018 Schedule 1 condition is not recorded on the agreement.",
            )
        )
    if approved_policy_document([agreement.receiving_organisation_id]) is None:
        problems.append(
            LegalBasisProblem(
                "operator_policy_missing",
                f"{operator} has no approved appropriate policy document (DPA 2018 Sch. 1 Part 4).",
            )
        )
    return problems


def supplier_policy_problem(agreement: Agreement) -> str | None:
    """DPA 2018 s.42: sensitive processing for law enforcement needs an appropriate policy document
    "in place" — the supplying force's, approved and in date, before its images are shared. Returns
    the refusal (``None``: there is one)."""
    from governance.dpia.rules import approved_policy_document

    force = agreement.supplying_force or agreement.supplying_organisation
    if approved_policy_document([force.pk, agreement.supplying_organisation_id]) is None:
        return (
            f"{force} has no approved, in-date appropriate policy document (DPA 2018 s.42); approval is refused "
            "until its DPO approves one."
        )
    return None


# The Data Protection Act 2018 (Part 3, law enforcement processing) and the GDPR applied from this day; before it
# the Data Protection Act 1998 did, which had no biometric-specific condition, s.35 or Schedule 8.
DPA_2018_COMMENCED = date(2018, 5, 25)


def agreement_made_under_dpa1998(agreement: Agreement) -> bool:
    """Was this agreement made under the Data Protection Act 1998? Only a retrospective record of an agreement
    that started before 25 May 2018 (King's Cross 2016): its page shows the law of its time, not today's
    lawful basis fields and safeguards as if they had been agreed then."""
    return agreement.recorded_retrospectively and agreement.starts_on < DPA_2018_COMMENCED


# Fields a drafter provides; lifecycle fields are set only by the agreement services.
EDITABLE_FIELDS: tuple[str, ...] = (
    "title",
    "supplying_organisation",
    "receiving_organisation",
    "purpose",
    "data_items",
    "lawful_basis",
    "schedule8_condition",
    "special_category_data",
    "permitted_custody_categories",
    "max_images",
    "starts_on",
    "ends_on",
    "review_on",
    "match_retention_days",
    "watchlist_erasure_hours",
    "operator_article6_basis",
    "operator_article9_condition",
    "operator_schedule1_condition",
    "police_reviewer_required",
    "operator_reviewers_see_image",
    "individual_rights",
    "security_measures",
    "breach_handling",
    "termination_terms",
    "sanctions",
)

# The terms a signature covers: the parties and every agreed content (the drafter's fields and an approved retention
# extension), not the lifecycle facts, not the document.
AGREEMENT_TERMS_FIELDS = (
    *(
        f"{name}_id" if name in ("supplying_organisation", "receiving_organisation") else name
        for name in EDITABLE_FIELDS
    ),
    "retention_extension_match_days",
    "retention_extension_watchlist_hours",
)


def agreement_terms_digest(agreement: Agreement) -> str:
    """SHA-256 of the agreement's terms (``AGREEMENT_TERMS_FIELDS``, canonical JSON): what a signature covers."""
    terms = {name: getattr(agreement, name) for name in AGREEMENT_TERMS_FIELDS}
    text = json.dumps(terms, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def signed_document_is_current(agreement: Agreement) -> bool:
    """Is a signed document held that was signed against the agreement's current terms? The one rule for
    "signed": approval gates and the rule breaches use it. A copy attached before terms were recorded
    (no digest) is taken as signed against its terms, as it was then."""
    if not agreement.signed_document:
        return False
    return not agreement.signed_terms_digest or agreement.signed_terms_digest == agreement_terms_digest(agreement)


def signed_document_outdated(agreement: Agreement) -> bool:
    """A signed document is held, but the terms changed since it was signed: re-sign needed."""
    return bool(agreement.signed_document) and not signed_document_is_current(agreement)


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
    if went_live and not agreement_is_notified(agreement):
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
    if went_live and not signed_document_is_current(agreement):
        breaches.append(
            RuleBreach(
                "no_signed_document",
                "No signed document",
                "The signed copy held was signed against earlier terms."
                if agreement.signed_document
                else "No signed copy of the agreement is held in the register.",
            )
        )
    custody = [c for c in agreement.permitted_custody_categories if c not in APP_WATCHLIST_CATEGORIES]
    if custody:
        breaches.append(
            RuleBreach(
                "custody_categories_not_app",
                "Watchlist categories outside the APP",
                f"It permitted images of people {category_labels(custody)}. " + APP_CATEGORY_RULE,
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

    notified = agreement_is_notified(agreement)
    supplier_policy = supplier_policy_problem(agreement)
    countersigned = bool(agreement.countersigned_at)
    signed = signed_document_is_current(agreement)
    dpia_problem = agreement_dpia_problem(agreement)
    return [
        Prerequisite(
            "regulator_not_notified",
            "Regulator notified",
            notified,
            (
                f"Notified to {agreement.regulator} on {agreement.regulator_notified_on:%d %B %Y}, reference "
                f"{agreement.regulator_notification_reference}, by {agreement.regulator_notified_by}."
                if notified
                else "Record the notification to the regulator: which regulator, its date, reference and who sent it."
            ),
            "Approval is refused until the regulator notification is recorded (regulator, date, reference, who sent "
            "it).",
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
                "A signed copy of the current terms is held in the register."
                if signed
                else "The signed copy was signed against earlier terms — re-sign needed: attach a copy signed "
                "against the current terms."
                if agreement.signed_document
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
        Prerequisite(
            "supplier_policy_missing",
            "Supplying force's appropriate policy document",
            supplier_policy is None,
            "The supplying force has an approved appropriate policy document (s.42)."
            if supplier_policy is None
            else supplier_policy,
            supplier_policy or "",
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
