"""The web app's "The essay" section and the event markers, in real headless Chromium (the
fixtures of test_web_e2e: Debian's chromium driven by Playwright)."""

from __future__ import annotations

from test_web_e2e import page, server  # noqa: F401  (the module's fixtures: one server, one page)


def _essay_ready(pg) -> None:
    pg.wait_for_function("document.querySelector('#essay-status').textContent.includes('claims tested')",
                         timeout=240_000)


def test_the_essay_section_shows_each_claim_with_verdict_rule_and_chart(page):  # noqa: F811
    _essay_ready(page)
    assert page.errors == []
    claims = page.locator("#essay-claims article.claim")
    assert claims.count() == 12
    # a testable claim: its quote, a verdict word, the rule beside it, the evidence, a chart
    nep = page.locator("#claim-nep_kept")
    assert "keep the NEP going" in nep.locator("blockquote").inner_text()
    assert nep.locator(".verdict").inner_text() in ("Verdict: supports", "Verdict: partly",
                                                     "Verdict: contradicts")
    assert "supports: every test" in nep.locator(".rule").inner_text()
    assert nep.locator("tbody tr").count() == 3
    assert nep.locator("figure svg").count() >= 1
    # plain words: scenario titles, not internal names, in the numbers column
    text = nep.locator("tbody").inner_text()
    assert "NEP continued" in text and "nep vs" not in text
    # the counter-claim of collectivization is shown
    coll = page.locator("#claim-collectivization")
    assert "Counter-claim" in coll.inner_text() and "Manifesto" in coll.inner_text()
    # motives: listed apart, without a verdict
    heir = page.locator("#claim-heir_motive")
    assert heir.locator(".verdict").inner_text() == "outside what outcomes can test"
    assert "motive" in heir.inner_text().lower()
    # a record chart says it is data, not model output
    state = page.locator("#claim-withering_state")
    assert "not model output" in state.inner_text()


def test_events_mark_every_time_chart_and_can_be_hidden(page):  # noqa: F811
    _essay_ready(page)
    assert page.locator("#essay-timeline li").count() == 16
    assert "Dizzy with Success" in page.locator("#essay-timeline").inner_text()
    charts = page.locator("#charts figure svg")
    n = charts.count()
    assert n >= 10
    marked = page.locator("#charts figure svg g.events g.event-mark")
    assert marked.count() == 16 * n  # every event 1921-1930 falls inside 1921-1940
    assert "not a model input" in page.locator("#charts g.event-mark title").first.text_content()
    assert page.locator("#essay-claims svg g.events").count() >= 1
    assert page.locator("#doctrine-indicators svg g.events").count() >= 1
    page.uncheck("#show-events")
    assert not page.locator("#charts g.events").first.is_visible()
    page.check("#show-events")
    assert page.locator("#charts g.events").first.is_visible()
    assert page.errors == []


def test_the_doctrine_panel_marks_records_as_data_not_model_output(page):  # noqa: F811
    fig = page.locator("#doctrine-army_per_thousand")
    assert fig.count() == 1
    assert "recorded figures (data, not model output)" in fig.locator("svg").text_content()
    assert fig.locator("svg circle").count() >= 3  # the years with a recorded figure, as points
