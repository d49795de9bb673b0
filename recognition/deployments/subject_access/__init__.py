"""Recognition's part in subject requests (issue 12), registered with ``governance.subject_access.registry``.

- **Face reader**: the requester's photo goes through the engine exactly as a watchlist image does at
  enrolment (``decode_image`` with the watchlist pixel limit, the live engine's detector and its downscaling, the
  enrolment face rule ``choose_face``, template-style embedding). Exactly one usable face gives a ``FaceProbe``;
  none, several or one too small is a ``ValueError`` in plain words. It runs in the worker's task of a search by
  photo (``governance.subject_access.tasks.subject_photo_search``, issue 26), never in the web request, which only
  checks the photo's length and header; the probe it returns lives only in that task (never stored), and the photo
  is erased when the task is done.
- **Face redactor**: every face the engine's detector finds, except the subject's (``keep_box``), is pixelated
  and then blurred (irreversible: the pixels are averaged away before the blur, so no deconvolution brings the
  face back).
- **Providers**:
  - ``alert`` (section "Alerts"): found by subject reference and by face (the probe kept with each alert, see
    ``Alert.probe_embedding``); compiled with deployment, camera, times, score, sightings, the crop, review
    decisions, disclosures and outcomes; erased now through the retention erase code (``alerts_erase_batch``)
    with a deletion certificate.
  - ``face-template`` (section "Face templates"): the biometric template derived from a watchlist image, found by
    subject reference and by face. A face match on a template also yields the watchlist image itself as a
    ``watchlist-image`` candidate, which governance's own provider compiles. Templates are erased with their image
    (governance's ``watchlist_image_erase`` runs recognition's image handler), so this provider has no ``erase``.

Face search compares only embeddings of the same backend (detector + embedder + weights), at that backend's match
threshold; candidates below it are not returned. Every search is audited by governance; reading a crop for the
confirming screen is a ``consultation`` of that alert (or that watchlist image), as for a reviewer.

Searching 100,000 stored alerts: decrypting every Fernet token on every search takes seconds (BENCHMARKS.md,
"Subject access: face search and compilation"), so each process keeps a bounded, decrypted matrix of the probes
(``ProbeIndex``), refreshed incrementally from ``Alert.probe_changed_at`` (set whenever a probe is written or
erased) with an overlap window, so a probe written by a transaction that committed late is still seen. The matrix
only proposes: every candidate above the threshold is re-read through the access layer (visible to the actor, not
erased, same backend) and re-scored from its own freshly decrypted embedding, so a stale cache can never return an
alert that is gone, erased or not the actor's to see.

One module each: ``faces`` (the face reader and redactor), ``probe_index`` (the probe matrix), ``alerts``
and ``face_templates`` (the two providers), ``registration`` (registers them all; ``apps.py`` imports it);
``common`` holds what they share.
"""
