"""The compiled kernels give the numbers of plain numpy, and the state check still fires.

The kernels (``sovsim.compiled``) run the same functions through numba; with
``NUMBA_DISABLE_JIT=1`` they run as plain numpy and Python. Both runs must agree (on the
development machine they agree bit for bit; the tolerance leaves room for a libm that rounds
a last bit differently).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from sovsim.engine import invariants
from sovsim.errors import InvariantError
from sovsim.params import load_parameters
from sovsim.state import initial_state


def test_compiled_run_matches_plain_numpy(historical, tmp_path):
    out = tmp_path / "plain.npz"
    code = ("import sys, numpy as np, sovsim; "
            "np.savez(sys.argv[1], **sovsim.run('historical').records)")
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, timeout=300)
    plain = np.load(out)
    for var, arr in historical.records.items():
        np.testing.assert_allclose(arr, plain[var], rtol=1e-12, atol=0, equal_nan=True,
                                   err_msg=var)


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN or inf"), (np.inf, "NaN or inf"),
                                          (-1.0, "negative")])
def test_state_check_finds_the_column(bad, message):
    h, macro = initial_state(load_parameters().values())
    invariants.check_state(0, h, macro)
    h["cattle"][3] = bad
    with pytest.raises(InvariantError, match=f"{message}.*cattle"):
        invariants.check_state(0, h, macro)


def test_moving_households_keeps_totals():
    h, _ = initial_state(load_parameters().values())
    before = h.values.sum(axis=1)
    src, dst = np.array([0, 9, 0]), np.array([1, 10, 2])  # a unit may move twice
    h.move(src, dst, np.array([0.5, 0.25, 0.5]))
    np.testing.assert_allclose(h.values.sum(axis=1), before, rtol=1e-12)
    assert h["persons"][0] >= 0
