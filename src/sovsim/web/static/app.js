// sovsim classroom: the page. Talks to the JSON API only; keeps the scenario being edited in
// `state.scenario` (the shape of a scenario file, `changes` for [[change]]).
"use strict";

const C = window.sovsimChart;
const $ = sel => document.querySelector(sel);
const state = { instruments: {}, scenarios: [], history: null, doctrine: null, baseline: null, scenario: null, last: null };
const REGIONS = ["ukraine", "north_caucasus", "volga", "kazakhstan", "rest"];

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const res = await fetch(path, opts);
  const type = res.headers.get("content-type") || "";
  const data = type.includes("json") ? await res.json() : await res.text();
  if (!res.ok) throw new Error(data && data.detail ? data.detail : `HTTP ${res.status}`);
  return data;
}

function status(text, isError) {
  const s = $("#status");
  s.textContent = text;
  s.className = isError ? "error" : "";
}

function option(select, value, label, selected) {
  const o = document.createElement("option");
  o.value = value; o.textContent = label; o.selected = !!selected;
  select.appendChild(o);
  return o;
}

// ---------- the timeline editor ----------

function valueInput(inst, value, id) {
  let input;
  if (inst.kind === "bool") {
    input = document.createElement("select");
    option(input, "true", "yes", value === true);
    option(input, "false", "no", value !== true);
  } else if (inst.kind === "choice") {
    input = document.createElement("select");
    inst.choices.forEach(c => option(input, c, c, c === value));
  } else {  // shown in the display unit (a plan in tonnes as million tonnes)
    input = document.createElement("input");
    input.type = "number"; input.step = "any";
    input.min = shown(inst, inst.min); input.max = shown(inst, inst.max);
    input.value = shown(inst, value);
  }
  input.id = id;
  input.className = "value";
  return input;
}

// A value in the instrument's display unit, and back (rounded to what the unit can show).
function shown(inst, value) {
  const v = value / (inst.scale || 1);
  return Number.isFinite(v) ? Number(v.toPrecision(12)) : value;
}

function readValue(inst, input) {
  if (inst.kind === "bool") return input.value === "true";
  if (inst.kind === "choice") return input.value;
  return input.value === "" ? NaN : Number((Number(input.value) * (inst.scale || 1)).toPrecision(12));
}

let rowSeq = 0;
function addRow(change) {
  const tbody = $("#changes tbody");
  const tr = document.createElement("tr");
  const n = ++rowSeq;
  const name = change.instrument in state.instruments ? change.instrument : Object.keys(state.instruments)[0];
  const cells = [0, 1, 2, 3, 4, 5].map(() => tr.appendChild(document.createElement("td")));

  const date = document.createElement("input");
  date.type = "month"; date.min = "1921-01"; date.max = "1940-12"; date.value = change.date || "1929-01";
  date.id = `date-${n}`; date.className = "date";
  date.setAttribute("aria-label", `change ${n}: from (year and month)`);
  cells[0].appendChild(date);

  const inst = document.createElement("select");
  inst.id = `inst-${n}`; inst.className = "instrument";
  inst.setAttribute("aria-label", `change ${n}: instrument`);
  const byLabel = Object.values(state.instruments).sort((a, b) => a.label.localeCompare(b.label));
  for (const spec of byLabel) option(inst, spec.name, spec.label, spec.name === name).title = spec.name;
  inst.title = name;
  cells[1].appendChild(inst);

  const region = document.createElement("select");
  region.id = `region-${n}`; region.className = "region";
  region.setAttribute("aria-label", `change ${n}: region`);
  option(region, "", "all regions", !change.region);
  REGIONS.forEach(r => option(region, r, r.replace("_", " "), r === change.region));
  cells[2].appendChild(region);

  const note = document.createElement("input");
  note.type = "text"; note.className = "note"; note.id = `note-${n}`; note.maxLength = 2000;
  note.value = change.note || "";
  note.setAttribute("aria-label", `change ${n}: note`);
  cells[4].appendChild(note);
  tr.dataset.source = change.source || "";

  const remove = document.createElement("button");
  remove.type = "button"; remove.textContent = "Remove";
  remove.setAttribute("aria-label", `remove change ${n}`);
  remove.addEventListener("click", () => { tr.remove(); syncScenario(); });
  cells[5].appendChild(remove);

  const setValue = (value) => {
    const spec = state.instruments[inst.value];
    cells[3].replaceChildren(valueInput(spec, value, `value-${n}`));
    cells[3].firstChild.setAttribute("aria-label", `change ${n}: ${spec.label}` + (spec.display_unit ? ` (${spec.display_unit})` : ""));
    cells[3].firstChild.title = spec.display_unit || "";
    inst.title = spec.name;
    region.disabled = !spec.regional;
    if (!spec.regional) region.value = "";
  };
  setValue(change.value !== undefined ? change.value : state.instruments[name].default);
  inst.addEventListener("change", () => { setValue(state.instruments[inst.value].default); showDoc(inst.value); });
  inst.addEventListener("focus", () => showDoc(inst.value));
  tr.addEventListener("change", syncScenario);
  tbody.appendChild(tr);
  return tr;
}

