// The essay, claim by claim (GET /api/essay), and the political timeline (GET /api/events) as
// markers on every chart of the page. No inline script: the page loads this file.
"use strict";

(function () {
  const C = window.sovsimChart;
  const RESULT = {
    holds: "holds", fails: "goes the other way", flat: "too small a change to count",
    "no data": "no data in those years", "not run": "scenario not run",
  };

  function node(tag, attrs, parent, text) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    if (parent) parent.appendChild(n);
    return n;
  }

  function num(v) {
    if (v === null || v === undefined) return "no value";
    const a = Math.abs(v);
    if (a !== 0 && a < 0.01) return v.toExponential(1);
    return a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
  }

  function span(s) { return s[0] === s[1] ? String(s[0]) : `${s[0]}–${s[1]}`; }

  function values(t, unit, titles) {
    const name = s => (s === "historical" ? "the historical run" : titles[s] || s);
    if (t.kind === "change") {
      return `${num(t.value_before)} (${span(t.before)}) → ${num(t.value_after)} (${span(t.after)}) ${unit}, ${name(t.scenario)}`;
    }
    if (t.kind === "contrast") {
      return `${name(t.versus)}: ${num(t.value_versus)}; ${name(t.scenario)}: ${num(t.value)} ${unit} (${span(t.years)})`;
    }
    return `${num(t.value)} ${unit} (${span(t.years)}; the test: ${t.direction} ${t.threshold})`;
  }

  async function getJSON(path) {
    const r = await fetch(path, { headers: { Accept: "application/json" } });
    if (!r.ok) {
      let detail = `${r.status}`;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
      throw new Error(detail);
    }
    return r.json();
  }

  function timeline(events) {
    const list = document.getElementById("essay-timeline");
    list.replaceChildren();
    for (const e of events) {
      const li = node("li", {}, list);
      node("strong", {}, li, `${e.date}: ${e.event}. `);
      li.appendChild(document.createTextNode(`${e.note} `));
      node("span", { class: "muted" }, li, `Source: ${e.citation} ${e.location}.`);
    }
  }

  function chart(name, ch, years, titles) {
    const record = ch.basis === "record";
    const series = Object.entries(ch.series).map(([sc, ys]) => ({
      name: record ? "recorded figures (data, not model output)"
        : sc === "historical" ? "model: the historical run" : `model: ${titles[sc] || sc}`,
      xs: years, ys,
    }));
    const spec = { title: ch.label, unit: ch.unit, lines: record ? [] : series,
                   points: record ? series.slice(0, 1) : [] };
    const fig = node("figure", { id: `essay-chart-${name}` });
    fig.appendChild(C.lineChart(spec, 440, 150));
    node("figcaption", { class: "muted" }, fig,
         record ? "Points: the historical record (sourced data; only where a figure was found)."
                : "Lines: the model's runs.");
    return fig;
  }

  function claimBlock(c, report) {
    const titles = report.scenario_titles || {};
    const box = node("article", { class: "claim", id: `claim-${c.id}` });
    node("h3", {}, box, c.asserts);
    node("blockquote", {}, box, `“${c.quote}”`);
    node("p", { class: "muted" }, box, `Period: ${c.period}. Policy regime: ${c.regime}.`);
    const v = node("p", {}, box);
    if (!c.testable) {
      node("span", { class: "verdict outside" }, v, "outside what outcomes can test");
      node("p", {}, box, c.why_not);
      return box;
    }
    node("span", { class: "verdict " + (c.verdict || "outside") }, v, `Verdict: ${c.verdict || "no data"}`);
    node("p", { class: "muted rule" }, box, `The rule: ${report.rule}`);
    const table = node("table", {}, box);
    node("caption", {}, table, "The evidence");
    const head = node("tr", {}, node("thead", {}, table));
    for (const h of ["", "What is tested", "The numbers", "Result"]) node("th", { scope: "col" }, head, h);
    const body = node("tbody", {}, table);
    for (const [kind, rows] of [["for the claim", c.tests], ["against it", c.counters]]) {
      for (const t of rows) {
        const tr = node("tr", {}, body);
        node("td", {}, tr, kind);
        node("td", {}, tr, t.says);
        node("td", {}, tr, t.result === "not run" ? "" : values(t, c.charts[t.indicator].unit, titles));
        node("td", {}, tr, RESULT[t.result] || t.result);
      }
    }
    const against = c.counters.filter(t => t.result === "holds");
    if (against.length) {
      node("p", {}, box, "Counter-claim: " + against.map(t => t.says).join(" "));
    }
    const charts = node("div", { class: "charts" }, box);
    for (const [name, ch] of Object.entries(c.charts)) charts.appendChild(chart(name, ch, report.years, titles));
    return box;
  }

  async function loadEvents() {
    try {
      const body = await getJSON("/api/events");
      C.setEvents(body.events);
      timeline(body.events);
    } catch (e) {
      document.getElementById("essay-timeline").textContent = `The timeline could not be loaded: ${e.message}`;
    }
  }

  async function loadEssay() {
    const status = document.getElementById("essay-status");
    status.textContent = "Testing the essay's claims against three runs of the model (the first time takes a little while)…";
    try {
      const report = await getJSON("/api/essay");
      const box = document.getElementById("essay-claims");
      box.replaceChildren();
      const testable = report.claims.filter(c => c.testable);
      const outside = report.claims.filter(c => !c.testable);
      for (const c of testable) box.appendChild(claimBlock(c, report));
      if (outside.length) {
        node("h3", {}, box, "Outside what outcomes can test");
        for (const c of outside) box.appendChild(claimBlock(c, report));
      }
      status.textContent = `${testable.length} claims tested, ${outside.length} outside what outcomes can test.`;
    } catch (e) {
      status.textContent = `The essay could not be tested: ${e.message}`;
    }
  }

  document.getElementById("show-events").addEventListener("change", ev => {
    document.body.classList.toggle("hide-events", !ev.target.checked);
  });
  loadEvents().then(loadEssay);
})();
