"""Mechanism 7, trade: exports earn foreign currency at world prices; it buys machinery.

Grain exports are valued at the world grain price (an input: the 1929-32 collapse), other
exports at their 1926/27 value. Export earnings and foreign credit pay for machinery imports,
which add to investment. 'Socialism in One Country' versus 'Permanent Revolution' differs
here: autarky with grain-for-machines against credit from a revolutionary Europe.
"""

from __future__ import annotations

from collections import namedtuple

from sovsim.compiled import kernel

Trade = namedtuple("Trade", "export_earnings_rub machinery_imports_rub credit_rub")


@kernel
def machinery_imports(p, pol, world_price, grain_exports_t):
    """Export earnings, the machinery imports they and credit buy, and the credit, this month
    (rub)."""
    price = p.trade_grain_export_price_rub_per_t * world_price
    earnings = grain_exports_t * price + p.trade_other_exports_rub_per_year / 12.0
    credit = credit_per_month(pol)
    imports = earnings * p.trade_machinery_share_of_imports + credit
    return Trade(earnings, imports, credit)


@kernel
def credit_per_month(pol):
    """Foreign credit this month (rub): it buys machinery, which industry adds to capital on
    top of the plan's domestic investment."""
    return pol.foreign_credit_rub_per_year / 12.0