function showDoc(name) {
  const i = state.instruments[name];
  if (!i) return;
  const range = i.kind === "float" ? ` Allowed: ${shown(i, i.min)} to ${shown(i, i.max)} ${i.display_unit}.` : i.kind === "choice" ? ` Allowed: ${i.choices.join(", ")}.` : "";
  $("#instrument-doc").textContent = `${i.label}` + (i.display_unit ? `, ${i.display_unit}` : "") + ` (${name}): ${i.doc}${range}`;
}

function readChanges() {
  const out = [];
  for (const tr of document.querySelectorAll("#changes tbody tr")) {
    const name = tr.querySelector(".instrument").value;
    const change = {
      date: tr.querySelector(".date").value,
      instrument: name,
      value: readValue(state.instruments[name], tr.querySelector(".value")),
    };
    const region = tr.querySelector(".region").value;
    if (region) change.region = region;
    const note = tr.querySelector(".note").value;
    if (note) change.note = note;
    if (tr.dataset.source) change.source = tr.dataset.source;
    out.push(change);
  }
  return out;
}

function syncScenario() {
  const sc = { name: $("#sc-name").value || "my-scenario", changes: readChanges() };
  const ext = $("#sc-extends").value;
  sc.extends = ext || null;
  if (ext && $("#sc-diverge").value) sc.diverge = $("#sc-diverge").value;
  if (state.scenario && state.scenario.title && state.scenario.name === sc.name) sc.title = state.scenario.title;
  if (state.scenario && state.scenario.description && state.scenario.name === sc.name) sc.description = state.scenario.description;
  state.scenario = sc;
  return sc;
}

function showScenario(sc) {
  state.scenario = sc;
  $("#sc-name").value = sc.name || "my-scenario";
  $("#sc-extends").value = sc.extends || "";
  $("#sc-diverge").value = sc.diverge || "";
  $("#changes tbody").replaceChildren();
  for (const ch of sc.changes || []) addRow(ch);
}

async function loadPreset() {
  const name = $("#preset").value;
  const sc = await api(`/api/scenarios/${encodeURIComponent(name)}`);
  showScenario(sc);
  status(`Loaded ${name}: ${sc.changes.length} changes of its own` + (sc.extends ? `, on top of ${sc.extends}.` : "."));
}

function describePreset() {
  const s = state.scenarios.find(x => x.name === $("#preset").value);
  $("#preset-desc").textContent = s ? `${s.title}. ${s.description}` : "";
}

// ---------- running and showing ----------

async function run() {
  const sc = syncScenario();
  const bad = sc.changes.findIndex(c => typeof c.value === "number" && !isFinite(c.value));
  if (bad >= 0) { status(`Change ${bad + 1}: the value is not a number.`, true); return; }
  status("Running…");
  $("#run").disabled = true;
  const t0 = performance.now();
  try {
    const res = await api("/api/run", { scenario: sc });
    state.last = res;
    drawCharts(res);
    drawDoctrine(res);
    drawNarrative(res);
    status(`Ran ${res.scenario} in ${Math.round(performance.now() - t0)} ms.`);
  } catch (e) {
    status(`Not run: ${e.message}`, true);
  } finally {
    $("#run").disabled = false;
  }
}

function slug(s) { return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, ""); }

