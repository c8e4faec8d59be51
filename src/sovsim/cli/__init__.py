"""The command line (``sovsim``): one module per command group; the app is ``sovsim.cli.main:app``."""


def __getattr__(name: str):
    # ``from sovsim.cli import app`` (older scripts and tests) still works, without this package
    # importing its command modules when one of them is imported.
    if name == "app":
        from sovsim.cli.main import app

        return app
    raise AttributeError(name)
