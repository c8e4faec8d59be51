"""The essay's routes: ``GET /api/events`` (the political timeline, annotations for every time
chart) and ``GET /api/essay`` (the essay's claims tested against the shipped runs, as
``sovsim essay --json`` gives them, with the scenarios' titles for plain words)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from fastapi import FastAPI

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _essay() -> dict[str, Any]:
    from sovsim.research import essay as es
    from sovsim.scenario import load_scenario

    report = es.run_claims(es.load_claims())
    report["scenario_titles"] = {name: load_scenario(name).title for name in report["scenarios"]}
    return report


def essay_payload() -> dict[str, Any]:
    """The shipped claims against historical, nep and permanent-revolution (computed once)."""
    with _LOCK:  # one computation, however many pages ask at once
        return _essay()


def events_payload() -> dict[str, Any]:
    from sovsim.research import essay as es

    return {"note": "Political events: annotations on the charts, never inputs of the model.",
            "events": es.events()}


def register(app: FastAPI) -> None:
    @app.get("/api/events", summary="The political timeline (annotations, never model inputs)")
    def events_() -> dict[str, Any]:
        return events_payload()

    @app.get("/api/essay", summary="The essay's claims tested against the runs, with verdicts")
    def essay_() -> dict[str, Any]:
        return essay_payload()