function figure(container, id, svg, csvRows) {
  const fig = document.createElement("figure");
  fig.id = id;
  svg.setAttribute("tabindex", "0");
  fig.appendChild(svg);
  const bar = document.createElement("div");
  bar.className = "downloads";
  const title = svg.querySelector("title").textContent;
  const buttons = [
    ["PNG", () => C.downloadPNG(svg, id)],
    ["SVG", () => C.downloadSVG(svg, id)],
    ["CSV", () => C.downloadCSV(csvRows(), id)],
  ];
  for (const [label, fn] of buttons) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.className = `dl-${label.toLowerCase()}`;
    b.setAttribute("aria-label", `download ${title} as ${label}`);
    b.addEventListener("click", fn);
    bar.appendChild(b);
  }
  fig.appendChild(bar);
  container.appendChild(fig);
}

function drawCharts(res) {
  const box = $("#charts");
  box.replaceChildren();
  const hist = state.history;
  const f = res.famine;
  $("#famine").textContent = res.famine_text;
  for (const ch of hist.charts) {
    const v = ch.variable;
    const byVariant = {};
    for (const p of hist.points[v]) (byVariant[p.variant] = byVariant[p.variant] || []).push(p);
    const variants = Object.keys(byVariant);  // every variant: shape and colour together tell them apart
    const named = (hist.variant_labels && hist.variant_labels[v]) || {};
    const spec = {
      title: ch.label, unit: ch.unit, yFloor: 0,
      lines: [
        { name: res.scenario, xs: res.years, ys: res.series[v] },
        { name: "historical run", xs: res.years, ys: state.baseline.series[v], dash: "6 4" },
      ],
      points: variants.map(key => ({
        name: named[key] || key, xs: byVariant[key].map(p => p.x), ys: byVariant[key].map(p => p.value),
        labels: byVariant[key].map(p => `${p.source_label || p.source} (${key}), ${p.period}: ${p.value}`),
      })),
    };
    const rows = () => {
      const out = [["variable", "unit", "kind", "name", "period", "value", "source"]];
      res.years.forEach((y, i) => out.push([v, ch.unit, "model", res.scenario, y, res.series[v][i], ""]));
      res.years.forEach((y, i) => out.push([v, ch.unit, "model", "historical run", y, state.baseline.series[v][i], ""]));
      for (const p of hist.points[v]) out.push([v, ch.unit, "record", p.variant, p.period, p.value, p.source]);
      return out;
    };
    figure(box, `chart-${v}`, C.lineChart(spec), rows);
  }
}

