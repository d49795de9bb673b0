"""Web pages: deployments (DPO), the live review queue (reviewers), alerts and disclosures.

Thin: parse → selector → one service → render/redirect. ``ApplicationError``s become a message on
the page (4xx), never a 500; another organisation's object is a 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from governance.access import agreements_visible_to
from governance.audit.consultation import personal_data
from governance.errors import ApplicationError, NotFound, PermissionRefused, StateConflict
from governance.inputs import optional_id
from governance.web.errors import refusal_on_form, refusals_as_pages, refusals_back_to
from governance.web.responses import personal_data_response
from recognition.deployments import (
    access,
    authorisation,
    camera_keys,
    consultation,
    review_desk,
    rules,
    selectors,
)
from recognition.deployments.camera_views import camera_key_confirmation_redirect
from recognition.deployments.models import (
    AlertStatus,
    ContinueDecision,
    DeploymentStatus,
    DisclosureChannel,
    EthnicGroup,
    Outcome,
    RejectionReason,
    ReviewDecision,
)
from recognition.deployments.outcome_corrections import disclosure_correct_outcome
from recognition.deployments.services import disclosure as disclosure_services
from recognition.deployments.services import review as review_services
from recognition.deployments.services.cameras import camera_add
from recognition.deployments.services.golive import deployment_end, deployment_go_live, deployment_pause
from recognition.deployments.services.outcomes import disclosure_record_outcome
from recognition.deployments.services.planning import (
    default_match_threshold,
    deployment_window_problems,
    watchlist_images_for,
    watchlist_review_record,
)
from recognition.deployments.services.review import alert_probe_crop, alert_watchlist_thumbnail
from recognition.deployments.watchlists import deployment_matched_image_ids, deployment_watchlist_summary

# --- deployments -------------------------------------------------------------------------------


class DeploymentForm(forms.Form):
    name = forms.CharField(max_length=200)
    site = forms.CharField(max_length=200)
    purpose = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    agreements = forms.ModelMultipleChoiceField(
        queryset=None, widget=forms.CheckboxSelectMultiple, help_text="Only active agreements with your organisation."
    )
    watchlist_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Who is on the watchlist and why."
    )
    location_justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Why this place and this time."
    )
    match_threshold = forms.FloatField(required=False, min_value=0.01, max_value=1.0)
    threshold_justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    public_notice = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    public_notice_given_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    review_service_level_minutes = forms.IntegerField(
        label="Review service level (minutes)",
        required=False,  # blank: the default
        initial=review_desk.SERVICE_LEVEL_DEFAULT,
        min_value=review_desk.SERVICE_LEVEL_MIN,
        max_value=review_desk.SERVICE_LEVEL_MAX,
        help_text="How long an alert may wait for its reviewers before the review queue marks it overdue.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agreements"].queryset = (
            agreements_visible_to(user).sharing().filter(receiving_organisation=user.organisation)
        )
        self.fields["match_threshold"].help_text = (
            f"Default {default_match_threshold():.2f}. Lower only with a justification; each supplying "
            "force's Authorising Officer authorises the threshold with the rest of the proposal."
        )

    def clean(self):
        cleaned = super().clean()
        for problem in deployment_window_problems(starts_at=cleaned.get("starts_at"), ends_at=cleaned.get("ends_at")):
            self.add_error(problem.field, problem.message)
        for problem in authorisation.deployment_notice_problems(
            starts_at=cleaned.get("starts_at"), notice_given_on=cleaned.get("public_notice_given_on")
        ):
            self.add_error(problem.field, problem.message)
        return cleaned


@login_required
def deployment_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "deployments/deployment_list.html",
        {
            "deployments": access.deployments_visible_to(request.user).order_by("-starts_at"),
            "can_plan": access.can_plan_deployment(request.user),
        },
    )


@login_required
@refusals_as_pages
def deployment_create(request: HttpRequest) -> HttpResponse:
    if not access.can_plan_deployment(request.user):
        raise PermissionRefused("Only an operator's data protection officer can plan a deployment.")
    form = DeploymentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        agreements = list(data.pop("agreements"))
        service_level = data.pop("review_service_level_minutes")
        try:
            deployment = review_desk.deployment_plan_with_service_level(
                actor=request.user, agreements=agreements, fields=data, service_level_minutes=service_level
            )
        except ApplicationError as error:
            refusal_on_form(form, error)
        else:
            messages.success(request, f"Deployment {deployment.reference} planned.")
            return redirect("deployment-detail", deployment.pk)
    return render(request, "deployments/deployment_form.html", {"form": form})


@login_required
@refusals_as_pages
def deployment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.deployment_for(request.user, pk)
    user = request.user
    can_operate = access.can_operate_deployment(user, deployment)
    # Counts follow the viewer (issue 26): a supplying force counts its own images and alerts only.
    covered = list(
        watchlist_images_for(deployment).filter(agreement__in=agreements_visible_to(user)).values_list("pk", flat=True)
    )
    matched = set(deployment_matched_image_ids(deployment.pk)) if deployment.matched_review_id else set()
    authorisation_rows, authorisation_history = authorisation.authorisations_visible_rows(user, deployment)
    alerts = access.alerts_visible_to(user).filter(deployment=deployment)
    figures = selectors.deployment_figures(deployment=deployment)
    if alerts.count() != deployment.alerts.count():
        figures["alerts"] = alerts.count()
    return render(
        request,
        "deployments/deployment_detail.html",
        {
            "deployment": deployment,
            # Only the agreements the reader is party to: one supplier never learns another's agreement.
            "agreements": agreements_visible_to(user).filter(pk__in=deployment.agreements.values("pk")).order_by("pk"),
            "cameras": deployment.cameras.all(),
            "reviews": deployment.watchlist_reviews.all()[:10],
            "figures": figures,
            "alerts": alerts[:50],
            "watchlist_count": len(covered),
            "matched_count": len(matched & set(covered)),
            "awaiting_review_count": len(set(covered) - matched) if deployment.matched_review_id else 0,
            "can_operate": can_operate,
            # The watchlist by supplying force (counts; the force's own page shows its images).
            "watchlist_by_force": deployment_watchlist_summary(
                deployment, force_ids=access.watchlist_force_ids_visible_to(user, deployment)
            ),
            "can_compose_watchlist": access.can_compose_deployment_watchlist(user, deployment),
            "statuses": DeploymentStatus,
            # The police's decisions (recognition.deployments.authorisation).
            "authorisation_rows": authorisation_rows,
            "authorisation_history": authorisation_history,
            "can_authorise": access.can_authorise_deployment(user, deployment),
            "rank_warning": access.can_authorise_deployment(user, deployment) and user.rank_below_superintendent,
            "default_threshold": default_match_threshold(),
            "post_reviews": deployment.post_deployment_reviews.filter(
                force_id__in=[row["force"].pk for row in authorisation_rows]
            ).select_related("force"),
            "post_review_due_on": authorisation.post_deployment_review_due_on(deployment),
            "can_post_review": access.can_review_deployment_afterwards(user, deployment)
            and not deployment.post_deployment_reviews.filter(force_id=user.organisation_id).exists(),
            "continue_choices": ContinueDecision.choices,
            "new_key": request.session.pop("camera_key", None),
        },
    )


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("deployment-detail")
def deployment_action(request: HttpRequest, pk: int) -> HttpResponse:
    deployment = access.deployment_for(request.user, pk)
    action = request.POST.get("action", "")
    if action == "review":
        watchlist_review_record(actor=request.user, deployment=deployment, notes=request.POST.get("notes", ""))
        messages.success(request, "Watchlist review recorded.")
    elif action == "go_live":
        deployment_go_live(actor=request.user, deployment=deployment)
        messages.success(request, "The deployment is live.")
    elif action == "pause":
        deployment_pause(actor=request.user, deployment=deployment, reason=request.POST.get("reason", ""))
        messages.success(request, "Paused. A new watchlist review is needed before going live again.")
    elif action == "end":
        deployment_end(
            actor=request.user,
            deployment=deployment,
            reason=request.POST.get("reason", "") or "Ended by the operator.",
        )
        messages.success(request, "The deployment has ended.")
    elif action == "add_camera":
        camera_add(
            actor=request.user,
            deployment=deployment,
            name=request.POST.get("name", ""),
            location=request.POST.get("location", ""),
            direction=request.POST.get("direction", ""),
        )
        messages.success(request, "Camera added.")
    elif action == "camera_key":
        camera = deployment.cameras.filter(pk=optional_id(request.POST.get("camera"), "camera")).first()
        if camera is None:
            raise NotFound("No such camera.")
        try:
            secret = camera_keys.camera_key_issue_confirmed(
                actor=request.user, camera=camera, confirmed=request.POST.get("confirm") == "yes"
            )
        except StateConflict as refused:
            if refused.code != camera_keys.CONFIRMATION_REQUIRED:
                raise
            return camera_key_confirmation_redirect(camera, "deployment")
        request.session["camera_key"] = {"camera": camera.name, "key": secret}
    else:
        messages.error(request, "Unknown action.")
    return redirect("deployment-detail", deployment.pk)


# --- the Authorising Officer's decisions (recognition.deployments.authorisation) -------------------


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("deployment-detail")
def deployment_authorisation(request: HttpRequest, pk: int) -> HttpResponse:
    """The AO of a supplying force authorises (with reasons on necessity, proportionality, the
    watchlist criteria and the location) or refuses (with reasons) the deployment as it stands."""
    deployment = access.deployment_for(request.user, pk)
    post = request.POST
    if post.get("decision") == "authorise":
        authorisation.deployment_authorise(
            actor=request.user,
            deployment=deployment,
            necessity=post.get("necessity", ""),
            proportionality=post.get("proportionality", ""),
            watchlist_criteria=post.get("watchlist_criteria", ""),
            location=post.get("location", ""),
        )
        messages.success(request, f"You authorised {deployment.reference} for {request.user.organisation}.")
    elif post.get("decision") == "refuse":
        authorisation.deployment_authorisation_refuse(
            actor=request.user, deployment=deployment, reasons=post.get("refusal_reasons", "")
        )
        messages.success(request, f"You refused {deployment.reference} for {request.user.organisation}.")
    else:
        messages.error(request, "Choose to authorise or to refuse.")
    return redirect("deployment-detail", deployment.pk)


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("deployment-detail")
def deployment_post_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The AO's post-deployment review: outcomes, false alerts, issues, whether to continue."""
    deployment = access.deployment_for(request.user, pk)
    post = request.POST
    authorisation.post_deployment_review_record(
        actor=request.user,
        deployment=deployment,
        outcomes=post.get("outcomes", ""),
        false_alerts=post.get("false_alerts", ""),
        issues=post.get("issues", ""),
        continue_decision=post.get("continue_decision", ""),
    )
    messages.success(request, "Post-deployment review recorded.")
    return redirect("deployment-detail", deployment.pk)


