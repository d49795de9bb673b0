"""What a reviewer does before confirming: open the alert, whose two image endpoints serve the camera
crop and the enrolled watchlist image (``alert_probe_crop`` / ``alert_watchlist_thumbnail``,
which record the showing). Rule tests build watchlist rows without bytes, so ``show_both`` first gives
the row a small reference picture if it has none (a real JPEG: the thumbnail service decodes it)."""

from __future__ import annotations

import io

from governance import encryption
from governance.watchlist.models import WatchlistImageContent
from recognition.deployments.services.disclosure import alert_disclose
from recognition.deployments.services.review import alert_probe_crop, alert_review, alert_watchlist_thumbnail


def reference_picture(image) -> None:
    """Give a byte-less watchlist row a small stored picture (encrypted, like an uploaded image)."""
    from PIL import Image

    if image is None or WatchlistImageContent.objects.filter(image=image).exists():
        return
    out = io.BytesIO()
    Image.new("RGB", (120, 150), (150, 110, 90)).save(out, format="JPEG")
    WatchlistImageContent.objects.create(
        image=image,
        ciphertext=encryption.encrypt(out.getvalue()),
        key_id=encryption.key_fingerprint(),
        content_type="image/jpeg",
    )


def show_crop(actor, alert) -> bytes:
    return alert_probe_crop(actor=actor, alert=alert)


def show_reference(actor, alert) -> bytes:
    reference_picture(alert.watchlist_image)
    return alert_watchlist_thumbnail(actor=actor, alert=alert)


def show_both(actor, alert) -> None:
    show_crop(actor, alert)
    show_reference(actor, alert)


def confirm(actor, alert, **kw):
    """Open the alert (both images served to ``actor``), then confirm it."""
    show_both(actor, alert)
    return alert_review(actor=actor, alert=alert, decision="confirm", **kw)


def disclosed_alert(deployment, image, cast, people):
    """An alert on ``image``, confirmed by the estate's and Camden's reviewers and disclosed to Camden."""
    from tests.recognition.deployments.conftest import raise_alert

    alert = raise_alert(deployment, image)
    confirm(people.reviewer_a, alert)
    confirm(people.police_reviewer, alert)
    disclosure = alert_disclose(
        actor=cast.estate_dpo,
        alert=alert,
        recipient_organisation=cast.camden,
        recipient="LFR desk (CJSM)",
        channel="cjsm_email",
        justification="Wanted on warrant: location needed for arrest.",
    )
    return alert, disclosure