function drawDoctrine(res) {
  const defs = state.doctrine;
  const regimes = res.narrative.map(n => n);
  const head = $("#doctrine-axes thead"), body = $("#doctrine-axes tbody");
  const tr = document.createElement("tr");
  tr.appendChild(document.createElement("th")).textContent = "axis";
  for (const r of regimes) {
    const th = tr.appendChild(document.createElement("th"));
    th.scope = "col"; th.textContent = `${r.years[0]}–${r.years[1]} (in history: ${r.regime})`;
  }
  head.replaceChildren(tr);
  body.replaceChildren();
  const mean = (byYear, y0, y1) => {
    const v = res.years.map((y, i) => (y >= y0 && y <= y1 ? byYear[i] : null)).filter(d => d !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const mine = res.doctrine, theirs = state.baseline.doctrine;
  for (const [axis, text] of Object.entries(defs.axes)) {
    const row = document.createElement("tr");
    const th = row.appendChild(document.createElement("th"));
    th.scope = "row"; th.textContent = axis.replace("_", " "); th.title = text;
    for (const r of regimes) {
      const a = mean(mine.axes[axis], r.years[0], r.years[1]);
      const b = mean(theirs.axes[axis], r.years[0], r.years[1]);
      row.appendChild(document.createElement("td")).textContent = a === null ? "direction only" : `${a.toFixed(2)} (${b.toFixed(2)})`;
    }
    body.appendChild(row);
  }
  const box = $("#doctrine-indicators");
  box.replaceChildren();
  for (const [axis, text] of Object.entries(defs.axes)) {
    const sec = document.createElement("div");
    sec.className = "axis";
    const h = sec.appendChild(document.createElement("h3"));
    h.textContent = text;
    const grid = sec.appendChild(document.createElement("div"));
    grid.className = "grid";
    for (const ind of defs.indicators.filter(i => i.axis === axis)) {
      const spec = {
        title: ind.label, unit: ind.unit, yFloor: 0,
        lines: [
          { name: res.scenario, xs: res.years, ys: mine.indicators[ind.name].value },
          { name: "historical run", xs: res.years, ys: theirs.indicators[ind.name].value, dash: "6 4" },
        ],
        hline: ind.pole === null ? undefined : { y: ind.pole, label: "the passage's pole" },
      };
      const rows = () => [["indicator", "unit", "year", res.scenario, "historical run"],
        ...res.years.map((y, i) => [ind.name, ind.unit, y, spec.lines[0].ys[i], spec.lines[1].ys[i]])];
      const cell = grid.appendChild(document.createElement("div"));
      figure(cell, `doctrine-${ind.name}`, C.lineChart(spec, 460, 150), rows);
      const det = cell.appendChild(document.createElement("details"));
      det.appendChild(document.createElement("summary")).textContent = "Definition and sources";
      det.appendChild(document.createElement("p")).textContent = ind.definition;
      const formula = det.appendChild(document.createElement("p"));
      formula.appendChild(document.createTextNode("Formula: "));
      formula.appendChild(document.createElement("code")).textContent = ind.formula;
      det.appendChild(document.createElement("p")).textContent = ind.pole_note;
      const ul = det.appendChild(document.createElement("ul"));
      for (const s of ind.sources) {
        const li = ul.appendChild(document.createElement("li"));
        li.textContent = `${s.author}, ${s.work} (${s.year}), ${s.part}: ` + (s.quote ? `“${s.quote}”` : `(gist) ${s.gist}`);
      }
    }
    box.appendChild(sec);
  }
}

function drawNarrative(res) {
  const box = $("#narrative-text");
  box.replaceChildren();
  for (const n of res.narrative) {
    const h = box.appendChild(document.createElement("h3"));
    h.textContent = `${n.years[0]}–${n.years[1]} (in history: ${n.regime})`;
    box.appendChild(document.createElement("p")).textContent = n.text;
  }
}

// ---------- TOML download and upload ----------

async function downloadToml() {
  const sc = syncScenario();
  try {
    const res = await fetch("/api/scenario/toml", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(sc),
    });
    if (!res.ok) { const e = await res.json(); throw new Error(e.detail); }
    C.download(`${slug(sc.name) || "scenario"}.toml`, new Blob([await res.text()], { type: "application/toml" }));
    status(`Downloaded ${slug(sc.name) || "scenario"}.toml.`);
  } catch (e) {
    status(`Not downloaded: ${e.message}`, true);
  }
}

async function upload(ev) {
  const file = ev.target.files[0];
  if (!file) return;
  try {
    if (file.size > 200000) throw new Error("the file is over 200 kB");
    const sc = await api("/api/scenario/parse", { toml: await file.text() });
    showScenario(sc);
    status(`Uploaded ${file.name}: ${sc.changes.length} changes.`);
  } catch (e) {
    status(`Not uploaded: ${e.message}`, true);
  }
  ev.target.value = "";
}

// ---------- start ----------

async function init() {
  const [inst, scen, hist, doct, base] = await Promise.all([
    api("/api/instruments"), api("/api/scenarios"), api("/api/history"), api("/api/doctrine"),
    api("/api/baseline"),
  ]);
  state.baseline = base;
  for (const i of inst) state.instruments[i.name] = i;
  state.scenarios = scen; state.history = hist; state.doctrine = doct;
  for (const s of scen) { option($("#preset"), s.name, s.title, s.name === "nep"); }
  option($("#sc-extends"), "", "(nothing: instrument defaults)");
  for (const s of scen) option($("#sc-extends"), s.name, s.name);
  describePreset();
  $("#preset").addEventListener("change", describePreset);
  $("#load-preset").addEventListener("click", loadPreset);
  $("#add-change").addEventListener("click", () => { const tr = addRow({ instrument: "grain_export_target_t", date: "1932-07" }); tr.querySelector(".date").focus(); syncScenario(); });
  $("#run").addEventListener("click", run);
  $("#download-toml").addEventListener("click", downloadToml);
  $("#upload").addEventListener("change", upload);
  for (const id of ["#sc-name", "#sc-extends", "#sc-diverge"]) $(id).addEventListener("change", syncScenario);
  await loadPreset();
  await run();
  document.body.dataset.ready = "1";
}

init().catch(e => status(`The page could not start: ${e.message}`, true));
