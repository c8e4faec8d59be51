"""Mechanism 7, trade: exports earn foreign currency at world prices; it buys machinery.

Grain exports are valued at the world grain price (an input: the 1929-32 collapse), other
exports at their 1926/27 value. Export earnings and foreign credit pay for machinery imports,
which add to investment. 'Socialism in One Country' versus 'Permanent Revolution' differs
here: autarky with grain-for-machines against credit from a revolutionary Europe.
"""

from __future__ import annotations

from sovsim.mechanisms.context import Step


def machinery_imports(s: Step, grain_exports_t: float) -> dict[str, float]:
    """Export earnings and the machinery imports they and credit buy this month (rub)."""
    p = s.p
    price = p["trade.grain_export_price_rub_per_t"] * s.inputs.world_price(s.year)
    earnings = grain_exports_t * price + p["trade.other_exports_rub_per_year"] / 12.0
    credit = s.pol["foreign_credit_rub_per_year"] / 12.0
    imports = earnings * p["trade.machinery_share_of_imports"] + credit
    return {"export_earnings_rub": earnings, "machinery_imports_rub": imports, "credit_rub": credit}
