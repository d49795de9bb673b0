"""Small-cell suppression: the one rule for every published count that classifies people.

**The rule.** In a published output (the public transparency report, its PDF and CSV), a count of
people by category — police outcomes by category, false alerts by ethnic group — that is at least 1
and below ``SMALL_CELL_THRESHOLD`` is shown as "fewer than 5", never as its number. Where exactly one
cell of a breakdown is suppressed, the next smallest non-zero cell is suppressed too, so the hidden
one cannot be worked back from the total. Zero is shown (it identifies nobody). The totals already
published (alerts, false alerts, arrests) are shown as they are, as the police publish them.

Internal reports (a deployment's report, read by those entitled to its records) show exact counts.
"""

from __future__ import annotations

SMALL_CELL_THRESHOLD = 5
SUPPRESSED = f"fewer than {SMALL_CELL_THRESHOLD}"


def suppress_small_cells(counts: list[int]) -> list[int | str]:
    """``counts`` of one breakdown → the cells as published (see the module's rule)."""
    hidden = {i for i, n in enumerate(counts) if 0 < n < SMALL_CELL_THRESHOLD}
    if len(hidden) == 1:
        rest = sorted((n, i) for i, n in enumerate(counts) if n > 0 and i not in hidden)
        if rest:
            hidden.add(rest[0][1])
    return [SUPPRESSED if i in hidden else n for i, n in enumerate(counts)]
