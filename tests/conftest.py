import pytest

import sovsim


@pytest.fixture(scope="session")
def historical():
    return sovsim.run("historical")


@pytest.fixture(scope="session")
def all_runs():
    from sovsim.scenario import shipped_scenarios

    return {name: sovsim.run(name) for name in sorted(shipped_scenarios())}
