"""``python -m sovsim.cli``."""

from sovsim.cli.main import app

app()
