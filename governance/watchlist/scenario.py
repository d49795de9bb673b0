"""The seven images Camden's borough unit shared with the King's Cross estate (2016-2018), entered into
the ledger retrospectively through the services, so their provenance and audit trail are real.

Subjects are pseudonymous. The bytes (only where the shared dev face set exists) are stand-in faces
from ``FACES_DIR/dev``; without that folder only the provenance is recorded and the note says so.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from governance.agreements.models import Agreement
from governance.organisations.models import Organisation
from governance.watchlist.models import TransferChannel
from governance.watchlist.services import Provenance, watchlist_image_record_historical

# (pseudonymous reference, custody category, custody reference, taken on, shared on, stand-in face)
SEVEN_IMAGES = [
    ("KX16-W01", "charged", "CAM/2016/00412", date(2016, 3, 2), date(2016, 5, 12), "Kofi_Annan/Kofi_Annan_0001.jpg"),
    (
        "KX16-W02",
        "charged",
        "CAM/2016/00597",
        date(2016, 4, 18),
        date(2016, 5, 12),
        "Vladimir_Putin/Vladimir_Putin_0001.jpg",
    ),
    (
        "KX16-W03",
        "cautioned",
        "CAM/2016/00633",
        date(2016, 4, 27),
        date(2016, 5, 12),
        "Serena_Williams/Serena_Williams_0001.jpg",
    ),
    (
        "KX16-W04",
        "reprimanded",
        "CAM/2016/00802",
        date(2016, 6, 9),
        date(2016, 7, 1),
        "Salma_Hayek/Salma_Hayek_0001.jpg",
    ),
    (
        "KX16-W05",
        "formal_warning",
        "CAM/2016/01121",
        date(2016, 8, 30),
        date(2016, 9, 14),
        "Jiang_Zemin/Jiang_Zemin_0001.jpg",
    ),
    (
        "KX16-W06",
        "charged",
        "CAM/2017/00088",
        date(2017, 1, 20),
        date(2017, 2, 3),
        "Lleyton_Hewitt/Lleyton_Hewitt_0001.jpg",
    ),
    (
        "KX16-W07",
        "cautioned",
        "CAM/2017/00317",
        date(2017, 3, 11),
        date(2017, 3, 29),
        "Angelina_Jolie/Angelina_Jolie_0001.jpg",
    ),
]

HISTORICAL_NOTE = (
    "Recorded retrospectively from the public account: one of seven images Camden BCU sent to the estate over the "
    "criminal-justice secure email service. The Met kept no record of its use, of any match or of police action."
)
NO_BYTES_NOTE = "No image bytes held: the shared dev face set was not available when the scenario was loaded."


def load_kings_cross_images(*, agreement: Agreement, supplier: Organisation, faces_dir: Path) -> tuple[int, int]:
    """Record the seven images; returns (images recorded, of which with bytes)."""
    dev = Path(faces_dir) / "dev"
    with_bytes = 0
    for reference, category, custody_reference, taken_on, shared_on, face in SEVEN_IMAGES:
        path = dev / face
        data = path.read_bytes() if path.is_file() else None
        with_bytes += data is not None
        watchlist_image_record_historical(
            actor=None,
            agreement=agreement,
            supplying_organisation=supplier,
            image_bytes=data,
            note_without_bytes=NO_BYTES_NOTE,
            provenance=Provenance(
                subject_reference=reference,
                custody_category=category,
                custody_reference=custody_reference,
                image_taken_on=taken_on,
                shared_on=shared_on,
                transfer_channel=TransferChannel.CJSM_EMAIL,
                notes=HISTORICAL_NOTE,
            ),
        )
    return len(SEVEN_IMAGES), with_bytes
