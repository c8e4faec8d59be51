"""Mechanism 8, prices: the peasants' terms of trade (the scissors) and the free grain price.

Under NEP the free grain price clears the private market: when marketings (to the state and to
private traders, smoothed over about half a year) fall short of the towns' need, private buyers
bid above the state price. The price peasants get is the
state price, raised by the free premium on the share they may sell privately. Their terms of
trade are that price against the industrial price index, and manufactured goods count only if
they can be bought (the goods famine).
"""

from __future__ import annotations

from sovsim.mechanisms.context import Step
from sovsim.state import MacroState


def smoothed_market_ratio(previous: float, marketed_t: float, need_t: float, s: Step) -> float:
    """Marketings over the towns' need, smoothed (an exponential average of the months)."""
    w = s.p["prices.market_signal_weight"]
    return (1 - w) * previous + w * marketed_t / max(need_t, 1e-300)


def free_price_ratio(macro: MacroState, s: Step, urban_shortfall: float) -> float:
    """Target free/state price ratio given the smoothed shortfall of marketings (share)."""
    if not s.pol["private_trade"]:
        return 1.0
    p = s.p
    target = 1.0 + p["prices.free_premium_per_shortfall"] * max(urban_shortfall, 0.0)
    target = min(target, p["prices.free_price_ratio_max"])
    adj = p["prices.free_price_adjustment_per_month"]
    return macro["free_price_ratio"] + adj * (target - macro["free_price_ratio"])


def terms_of_trade(macro: MacroState, s: Step) -> float:
    """Peasants' effective grain price over industrial prices, times goods availability."""
    p = s.p
    private = p["procurement.private_share_of_sales"] if s.pol["private_trade"] else 0.0
    price = s.pol["state_grain_price_index"] * (1 - private + private * macro["free_price_ratio"])
    goods = min(macro["goods_availability"], p["prices.goods_availability_cap"])
    return price / s.pol["industrial_price_index"] * goods


def incentive(tot: float, elasticity: float, lo: float, hi: float) -> float:
    """A response to the terms of trade with constant elasticity, bounded."""
    return float(min(max(tot**elasticity, lo), hi))

