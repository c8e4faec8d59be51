import atexit
import os
import shutil
import tempfile

import pytest

import sovsim

# Runs and ensembles are recorded in the results store; tests never write to the user's
# (subprocesses inherit this).
os.environ["SOVSIM_STORE"] = tempfile.mkdtemp(prefix="sovsim-test-store-")
atexit.register(shutil.rmtree, os.environ["SOVSIM_STORE"], ignore_errors=True)


@pytest.fixture(scope="session")
def historical():
    return sovsim.run("historical")


@pytest.fixture(scope="session")
def all_runs():
    from sovsim.scenario import shipped_scenarios

    return {name: sovsim.run(name) for name in sorted(shipped_scenarios())}


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` (full calibration, full-scale builds) run only on request
    (``-m slow``); the default run leaves them out rather than skipping them."""
    if config.getoption("markexpr"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
