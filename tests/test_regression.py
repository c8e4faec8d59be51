"""Regression against a saved summary of the historical run, with a per-key diff on failure.

After an intended change of the model, rewrite the baseline with
``python tests/test_regression.py`` and commit it with the change that explains it.
"""

import json
import math
import sys
from pathlib import Path

BASELINE = Path(__file__).parent / "baseline" / "historical.json"
VARIABLES = ["population_persons", "urban_population_persons", "grain_harvest_t",
             "grain_procurement_t", "grain_exports_t", "horses_head", "cattle_head",
             "collectivized_share", "industrial_output_index", "gdp_per_capita_index",
             "excess_deaths_persons", "deported_persons", "food_kcal_per_person_day"]
YEARS = [str(y) for y in range(1921, 1941)]
RTOL = 1e-8


def summary(res) -> dict[str, float]:
    out = {}
    for var in VARIABLES:
        s = res.series(var)
        for y in YEARS:
            out[f"{var}/{y}"] = float(s[y])
    return out


def test_historical_run_matches_baseline(historical):
    saved = json.loads(BASELINE.read_text())
    now = summary(historical)
    diffs = []
    for key in sorted(set(saved) | set(now)):
        a, b = saved.get(key), now.get(key)
        if a is None or b is None or not math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-9):
            diffs.append(f"{key}: baseline {a!r} -> now {b!r}")
    assert not diffs, "drift from the saved baseline:\n" + "\n".join(diffs[:60])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import sovsim

    BASELINE.parent.mkdir(exist_ok=True)
    BASELINE.write_text(json.dumps(summary(sovsim.run("historical")), indent=1, sort_keys=True))
    print(f"wrote {BASELINE}")
