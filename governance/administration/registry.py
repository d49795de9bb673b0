"""Sections other apps add to the administration page (governance never imports them).

Recognition registers "Cameras" (its deployments' cameras and their gateway keys): the page lists
each section's rows for the administrator and links to the pages the registering app serves.
Registered in the app's ``AppConfig.ready()``; a section returns only what ``actor`` administers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from governance.registry import Registry


@dataclass(frozen=True)
class SectionRow:
    label: str
    state: str
    url: str = ""
    attention: bool = False  # shown as needing action (e.g. a camera without a key)


@dataclass(frozen=True)
class AdministrationSection:
    key: str
    title: str
    description: str
    rows: Callable[[Any], list[SectionRow]]  # actor -> the rows it administers
    manage_url: Callable[[Any], str] | None = None  # actor -> the section's own page


_SECTIONS: Registry[AdministrationSection] = Registry("administration section")


def administration_section_register(section: AdministrationSection) -> None:
    _SECTIONS.register(section.key, section)


def administration_sections() -> list[AdministrationSection]:
    return _SECTIONS.values()