# --- review queue ----------------------------------------------------------------------------------


@login_required
@refusals_as_pages
@personal_data(consultation.REVIEWING)
def review_queue(request: HttpRequest) -> HttpResponse:
    if not access.can_review_alerts(request.user):
        raise PermissionRefused("Only reviewers see the review queue.")
    alerts = selectors.review_queue(user=request.user)
    consultation.alerts_listed(request, alerts, event="review_queue.viewed", label="Review queue")
    return render(request, "deployments/review_queue.html", {"alerts": alerts})


@login_required
@require_GET
@refusals_as_pages
@personal_data(consultation.REVIEWING)
def review_queue_json(request: HttpRequest) -> JsonResponse:
    """Polled every ~2 s by the queue page. Holds no image and no other reviewer's decision. A poll is
    recorded when it shows alerts this session's last recorded poll did not (no event every 2 s)."""
    if not access.can_review_alerts(request.user):
        raise PermissionRefused("Only reviewers see the review queue.")
    alerts = selectors.review_queue(user=request.user)
    consultation.alerts_polled(request, alerts)
    response = JsonResponse({"alerts": alerts})
    response["Cache-Control"] = "no-store"
    return response


@login_required
@refusals_as_pages
@personal_data(consultation.alert_purpose_kind)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The alert and, for its reviewers, the two faces side by side. The images are not in the page: each
    comes from its own endpoint (``alert_crop_image``, ``alert_reference_image``), whose service records
    that it was shown to this reviewer; the page says what the records hold so far."""
    alert = access.alert_for(request.user, pk)
    consultation.alert_consulted(request, alert)
    user = request.user
    can_review = access.can_review_alert(user, alert)
    show_images = can_review and not alert.erased_at and bool(alert.probe_crop)
    image_note = watchlist_note = ""
    if can_review and not show_images:
        image_note = "The alert's images were erased when its retention period ended; the record remains."
    stored = show_images and selectors.alert_reference_stored(alert)
    show_reference = stored and access.can_see_watchlist_thumbnail(user, alert)
    if show_images and not show_reference:
        watchlist_note = (
            "The watchlist image was erased; only its provenance remains."
            if not stored
            else f"Agreement {alert.agreement.reference} does not let the operator's reviewers see watchlist images."
        )
    reviews = selectors.alert_reviews_visible(user=user, alert=alert)
    decided = alert.reviews.filter(reviewer=user).exists()
    disclosures = list(alert.disclosures.prefetch_related("outcome_corrections"))
    pending = can_review and alert.status == AlertStatus.PENDING and not decided and not alert.erased_at
    response = render(
        request,
        "deployments/alert_detail.html",
        {
            "alert": alert,
            "show_images": show_images,
            "show_reference": show_reference,
            "shown": rules.shown_to(alert=alert, reviewer=user) if can_review else None,
            "reviews": reviews,
            "decided": decided,
            "image_note": image_note,
            "watchlist_note": watchlist_note,
            "can_review": pending,
            "can_confirm": pending and show_reference,
            "can_disclose": access.can_disclose_alert(user, alert),
            "recipients": access.disclosure_recipients(alert),
            "channels": DisclosureChannel.choices,
            "reasons": RejectionReason.choices,
            "disclosures": [(d, access.can_report_outcome(user, d)) for d in disclosures],
            "outcomes": Outcome.choices,
            "ethnic_groups": EthnicGroup.choices,
            "can_see_deployment": access.can_see_alert_deployment(user, alert),
        },
    )
    response["Cache-Control"] = "no-store"
    return response


def alert_jpeg(request: HttpRequest, pk: int, *, to: str, read) -> HttpResponse:
    """One of an alert's images for a reviewer allowed ``to`` see it (``access.alert_for``); ``read`` is the service
    that records the showing and audits it. An image already erased is a 404. Served afresh (and recorded) on every
    view, never from a cache."""
    alert = access.alert_for(request.user, pk, to=to)
    try:
        data = read(actor=request.user, alert=alert)
    except StateConflict as gone:
        raise NotFound(gone.message) from gone
    return personal_data_response(data, "image/jpeg")


@login_required
@require_GET
@refusals_as_pages
def alert_crop_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The camera crop, served to a reviewer of the alert."""
    return alert_jpeg(request, pk, to="crop", read=alert_probe_crop)


