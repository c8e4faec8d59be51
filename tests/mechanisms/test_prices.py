"""Prices (mechanisms.prices): the free price and the peasants' terms of trade."""

from sovsim.mechanisms.prices import free_price_ratio, terms_of_trade


def test_a_shortfall_raises_the_free_price(world):
    """When marketings fall short of the towns' need, the free price moves up."""
    pol = world.pol("1927-12", private_trade=True)
    assert free_price_ratio(1.0, world.p, pol, 0.4) > free_price_ratio(1.0, world.p, pol, 0.0)


def test_without_private_trade_there_is_no_free_price(world):
    pol = world.pol("1933-01", private_trade=False)
    assert free_price_ratio(1.5, world.p, pol, 0.4) == 1.0


def test_scarce_goods_worsen_the_terms_of_trade(world):
    """Grain buys less when there is nothing in the shops (the goods famine of 1927-28)."""
    pol = world.pol("1927-12")
    assert terms_of_trade(1.0, 0.5, world.p, pol) < terms_of_trade(1.0, 1.0, world.p, pol)
