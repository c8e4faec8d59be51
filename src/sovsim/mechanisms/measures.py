"""Regional measures of the famine years (issue 15, measures): the blacklists.

Villages that failed the procurement plan were put on the 'black boards' (chorni doshky; in
the North Caucasus from 4 Nov 1932, in Ukraine from the CC CP(b)U resolution of 18 Nov 1932).
The instrument ``blacklist_share`` is the share of a region's villages on the boards. The
sanctions modelled, each acting on that share of every farming unit of the region:

- goods supply and trade stopped: the blacklisted see no manufactured goods, so their terms
  of trade are nil (``goods_response``: the sowing response of those who see no goods);
- fines in kind: meat, taken as live animals (cattle, pigs, sheep and goats; horses, the
  draught power, were not a meat fine), and potatoes, taken from the non-grain food
  (``blacklist_fines``, ``potato_fine_kcal``).

The sizes of the fines are parameters (``measures.*``): the decrees set the meat fine at 15
months of the meat norm, the norm itself and the potato fine were not read (their notes).
The other measures are read where they act: per-hectare delivery norms and regional plans,
floor and enforcement in ``procurement``, the ban on leaving the region in
``demography.migration``.
"""

from __future__ import annotations

import numpy as np

from sovsim.compiled import kernel
from sovsim.mechanisms.prices import incentive
from sovsim.state.table import CATTLE, HERD_ROWS, PIGS, SHEEP_GOATS


@kernel
def goods_response(response, lab, p, pol):
    """The sowing response of each unit (``response``: what the national terms of trade give)
    when the blacklisted share of its region sees no goods: theirs is the response to nil
    terms of trade."""
    none = incentive(0.0, p.agriculture_sowing_price_elasticity,
                     p.agriculture_sowing_response_min, 1.0)
    share = pol.blacklist_share[lab.region]
    return response + share * (none - response)


@kernel
def blacklist_fines(hv, lab, p, pol):
    """Head of livestock taken this month as the meat fine, by herd (HERDS order) and unit:
    (4, units); the blacklisted share of each farming unit's meat animals, at
    ``measures.blacklist_meat_fine_share_per_month``."""
    fines = np.zeros((4, hv.shape[1]))
    rate = min(max(p.measures_blacklist_meat_fine_share_per_month, 0.0), 1.0)
    for unit in range(hv.shape[1]):
        share = pol.blacklist_share[lab.region[unit]] * lab.farming[unit]
        if share <= 0.0:
            continue
        for row in (CATTLE, PIGS, SHEEP_GOATS):
            fines[row - HERD_ROWS, unit] = hv[row, unit] * share * rate
    return fines


@kernel
def potato_fine_kcal(lab, p, pol):
    """kcal a person a day of non-grain food (potatoes) taken this month from each unit:
    the blacklisted share of the unit at ``measures.blacklist_potato_fine_share`` of
    ``food.other_kcal_per_person_day``."""
    share = pol.blacklist_share[lab.region] * lab.farming
    return share * p.measures_blacklist_potato_fine_share * p.food_other_kcal_per_person_day
