"""What happens to a subject request that other parts of the product act on, without the request's services
importing them back.

``clock_stopped``: the DPO asked the requester for identity, a fee or clarification (``subject_request_clock_stop``);
sent inside the DPO's transaction with ``request`` and ``pause``. The public door listens: a request that came
through it gets a one-time code e-mailed with what was asked (``door.services``)."""

from __future__ import annotations

from django.dispatch import Signal

clock_stopped = Signal()
