"""The few exceptions sovsim raises. Each names where the problem is and what is allowed."""

from __future__ import annotations


class SovsimError(Exception):
    """Base class of sovsim's errors."""


class SovsimWarning(UserWarning):
    """Warnings from sovsim (the test suite turns them into errors)."""


class InputError(SovsimError):
    """A data or scenario file is wrong: names the file, the key and what is allowed."""

    def __init__(self, file: str, key: str, problem: str, allowed: str | None = None):
        self.file, self.key, self.problem, self.allowed = str(file), key, problem, allowed
        msg = f"{self.file}: {key}: {problem}"
        if allowed:
            msg += f" (allowed: {allowed})"
        super().__init__(msg)


class ScenarioError(InputError):
    """A scenario file is malformed."""


class ParameterError(InputError):
    """A parameter file is malformed or a parameter is out of range."""


class DataError(InputError):
    """A historical data or input file is malformed."""


class InvariantError(SovsimError):
    """A model invariant (balance, conservation, non-negativity) failed during a run."""


class StoreError(SovsimError):
    """The results store cannot be used (not a directory, not writable, no such run...)."""
