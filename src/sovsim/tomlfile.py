"""One reader of the package's and the user's TOML files: every failure (missing, a
directory, unreadable, not UTF-8, not TOML) becomes one :class:`~sovsim.errors.InputError`
that names the file, so that each loader says the same thing the same way."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sovsim.errors import DataError, InputError


def read_toml(path: str | Path, error: type[InputError] = DataError,
              missing: str = "no such file") -> dict[str, Any]:
    """The table of the TOML file at ``path``; ``error(path, "(file)", problem)`` when it
    cannot be read (``missing``: what to say when it does not exist)."""
    file = Path(path)
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(str(file), "(file)", missing) from None
    except IsADirectoryError:
        raise error(str(file), "(file)", "a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise error(str(file), "(file)", f"not UTF-8 text ({exc.reason} at byte "
                    f"{exc.start})") from None
    except OSError as exc:
        raise error(str(file), "(file)", f"cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(str(file), "(file)", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise error(str(file), "(file)", "nested too deeply to read") from None
