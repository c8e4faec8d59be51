"""Mechanism 8, prices: the peasants' terms of trade (the scissors) and the free grain price.

Under NEP the free grain price clears the private market: when marketings (to the state and to
private traders, smoothed over about half a year) fall short of the towns' need, private buyers
bid above the state price. The price peasants get is the
state price, raised by the free premium on the share they may sell privately. Their terms of
trade are that price against the industrial price index, and manufactured goods count only if
they can be bought (the goods famine).
"""

from __future__ import annotations

from sovsim.compiled import kernel


@kernel
def smoothed_market_ratio(previous, marketed_t, need_t, p):
    """Marketings over the towns' need, smoothed (an exponential average of the months)."""
    w = p.prices_market_signal_weight
    return (1 - w) * previous + w * marketed_t / max(need_t, 1e-300)


@kernel
def free_price_ratio(current, p, pol, urban_shortfall):
    """This month's free/state price ratio: ``current`` moved toward the target that the
    smoothed shortfall of marketings (a share) sets."""
    if not pol.private_trade:
        return 1.0
    target = 1.0 + p.prices_free_premium_per_shortfall * max(urban_shortfall, 0.0)
    target = min(target, p.prices_free_price_ratio_max)
    adj = p.prices_free_price_adjustment_per_month
    return current + adj * (target - current)


@kernel
def terms_of_trade(free_price_ratio, goods_availability, p, pol):
    """Peasants' effective grain price over industrial prices, times goods availability."""
    private = p.procurement_private_share_of_sales if pol.private_trade else 0.0
    price = pol.state_grain_price_index * (1 - private + private * free_price_ratio)
    goods = min(goods_availability, p.prices_goods_availability_cap)
    return price / pol.industrial_price_index * goods


@kernel
def incentive(tot, elasticity, lo, hi):
    """A response to the terms of trade with constant elasticity, bounded."""
    return min(max(tot**elasticity, lo), hi)
