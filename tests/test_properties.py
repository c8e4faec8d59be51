"""Property tests: any valid policy keeps the invariants (the engine raises otherwise)."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sovsim
from sovsim.regions import REGIONS
from sovsim.scenario import catalogue


@st.composite
def changes(draw):
    cat = catalogue()
    out = []
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(cat)))
        inst = cat[name]
        if inst.kind == "float":
            value = draw(st.floats(inst.min, inst.max, allow_nan=False))
        elif inst.kind == "bool":
            value = draw(st.booleans())
        else:
            value = draw(st.sampled_from(inst.choices))
        year = draw(st.integers(1921, 1940))
        month = draw(st.integers(1, 12))
        region = draw(st.sampled_from(REGIONS)) if inst.regional and draw(st.booleans()) else None
        out.append((f"{year}-{month:02d}", name, value, region))
    return out


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    return repr(float(v))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes())
def test_any_valid_policy_keeps_the_invariants(tmp_path_factory, chs):
    path = tmp_path_factory.mktemp("s") / "random.toml"
    lines = ['extends = "historical"']
    for date, name, value, region in chs:
        lines += ["[[change]]", f'date = "{date}"', f'instrument = "{name}"',
                  f"value = {toml_value(value)}"]
        if region:
            lines.append(f'region = "{region}"')
    path.write_text("\n".join(lines) + "\n")
    res = sovsim.run(path)  # InvariantError if a balance, a count or a sign breaks
    pop = res.series("population_persons")
    assert np.all(np.isfinite(pop.values)) and pop.min() > 0
