"""Registers recognition's face reader, face redactor and subject-data providers with governance
(``governance.subject_access.registry``); imported once by ``DeploymentsConfig.ready``."""

from __future__ import annotations

from governance.subject_access.registry import (
    SubjectDataProvider,
    face_reader_register,
    face_redactor_register,
    subject_data_provider_register,
)
from recognition.deployments.access import alerts_visible_to
from recognition.deployments.subject_access.alerts import alert_compile, alert_erase, alert_supplied_by, alerts_search
from recognition.deployments.subject_access.face_templates import (
    template_compile,
    templates_search,
    templates_visible_to,
)
from recognition.deployments.subject_access.faces import face_read, face_redact

face_reader_register(face_read)
face_redactor_register(face_redact)
subject_data_provider_register(
    SubjectDataProvider(
        kind="alert",
        title="Alerts",
        section="Alerts",
        search=alerts_search,
        compile=alert_compile,
        supplied_by=alert_supplied_by,
        visible=lambda actor, ref: (
            ref.key.isascii() and ref.key.isdigit() and alerts_visible_to(actor).filter(pk=int(ref.key[:18])).exists()
        ),
        erase=alert_erase,
    )
)


subject_data_provider_register(
    SubjectDataProvider(
        kind="face-template",
        title="Face templates",
        section="Face templates",
        search=templates_search,
        compile=template_compile,
        visible=lambda actor, ref: (
            ref.key.isascii()
            and ref.key.isdigit()
            and templates_visible_to(actor).filter(pk=int(ref.key[:18])).exists()
        ),
    )
)
