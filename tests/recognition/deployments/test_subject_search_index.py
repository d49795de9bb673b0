"""The per-process matrix of alert probes that face search reads (``recognition.deployments.subject_access``): it
sees new alerts, better sightings and erasures made after it was built, and what it proposes is re-checked through
the access layer, so it never returns an alert that is erased or not the actor's to see. Synthetic unit vectors
stand in for faces (the engine's real ones are in ``test_subject_access``)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.db import transaction
from django.utils import timezone

from governance.subject_access.registry import FaceProbe, ItemRef, SubjectQuery, subject_data_provider
from recognition.deployments.models import Alert
from recognition.deployments.services.alerts import Sighting, alert_record_sighting
from recognition.deployments.subject_access.probe_index import _indexes, probe_index_clear, probe_index_warm
from recognition.selectors import live_backend
from tests.factories import on_watchlist
from tests.recognition.deployments.conftest import enrolled_image_row

pytestmark = pytest.mark.django_db

DIMENSION = 128


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIMENSION).astype(np.float32)
    return vector / np.linalg.norm(vector)


def near(vector: np.ndarray, seed: int, noise: float = 0.3) -> np.ndarray:
    other = vector + noise * unit(seed)
    return (other / np.linalg.norm(other)).astype(np.float32)


def sight(deployment, image, vector, *, score=0.8, at=None):
    on_watchlist(deployment, image)  # the force composed it into the deployment's watchlist
    alert, _ = alert_record_sighting(
        sighting=Sighting(
            deployment_id=deployment.pk,
            camera_id=deployment.cameras.first().pk,
            image_id=image.pk,
            score=score,
            threshold=deployment.match_threshold,
            crop_jpeg=b"\xff\xd8\xff-crop",
            seen_at=at or timezone.now(),
            embedding=vector,
            backend=live_backend(),
        )
    )
    return alert


def face_search(actor, vector):
    probe = FaceProbe(embedding=vector, backend=live_backend(), box=(0, 0, 1, 1))
    return {int(c.ref.key): c.score for c in subject_data_provider("alert").search(actor, SubjectQuery(face=probe))}


@pytest.fixture(autouse=True)
def _fresh_index():
    probe_index_clear()
    yield
    probe_index_clear()


def test_the_index_follows_new_alerts_better_sightings_and_erasures(cast, active_agreement, live_deployment):
    person, stranger = unit(1), unit(2)
    image = enrolled_image_row(active_agreement, cast.camden)
    other_image = enrolled_image_row(active_agreement, cast.camden, subject="KX-SUBJ-0002")
    first = sight(live_deployment, image, near(person, 10))
    sight(live_deployment, other_image, stranger)
    assert set(face_search(cast.estate_dpo, person)) == {first.pk}  # builds the matrix

    # A later alert (after the dedup window) is found without rebuilding; a better sighting replaces the probe.
    later = sight(live_deployment, image, stranger, at=timezone.now() + timedelta(hours=1))
    assert set(face_search(cast.estate_dpo, person)) == {first.pk}
    sight(live_deployment, image, near(person, 11), score=0.95, at=timezone.now() + timedelta(hours=1, minutes=1))
    later.refresh_from_db()
    assert later.sightings == 2
    found = face_search(cast.estate_dpo, person)
    assert set(found) == {first.pk, later.pk}
    assert found[later.pk] == pytest.approx(float(near(person, 11) @ person), abs=1e-5)

    # Erased by retention in another process (the matrix here is not told): it is gone from the results.
    from recognition.deployments.retention import alerts_erase_batch

    with transaction.atomic():
        alerts_erase_batch([Alert.objects.select_related("deployment").get(pk=first.pk)], None)
    first.refresh_from_db()  # the retention erase takes the embedding with the crop and the score
    assert (bytes(first.probe_embedding), bytes(first.probe_crop), first.score) == (b"", b"", None)
    assert set(face_search(cast.estate_dpo, person)) == {later.pk}


def test_what_the_index_proposes_is_scoped_by_the_access_layer(cast, active_agreement, live_deployment):
    person = unit(3)
    image = enrolled_image_row(active_agreement, cast.camden)
    alert = sight(live_deployment, image, near(person, 12))
    assert set(face_search(cast.estate_dpo, person)) == {alert.pk}  # the operator
    assert set(face_search(cast.met_dpo, person)) == {alert.pk}  # the supplying unit's force
    assert face_search(cast.btp_dpo, person) == {}  # another supplier
    assert face_search(cast.other_dpo, person) == {}  # another operator
    # Another backend's probes are never compared.
    probe = FaceProbe(embedding=person, backend="mtcnn+facenet-casia-webface", box=(0, 0, 1, 1))
    assert subject_data_provider("alert").search(cast.estate_dpo, SubjectQuery(face=probe)) == []


def test_above_the_bound_a_search_streams_and_keeps_nothing(cast, active_agreement, live_deployment, settings):
    settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES = 1
    person = unit(4)
    image = enrolled_image_row(active_agreement, cast.camden)
    one = sight(live_deployment, image, near(person, 13))
    two = sight(live_deployment, image, near(person, 14), at=timezone.now() + timedelta(hours=1))
    assert set(face_search(cast.estate_dpo, person)) == {one.pk, two.pk}
    assert _indexes == {}


def test_an_erasure_request_refuses_under_a_legal_hold_and_needs_a_dpo(cast, people, active_agreement, live_deployment):
    from governance.errors import PermissionRefused, StateConflict
    from governance.retention.services import legal_hold_place

    image = enrolled_image_row(active_agreement, cast.camden)
    alert = sight(live_deployment, image, unit(5))
    provider = subject_data_provider("alert")
    ref = ItemRef("alert", str(alert.pk))
    with pytest.raises(PermissionRefused), transaction.atomic():
        provider.erase(people.reviewer_a, ref, "Erasure request.")
    legal_hold_place(actor=cast.estate_dpo, target=f"alert:{alert.pk}", reason="Complaint under investigation.")
    with pytest.raises(StateConflict) as refused, transaction.atomic():
        provider.erase(cast.estate_dpo, ref, "Erasure request.")
    assert refused.value.code == "legal_hold"
    alert.refresh_from_db()
    assert alert.erased_at is None and bytes(alert.probe_embedding)


def test_a_hit_on_an_image_no_longer_matchable_raises_nothing_and_every_gallery_drops_it(
    cast, active_agreement, live_deployment, django_capture_on_commit_callbacks
):
    """An image leaves ``watchlist_images_matchable`` (here: its status changed by a path that told no gallery, as
    a restriction might): a gallery still holding it may score it, but no alert is raised or attached, this
    process's galleries drop it at once and a new gallery version makes every other worker rebuild without it."""
    from governance import encryption
    from governance.watchlist.models import WatchlistImage
    from recognition import gallery_cache, selectors
    from recognition.models import FaceTemplate

    gallery_cache.gallery_cache_clear()
    image = enrolled_image_row(active_agreement, cast.camden)
    person = unit(6)
    FaceTemplate.objects.create(
        image=image,
        agreement=active_agreement,
        ciphertext=encryption.encrypt(person.tobytes()),
        key_id=encryption.key_fingerprint(),
        face_box=[0, 0, 100, 100],
        detection_probability=0.99,
        engine="test",
        backend=live_backend(),
        created_at=timezone.now(),
    )
    gallery = selectors.gallery_for_agreements([active_agreement.pk])
    assert gallery.ids().tolist() == [image.pk]
    assert sight(live_deployment, image, person) is not None

    WatchlistImage.objects.filter(pk=image.pk).update(status="withdrawn")
    version = gallery_cache.gallery_version()
    assert selectors.gallery_for_agreements([active_agreement.pk]) is gallery  # nobody was told: still cached
    with django_capture_on_commit_callbacks(execute=True):
        assert sight(live_deployment, image, person, at=timezone.now() + timedelta(minutes=1)) is None
    assert Alert.objects.get().sightings == 1
    assert gallery.ids().tolist() == []  # this process: dropped in place
    assert gallery_cache.gallery_version() != version  # every other process: rebuilds on its next frame
    assert len(selectors.gallery_for_agreements([active_agreement.pk])) == 0


def test_a_web_process_warms_the_matrix_so_the_first_search_decrypts_nothing(cast, active_agreement, live_deployment):
    """The warm-up every web process runs at start (``governance.serving``): the first search then only reads what
    changed since."""
    from governance.serving import _warm_ups

    person = unit(6)
    image = enrolled_image_row(active_agreement, cast.camden)
    alert = sight(live_deployment, image, near(person, 15))
    assert _warm_ups["recognition.subject-search-probes"] is probe_index_warm  # registered
    assert probe_index_warm() == "probes held: 1"
    index = _indexes[live_backend()]
    warmed_at = index.since
    assert index.size == 1 and warmed_at is not None
    assert set(face_search(cast.estate_dpo, person)) == {alert.pk}
    assert _indexes[live_backend()] is index and index.size == 1  # the same matrix, refreshed


def test_above_the_bound_the_warm_up_keeps_nothing(cast, active_agreement, live_deployment, settings):
    settings.OVERSIGHT_SUBJECT_SEARCH_CACHE_PROBES = 0
    sight(live_deployment, enrolled_image_row(active_agreement, cast.camden), unit(7))
    assert probe_index_warm() == "over the bound: searches stream"
    assert _indexes == {}
