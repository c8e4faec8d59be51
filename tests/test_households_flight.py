"""The household engine carries flight (issue 15, kazakh): with heterogeneity off, the
households who flee add up, by region and year, to the cell model's leavers (migrants to the
towns plus those fleeing within the USSR and abroad), and the standard outputs are the cell
model's, flight included."""

import numpy as np

import sovsim
from sovsim.api import shipped_parameters
from sovsim.engine.simulation import simulate
from sovsim.households.engine import simulate_households
from sovsim.regions import REGIONS

KZ = REGIONS.index("kazakhstan")


def test_households_carry_flight_as_the_cells_do():
    sc = sovsim.load_scenario("historical")
    # Kazakh herders who flee at the least hunger, and do not eat their herds first: flight
    # happens in the first years (a test setting, not a calibration).
    response = np.zeros(len(REGIONS))
    response[KZ] = 1.0
    p = shipped_parameters().with_overrides({
        "demography.flight_response_per_month": response,
        "livestock.hunger_slaughter_share": np.zeros(len(REGIONS)),
        "food.mare_milk_kcal_per_head_day": np.zeros(len(REGIONS))})
    months = 36
    records, out = simulate_households(sc, p, households=20_000, heterogeneity=False,
                                       months=months)
    cells = simulate(sc, p)
    fled = cells["fled_within_ussr_persons"][:months, 1 + KZ].sum() + cells[
        "fled_abroad_persons"][:months, 1 + KZ].sum()
    assert fled > 1000
    for name in ("fled_within_ussr_persons", "fled_abroad_persons", "population_persons"):
        np.testing.assert_array_equal(records[name][:months], cells[name][:months],
                                      err_msg=name)
    fl = out.tables["household_flows"].query("variable == 'out_migrants'")
    yearly = fl[fl.region == "kazakhstan"].groupby("year")[["value", "cell_model_value"]].sum()
    np.testing.assert_allclose(yearly.value, yearly.cell_model_value, rtol=1e-6)
    assert yearly.cell_model_value.sum() >= fled * (1 - 1e-9)
    # the households' own persons (before any alignment) stay the cell model's: those who fled
    # are gone from the households too
    tot = out.tables["household_totals"]
    persons = tot[(tot.region == "kazakhstan") & (tot.stock == "persons")]
    assert len(persons) and len(yearly)
    np.testing.assert_allclose(persons.households_value, persons.cell_model_value, rtol=1e-6)
