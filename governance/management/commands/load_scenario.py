"""Load the King's Cross scenario through the services, so its audit trail is real.

Idempotent: does nothing if the scenario's organisations already exist. Demo users get the demo
password only outside production mode; in production the command refuses to create logins.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from governance.agreements import services as agreements
from governance.agreements.documents import agreement_render_pdf
from governance.agreements.models import AgreementStatus
from governance.organisations.models import Organisation, User
from governance.organisations.roles import Role
from governance.organisations.services import organisation_create, user_create
from governance.scenario_registry import ScenarioContext, scenario_steps

DEMO_PASSWORD = "oversight-demo-2026"
SCENARIO_FILE = settings.BASE_DIR / "fixtures" / "kings_cross.json"


class Command(BaseCommand):
    help = "Load the King's Cross scenario (organisations, demo users, agreements) through the services."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(SCENARIO_FILE))

    def handle(self, *args, file: str, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo scenario and its logins are never loaded in production mode.")
        scenario = json.loads(Path(file).read_text())
        first = scenario["organisations"][0]["short_name"]
        if Organisation.objects.filter(short_name=first).exists():
            self.stdout.write("Scenario already loaded.")
            return
        with transaction.atomic():
            orgs = self._organisations(scenario)
            users = self._users(scenario, orgs)
            self._historical(scenario, orgs)
            self._current(scenario, orgs, users)
            self._kings_cross_images(orgs)
            self._current_watchlist(users)
            self._principle_commentary(scenario, users)
        # Enrolment ran on commit (in-process on the embedded default); now the other apps' steps run
        # (recognition's deployment is reviewed against exactly the enrolled images and goes live).
        context = ScenarioContext(
            organisations=orgs,
            users=users,
            current_agreement=self._current_agreement(),
            dpia=getattr(self, "_dpia", None),
            enrolment_finished=self._enrolment_finished,
            say=self.stdout.write,
        )
        for step in scenario_steps():
            step.run(context)
        self.stdout.write(
            self.style.SUCCESS(f"King's Cross scenario loaded: {len(orgs)} organisations, {len(users)} users.")
        )

    def _organisations(self, scenario) -> dict[str, Organisation]:
        orgs: dict[str, Organisation] = {}
        for item in scenario["organisations"]:
            orgs[item["short_name"]] = organisation_create(
                actor=None,
                name=item["name"],
                short_name=item["short_name"],
                kind=item["kind"],
                parent=orgs.get(item.get("parent")) if item.get("parent") else None,
                # The public contact point (transparency page, certificates, the subject's door).
                contact_email=item.get("contact_email", ""),
            )
        return orgs

    def _users(self, scenario, orgs) -> dict[str, User]:
        users = {}
        for item in scenario["users"]:
            users[item["username"]] = user_create(
                actor=None,
                username=item["username"],
                organisation=orgs[item["organisation"]],
                roles=[Role(r) for r in item["roles"]],
                password=DEMO_PASSWORD,
                first_name=item["first_name"],
                last_name=item["last_name"],
                job_title=item["job_title"],
                rank=item.get("rank", ""),
            )
        return users

    def _terms(self, scenario, item, orgs) -> dict:
        terms = dict(scenario["common_terms"])
        terms["operator_reviewers_see_image"] = bool(item.get("operator_reviewers_see_image", False))
        # Each agreement's own watchlist categories (the 2016 custody ones stay on the historical records) and,
        # for the current agreements, the operator's own UK GDPR basis (Art. 6, Art. 9, Sch. 1).
        for key in (
            "permitted_custody_categories",
            # The 2016 record states the law and terms of its time (DPA 1998), not the common modern ones.
            "purpose",
            "data_items",
            "special_category_data",
            "operator_article6_basis",
            "operator_article9_condition",
            "operator_schedule1_condition",
        ):
            if key in item:
                terms[key] = item[key]
        for key in (
            "title",
            "max_images",
            "police_reviewer_required",
            "individual_rights",
            "security_measures",
            "breach_handling",
            "termination_terms",
            "sanctions",
        ):
            terms[key] = item[key]
        terms["supplying_organisation"] = orgs[item["supplying_organisation"]]
        terms["receiving_organisation"] = orgs[item["receiving_organisation"]]
        today = timezone.localdate()
        for key in ("starts_on", "ends_on", "review_on"):
            if key in item:
                terms[key] = date.fromisoformat(item[key])
            else:
                terms[key] = today + timedelta(days=item[f"{key}_offset_days"])
        return terms

    def _historical(self, scenario, orgs) -> None:
        for item in scenario["historical_agreements"]:
            agreements.agreement_record_historical(
                actor=None,
                fields=self._terms(scenario, item, orgs),
                status=AgreementStatus(item["status"]),
                approving_organisation=orgs[item["approving_organisation"]],
                approved_by_name=item["approved_by_name"],
                historical_notes=item["historical_notes"],
                reference=item["reference"],
                termination_reason=item.get("termination_reason", ""),
            )

    def _current(self, scenario, orgs, users) -> None:
        from governance.dpia.scenario import scenario_policy_documents

        estate_dpo = users["dpo.estate"]
        for item in scenario["current_agreements"]:
            agreement = agreements.agreement_draft(
                actor=users[item["drafted_by"]], fields=self._terms(scenario, item, orgs)
            )
            agreements.agreement_record_regulator_notification(
                actor=estate_dpo,
                agreement=agreement,
                notified_on=timezone.localdate(),  # the day it is drafted and sent, never before
                reference=f"BSCC-{agreement.reference}",
                notified_by=str(estate_dpo),
                regulator=orgs[item["regulator"]],
            )
            pdf = agreement_render_pdf(agreement=agreement)
            agreements.agreement_attach_signed_document(
                actor=estate_dpo,
                agreement=agreement,
                document=SimpleUploadedFile("signed.pdf", pdf, content_type="application/pdf"),
            )
            agreement = agreements.agreement_submit(actor=estate_dpo, agreement=agreement)
            # DPIAs (governance.dpia.scenario): approved for the Met agreement before the force approves it;
            # a draft for the BTP one, whose high residual risk waits for prior consultation.
            from governance.dpia.scenario import (
                scenario_dpia_awaiting_consultation,
                scenario_dpia_for_agreement,
            )

            if item["lifecycle"] == "active":
                self._dpia = scenario_dpia_for_agreement(actor=estate_dpo, agreement=agreement)
            else:
                scenario_dpia_awaiting_consultation(actor=estate_dpo, agreement=agreement)
            if item["lifecycle"] == "active":
                # The supplying force's s.42 document (approval needs it) and the operator's own (go-live needs it).
                scenario_policy_documents(scenario=scenario, users=users, agreements=[agreement])
                agreements.agreement_countersign(actor=estate_dpo, agreement=agreement)
                force_dpo = next(
                    u for u in users.values() if u.organisation == agreement.supplying_force and u.has_role(Role.DPO)
                )
                agreements.agreement_approve(actor=force_dpo, agreement=agreement)

    def _kings_cross_images(self, orgs) -> None:
        """The seven images' provenance (watchlist ledger), with stand-in bytes where the dev face set exists."""
        from governance.agreements.models import Agreement
        from governance.watchlist.scenario import load_kings_cross_images

        agreement = Agreement.objects.get(reference="KX-2016-BCU", version=1)
        count, with_bytes = load_kings_cross_images(
            agreement=agreement, supplier=orgs["met-camden"], faces_dir=settings.FACES_DIR
        )
        if with_bytes < count:
            self.stdout.write(
                f"Note: {settings.FACES_DIR / 'dev'} not found; the {count} King's Cross images were "
                f"recorded with provenance only ({with_bytes} with image bytes)."
            )
        else:
            self.stdout.write(f"{count} King's Cross watchlist images recorded (stand-in faces from the dev set).")

    # Stand-in faces for the current agreement's watchlist (pseudonymous references, never names): other photos
    # than the seven 2016 images (governance.watchlist.scenario), so no current image repeats a 2016 one.
    CURRENT_WATCHLIST = (
        ("Kofi_Annan/Kofi_Annan_0002.jpg", "MET-W-0001"),
        ("Jennifer_Lopez/Jennifer_Lopez_0001.jpg", "MET-W-0002"),
        ("Arnold_Schwarzenegger/Arnold_Schwarzenegger_0001.jpg", "MET-W-0003"),
    )

    def _principle_commentary(self, scenario, users) -> None:
        """The estate DPO's commentary on the twelve principles, as a pack would carry it."""
        from governance.reports.pack import principle_commentary_set

        commentary = scenario.get("principle_commentary")
        if not commentary:
            return
        for number, text in commentary["texts"].items():
            principle_commentary_set(actor=users[commentary["dpo"]], principle=int(number), text=text)

    def _current_agreement(self):
        from governance.agreements.models import Agreement

        return Agreement.objects.get(status=AgreementStatus.ACTIVE, supplying_organisation__short_name="met")

    def _current_watchlist(self, users) -> None:
        """Three images uploaded by Camden's submitter under the active Met agreement (enrolled on commit)."""
        from governance.watchlist.services import Provenance, watchlist_image_upload

        faces = settings.FACES_DIR / "dev"
        if not faces.is_dir():
            self.stdout.write(f"Note: {faces} not found; the live deployment has no watchlist images.")
            return
        agreement = self._current_agreement()
        for photo, reference in self.CURRENT_WATCHLIST:
            watchlist_image_upload(
                actor=users["submitter.camden"],
                agreement_id=agreement.pk,
                image_bytes=(faces / photo).read_bytes(),
                provenance=Provenance(
                    subject_reference=reference,
                    custody_category="wanted",
                    custody_reference=f"CUST/{reference[-4:]}/2026",
                    image_taken_on=timezone.localdate() - timedelta(days=45),
                ),
            )

    ENROLMENT_WAIT_SECONDS = 600

    def _enrolment_finished(self) -> bool:
        """With real workers (a broker set) enrolment runs elsewhere after the upload commits: wait for
        it, so the watchlist review covers the enrolled images instead of none (in-process, it is done)."""
        import time

        from config.celery import app
        from governance.watchlist.models import ImageStatus, WatchlistImage

        if app.conf.task_always_eager:
            return True  # in-process: enrolment already ran on commit (or failed, and waiting cannot help)
        pending = WatchlistImage.objects.filter(status=ImageStatus.RECEIVED, recorded_retrospectively=False)
        deadline = time.monotonic() + self.ENROLMENT_WAIT_SECONDS
        waited = False
        while pending.exists():
            if time.monotonic() > deadline:
                return False
            if not waited:
                self.stdout.write(f"Waiting for the workers to enrol {pending.count()} watchlist images...")
                waited = True
            time.sleep(2)
        return True
