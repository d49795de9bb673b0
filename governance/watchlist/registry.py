"""Hooks through which ``recognition`` acts on watchlist images without governance importing it.

``governance`` does not import ``recognition`` (ARCHITECTURE.md). Yet an upload must be enrolled, and
a withdrawal must erase the face template derived from the image. Each app that holds data derived
from a watchlist image registers a handler here (pretix's data-shredder pattern): adding a new kind
of derived data means registering one more handler, not editing the withdrawal service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from governance.registry import Registry

if TYPE_CHECKING:
    from governance.organisations.models import User
    from governance.watchlist.models import WatchlistImage


@dataclass(frozen=True)
class ErasedItem:
    """One thing a handler erased, for the deletion certificate (never the data itself)."""

    subject_type: str
    subject_id: str
    sha256: str
    label: str = ""


class WatchlistImageHandler(Protocol):
    name: str

    def image_received(self, image: WatchlistImage) -> None:
        """Called inside the upload's transaction; schedule work with ``transaction.on_commit``."""

    def image_erasing(self, image: WatchlistImage, *, actor: User | None, reason: str) -> list[ErasedItem]:
        """Called inside the erasure's transaction: erase what was derived from the image, return what went."""

    def images_moved(self, *, image_ids: list[int]) -> None:
        """Called inside the transaction that moved these images to another agreement (an approved
        amendment carrying them over): anything keyed by agreement must follow after commit."""


_handlers: Registry[WatchlistImageHandler] = Registry("watchlist image handler")


def register_image_handler(handler: WatchlistImageHandler) -> WatchlistImageHandler:
    return _handlers.register(handler.name, handler)


def image_handlers() -> list[WatchlistImageHandler]:
    return _handlers.values()
