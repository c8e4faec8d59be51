"""Docs cannot drift: the reference pages equal what the declarations generate."""

from pathlib import Path

import pytest

from sovsim import docs

ROOT = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(docs.PAGES))
def test_generated_pages_are_current(name):
    committed = (ROOT / name).read_text()
    assert committed == docs.PAGES[name](), f"docs/{name} is stale: run python -m sovsim.docs"


def test_every_instrument_and_variable_is_documented():
    text = (ROOT / "instruments.md").read_text() + (ROOT / "variables.md").read_text()
    from sovsim.engine.accounts import VARIABLES
    from sovsim.scenario import catalogue

    for name in list(catalogue()) + [v.name for v in VARIABLES]:
        assert f"`{name}`" in text
