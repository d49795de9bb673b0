"""Small-cell suppression: the one rule for every published count that classifies people.

**The rule.** In a published output (the public transparency report, its PDF and CSV), a count in a
breakdown of people by a personal characteristic (today: false alerts by ethnic group) that is at
least 1 and below ``SMALL_CELL_THRESHOLD`` is shown as "fewer than 5", never as its number. Where
one is, the breakdown's zeros are shown the same way (else a known total, less the zeros, gives the
hidden count), and where that still hides only one cell, the next smallest is hidden too, so no
hidden cell can be worked back from the total. A breakdown with no count from 1 to 4 is shown as it
is. Counts of events (alerts, false alerts, engagements, arrests and the other police outcomes) are
published exactly, as the police publish them: they say what happened at a deployment, not who a
person is.

Internal reports (a deployment's report, read by those entitled to its records) show exact counts.
"""

from __future__ import annotations

SMALL_CELL_THRESHOLD = 5
SUPPRESSED = f"fewer than {SMALL_CELL_THRESHOLD}"


def suppress_small_cells(counts: list[int]) -> list[int | str]:
    """``counts`` of one breakdown → the cells as published (see the module's rule)."""
    if not any(0 < n < SMALL_CELL_THRESHOLD for n in counts):
        return list(counts)
    hidden = {i for i, n in enumerate(counts) if n < SMALL_CELL_THRESHOLD}
    if len(hidden) == 1:
        rest = sorted((n, i) for i, n in enumerate(counts) if n > 0 and i not in hidden)
        if rest:
            hidden.add(rest[0][1])
    return [SUPPRESSED if i in hidden else n for i, n in enumerate(counts)]
