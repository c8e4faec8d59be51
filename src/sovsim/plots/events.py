"""Political events as markers on time charts: a dotted vertical line at each event's date,
numbered, and a key beneath the figure. Annotations only: the events are never inputs."""

from __future__ import annotations

from typing import Any


def mark_events(ax, events: list[dict[str, Any]] | None, from_year: float = 1921,
                to_year: float = 1941) -> None:
    """Draw each event (``year`` fractional, ``event``) inside the axis's years as a dotted
    grey line with its number (its place in ``events``, from 1) at the top."""
    if not events:
        return
    for i, e in enumerate(events, start=1):
        x = float(e["year"])
        if not from_year <= x <= to_year:
            continue
        ax.axvline(x, color="0.5", lw=0.7, ls=":", zorder=0)
        ax.annotate(str(i), (x, 1.0), xycoords=("data", "axes fraction"), fontsize=5,
                    color="0.35", ha="center", va="bottom", annotation_clip=False)


def events_key(fig, events: list[dict[str, Any]] | None) -> None:
    """A numbered key of the events under the figure (the numbers of :func:`mark_events`)."""
    if not events:
        return
    items = [f"{i}. {e['date']} {e['event']}" for i, e in enumerate(events, start=1)]
    lines = ["   ".join(items[k:k + 4]) for k in range(0, len(items), 4)]
    # supxlabel takes part in the constrained layout, so the key is never cut off.
    fig.supxlabel("Events (annotations, not model inputs):\n" + "\n".join(lines), fontsize=5,
                  color="0.3", parse_math=False)
