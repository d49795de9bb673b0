"""The response as documents: a PDF for the data subject (WeasyPrint through ``governance.pdf``:
cover letter, contents, sections, images embedded, page numbers) and the same content as JSON
beside it (machine-readable: UK GDPR Art. 15(3) "commonly used electronic form")."""

from __future__ import annotations

import base64
import json

from django.template.loader import render_to_string

from governance.pdf import render_pdf
from governance.subject_access.compile import SubjectResponse

RESTRICTIONS_STATEMENT = (
    "Where the law allows a controller to restrict a subject's access — to avoid obstructing an inquiry or "
    "prejudicing the prevention, detection or investigation of offences, or to protect public or national "
    "security or the rights of others (DPA 2018 s.45(4); for UK GDPR processing, DPA 2018 Sch. 2) — we may "
    "withhold information, and we may neither confirm nor deny whether we hold it. Where we withhold something "
    "and can say so, it is listed in this section with the reason. You may complain to the Information "
    "Commissioner about any restriction, ask the Commissioner to check that a DPA 2018 Part 3 restriction is "
    "lawful (s.51), and apply to a court (s.167)."
)


def _data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def response_context(response: SubjectResponse) -> dict:
    sections = []
    for number, (title, items) in enumerate(response.sections.items(), start=3):
        rows = []
        for item in items:
            pictures = [
                {"caption": p.caption, "src": _data_uri(p.jpeg) if p.jpeg else "", "withheld": p.withheld_reason}
                for p in item.pictures
            ]
            rows.append({"item": item, "pictures": pictures})
        sections.append({"number": number, "anchor": f"s{number}", "title": title, "rows": rows})
    last = 3 + len(sections)
    return {
        "response": response,
        "request": response.request,
        "organisation": response.request.organisation,
        "sections": sections,
        "events_number": last,
        "withheld_number": last + 1,
        "non_match_number": last + 2,
        "restrictions_statement": RESTRICTIONS_STATEMENT,
        "proofs_number": last + 3,
        "proof_head": response.proofs.get("head") if response.proofs else None,
        "proof_keys": list(response.proofs.get("public_keys", {}).items()) if response.proofs else [],
    }


def response_pdf(response: SubjectResponse) -> bytes:
    return render_pdf(render_to_string("subject_access/response_pdf.html", response_context(response)))


def response_document(response: SubjectResponse) -> dict:
    request = response.request
    return {
        "format": "oversight.subject-access-response/1",
        "generated_at": response.generated_at.isoformat(),
        "controller": request.organisation.name,
        "request": {
            "reference": request.reference,
            "right": request.right,
            "provision": request.provision,
            "regime": request.regime,
            "received_on": request.received_on.isoformat(),
            "due_on": request.due_on.isoformat() if request.due_on else None,
            "requester": request.requester_name,
        },
        "information": response.art15,
        "sections": [
            {
                "title": title,
                "items": [
                    {
                        "ref": item.ref,
                        "title": item.title,
                        "facts": [{"label": label, "value": value} for label, value in item.facts],
                        "source": item.source,
                        "recipients": item.recipients,
                        "retention": item.retention,
                        "purposes": item.purposes,
                        "staff": item.staff,
                        "pictures": [
                            {
                                "caption": p.caption,
                                "media_type": "image/jpeg" if p.jpeg else None,
                                "sha256": p.sha256 or None,
                                "base64": base64.b64encode(p.jpeg).decode("ascii") if p.jpeg else None,
                                "withheld": p.withheld_reason or None,
                            }
                            for p in item.pictures
                        ],
                    }
                    for item in items
                ],
            }
            for title, items in response.sections.items()
        ],
        "audit_events": [
            {
                "sequence": e.sequence,
                "at": e.occurred_at.isoformat(),
                "operation": e.action,
                "event": e.event,
                "what": e.what,
                "by": e.actor,
                "organisation": e.organisation,
                "justification": e.justification,
                "recipient": e.recipient,
                "about": e.target,
                "leaf_index": e.leaf_index,
            }
            for e in response.events
        ],
        # The inclusion proof of each cited event (``python tlog.py --proofs`` on this object, saved as a file).
        "audit_proofs": response.proofs or None,
        "withheld": response.withheld,
        # Always the same sentence, so that its presence says nothing (neither confirm nor deny).
        "restrictions": RESTRICTIONS_STATEMENT,
        "no_longer_held": response.no_longer_held,
        "non_match": response.non_match,
        "found_anything": response.found_anything,
    }


def response_json(response: SubjectResponse) -> bytes:
    return json.dumps(response_document(response), indent=2, ensure_ascii=False).encode("utf-8")
