"""Small fixtures for the mechanism tests: the 45 units of the coarse state in January 1921,
the shipped parameters as the kernels read them, and the historical scenario's instruments of
a month, which a test changes one at a time. The mechanisms' kernels are called directly."""

from types import SimpleNamespace

import numpy as np
import pytest

from sovsim import calendar
from sovsim.engine.packed import instrument_records, param_record
from sovsim.mechanisms.demography import unit_labels
from sovsim.params import load_parameters
from sovsim.scenario import load_scenario
from sovsim.state import initial_state


@pytest.fixture(scope="session")
def world():
    pv = load_parameters().values()
    h, macro = initial_state(pv)
    POL = instrument_records(load_scenario("historical").timeline())

    def pol(month: str, **changes):
        """The instruments in force in ``month`` (YYYY-MM), with ``changes``."""
        rec = np.array(POL[calendar.parse_month(month):calendar.parse_month(month) + 1])
        rec = rec.view(np.recarray)
        for name, value in changes.items():
            rec[name][0] = value
        return rec[0]

    def hv():
        """A fresh copy of the units' state block."""
        return h.values.copy()

    return SimpleNamespace(h=h, macro=macro, lab=h.labelled(unit_labels),
                           p=param_record(pv)[0], pol=pol, hv=hv)