@login_required
@require_GET
@refusals_as_pages
def alert_reference_image(request: HttpRequest, pk: int) -> HttpResponse:
    """The enrolled watchlist face, served to a reviewer allowed to see it."""
    return alert_jpeg(request, pk, to="thumbnail", read=alert_watchlist_thumbnail)


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("alert-detail")
def alert_review(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access.alert_for(request.user, pk)
    decision = request.POST.get("decision", "")
    try:
        alert = review_services.alert_review(
            actor=request.user,
            alert=alert,
            decision=decision,
            reason=request.POST.get("reason", ""),
            notes=request.POST.get("notes", ""),
        )
    except PermissionRefused as error:  # these two refusals the reviewer can put right on the alert's page
        if error.code in {"police_reviewer_required", "reference_not_shown"}:
            messages.error(request, error.message)
            return redirect("alert-detail", pk)
        raise
    label = dict(ReviewDecision.choices)[decision].split(":")[0]
    messages.success(
        request, f"Your decision ({label.lower()}) is recorded. The alert is {alert.get_status_display().lower()}."
    )
    return redirect("alert-detail", pk)


@login_required
@require_POST
@refusals_as_pages
@refusals_back_to("alert-detail")
def alert_disclose(request: HttpRequest, pk: int) -> HttpResponse:
    alert = access.alert_for(request.user, pk)
    chosen = request.POST.get("recipient_organisation") or ""
    organisation = next((o for o in access.disclosure_recipients(alert) if str(o.pk) == chosen), None)
    if organisation is None:
        messages.error(request, "Choose the receiving force or unit.")
        return redirect("alert-detail", pk)
    disclosure_services.alert_disclose(
        actor=request.user,
        alert=alert,
        recipient_organisation=organisation,
        recipient=request.POST.get("recipient", ""),
        channel=request.POST.get("channel", ""),
        justification=request.POST.get("justification", ""),
    )
    messages.success(request, f"Disclosed to {organisation}. The disclosure is in the audit log.")
    return redirect("alert-detail", pk)


@login_required
@personal_data(consultation.disclosure_purpose_kind)
def disclosure_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    disclosures = list(access.disclosures_visible_to(user).select_related("alert__supplying_organisation")[:200])
    consultation.disclosures_listed(request, disclosures, event="disclosures.listed")
    return render(
        request,
        "deployments/disclosure_list.html",
        {
            "disclosures": [(d, access.can_report_outcome(user, d) and not d.outcome) for d in disclosures],
            "outcomes": Outcome.choices,
            "ethnic_groups": EthnicGroup.choices,
        },
    )


@login_required
@require_POST
@refusals_as_pages
def disclosure_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    """Police record what they did with a disclosure (the same service as the API's outcome endpoint)."""
    disclosure = access.disclosure_for(request.user, pk, to="report_outcome")
    back = request.POST.get("next") if request.POST.get("next") in {"alert", "list"} else "list"
    try:
        disclosure_record_outcome(
            actor=request.user,
            disclosure=disclosure,
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
            ethnic_group=request.POST.get("ethnic_group", ""),
        )
    except (NotFound, PermissionRefused):
        raise
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Outcome recorded for disclosure #{disclosure.pk}.")
    return redirect("alert-detail", disclosure.alert_id) if back == "alert" else redirect("disclosure-list")


@login_required
@require_POST
@refusals_as_pages
def disclosure_outcome_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """The supplying side corrects a reported outcome with a reason; the old value is kept (``outcome_corrections``)."""
    disclosure = access.disclosure_for(request.user, pk, to="report_outcome")
    # A refusal (no reason, unknown outcome, nothing reported yet) is answered with its status, code and sentence.
    disclosure_correct_outcome(
        actor=request.user,
        disclosure=disclosure,
        outcome=request.POST.get("outcome", ""),
        notes=request.POST.get("notes", ""),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, f"Outcome of disclosure #{disclosure.pk} corrected; the earlier one is kept.")
    return redirect("alert-detail", disclosure.alert_id)
