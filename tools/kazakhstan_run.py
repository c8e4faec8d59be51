"""Kazakhstan's numbers in the historical run (issue 15, kazakh): herds 1926-36 (June), excess
deaths, rural persons, flight and food energy, for the USSR and Kazakhstan.

    PYTHONPATH=src python3 tools/kazakhstan_run.py [parameter=value ...]
"""
import sys

from sovsim.api import shipped_parameters
from sovsim.engine.simulation import simulate
from sovsim.inputs import load_inputs
from sovsim.regions import REGIONS
from sovsim.scenario import load_scenario

over = {}
for a in sys.argv[1:]:
    k, v = a.split("=")
    over[k] = float(v)
sc = load_scenario("historical")
p = shipped_parameters().with_overrides(over or None)
rec = simulate(sc, p, load_inputs())
kz = 1 + REGIONS.index("kazakhstan")
def yr(name, col, rule):
    a = rec[name][:, col]
    out = {}
    for y in range(1921, 1941):
        m = slice((y - 1921) * 12, (y - 1920) * 12)
        out[y] = a[m].sum() if rule == "sum" else a[(y - 1921) * 12 + 5]
    return out
for col, lab in ((0, "USSR"), (kz, "Kazakhstan")):
    print(f"== {lab}")
    for herd in ("horses", "cattle", "sheep_goats"):
        v = yr(f"{herd}_head", col, "june")
        print(f"  {herd:12s}", " ".join(f"{y}:{v[y]/1e6:5.1f}" for y in range(1926, 1937)))
    ex = yr("excess_deaths_persons", col, "sum")
    print("  excess deaths 1930-34 (M):", round(sum(ex[y] for y in range(1930, 1935)) / 1e6, 3),
          " by year:", {y: round(ex[y] / 1e3) for y in range(1929, 1938)})
    if col:
        pop = yr("rural_population_persons", col, "june")
        print("  rural persons (M):", {y: round(pop[y] / 1e6, 2) for y in range(1928, 1937)})
        print("  excess 1930-34 / 1930 rural pop:", round(sum(ex[y] for y in range(1930, 1935)) / pop[1930], 3))
    fw = yr("fled_within_ussr_persons", col, "sum")
    fa = yr("fled_abroad_persons", col, "sum")
    print("  fled within USSR 1930-34 (k):", round(sum(fw[y] for y in range(1930, 1935)) / 1e3),
          " abroad (k):", round(sum(fa[y] for y in range(1930, 1935)) / 1e3),
          " by year within:", {y: round(fw[y] / 1e3) for y in range(1929, 1936) if fw[y]})
    k = yr("food_kcal_per_person_day", col, "june")
    print("  kcal (June):", {y: round(k[y]) for y in range(1926, 1937)})
ex = rec["excess_deaths_persons"]
tot = ex[(1930 - 1921) * 12:(1935 - 1921) * 12].sum(axis=0)
print("excess 1930-34 by region (M):", {r: round(tot[1 + i] / 1e6, 3) for i, r in enumerate(REGIONS)}, "USSR", round(tot[0] / 1e6, 3))
