// sovsim line charts: plain SVG, no library, styles as attributes so an exported SVG stands alone.
// Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies); series also
// differ by dash and marker shape, so colour is never the only cue.
"use strict";

// (Okabe–Ito yellow is left out: too pale on white for small markers)
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#000000"];
const SHAPES = ["circle", "square", "triangle", "diamond", "cross"];
const SVGNS = "http://www.w3.org/2000/svg";

function el(name, attrs, parent) {
  const node = document.createElementNS(SVGNS, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; }
  const span = hi - lo;
  const step0 = span / Math.max(n, 1);
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= step0) || step0;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * span; v += step) ticks.push(+v.toPrecision(12));
  return ticks;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1000) return v.toLocaleString("en", { maximumFractionDigits: 0 });
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toPrecision(2);
}

function marker(g, shape, x, y, color) {
  const r = 3.5;
  if (shape === "square") return el("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill: color }, g);
  if (shape === "triangle") return el("polygon", { points: `${x},${y - r - 1} ${x - r - 1},${y + r} ${x + r + 1},${y + r}`, fill: color }, g);
  if (shape === "diamond") return el("polygon", { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}`, fill: color }, g);
  if (shape === "cross") {
    const p = el("path", { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}`, stroke: color, "stroke-width": 2 }, g);
    return p;
  }
  return el("circle", { cx: x, cy: y, r: r, fill: color }, g);
}

// spec: {title, unit, lines: [{name, xs, ys, dash}], points: [{name, xs, ys, labels}], hline: {y, label}, yFloor}
function lineChart(spec, width = 460, plotHeight = 170) {
  const m = { left: 58, right: 12, top: 26, bottom: 34 };
  const height = m.top + plotHeight + m.bottom;  // grows below with the legend
  const svg = el("svg", {
    xmlns: SVGNS, width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "font-family": "system-ui, sans-serif", "font-size": 11,
  });
  el("rect", { x: 0, y: 0, width, height, fill: "#ffffff" }, svg);
  el("title", {}, svg).textContent = `${spec.title} (${spec.unit})`;
  const xs = [], ys = [];
  for (const s of [...spec.lines, ...(spec.points || [])]) {
    s.xs.forEach((x, i) => { if (s.ys[i] !== null && isFinite(s.ys[i])) { xs.push(x); ys.push(s.ys[i]); } });
  }
  if (spec.hline) ys.push(spec.hline.y);
  const x0 = Math.min(1921, ...xs), x1 = Math.max(1940, ...xs);
  let y0 = ys.length ? Math.min(...ys) : 0, y1 = ys.length ? Math.max(...ys) : 1;
  if (spec.yFloor !== undefined) y0 = Math.min(y0, spec.yFloor);
  if (y1 === y0) { y1 = y0 + 1; }
  const pad = 0.05 * (y1 - y0); y1 += pad; if (y0 !== 0) y0 -= pad;
  const W = width - m.left - m.right, H = height - m.top - m.bottom;
  const sx = x => m.left + (x - x0) / (x1 - x0) * W;
  const sy = y => m.top + H - (y - y0) / (y1 - y0) * H;
  // the plot's geometry, so that event markers can be drawn now or when the events arrive
  for (const [k, v] of Object.entries({ x0, x1, left: m.left, top: m.top, w: W, h: H })) svg.setAttribute(`data-${k}`, v);
  el("text", { x: m.left, y: 14, "font-size": 12, "font-weight": "bold", fill: "#000" }, svg).textContent = spec.title;
  const axis = el("g", { stroke: "#555", "stroke-width": 1 }, svg);
  el("line", { x1: m.left, y1: m.top + H, x2: m.left + W, y2: m.top + H }, axis);
  el("line", { x1: m.left, y1: m.top, x2: m.left, y2: m.top + H }, axis);
  for (const t of niceTicks(y0, y1, 5)) {
    el("line", { x1: m.left, x2: m.left + W, y1: sy(t), y2: sy(t), stroke: "#e5e5e5" }, svg);
    el("text", { x: m.left - 4, y: sy(t) + 4, "text-anchor": "end", fill: "#333" }, svg).textContent = fmt(t);
  }
  const xstep = x1 - x0 > 24 ? 4 : 2;
  for (let x = Math.ceil(x0 / xstep) * xstep; x <= x1; x += xstep) {
    el("line", { x1: sx(x), x2: sx(x), y1: m.top + H, y2: m.top + H + 4, stroke: "#555" }, svg);
    el("text", { x: sx(x), y: m.top + H + 15, "text-anchor": "middle", fill: "#333" }, svg).textContent = String(x);
  }
  el("text", { x: 12, y: m.top + H / 2, transform: `rotate(-90 12 ${m.top + H / 2})`, "text-anchor": "middle", fill: "#333" }, svg).textContent = spec.unit;
  if (spec.hline) {
    el("line", { x1: m.left, x2: m.left + W, y1: sy(spec.hline.y), y2: sy(spec.hline.y), stroke: "#777", "stroke-dasharray": "2 3" }, svg);
    el("text", { x: m.left + W - 2, y: sy(spec.hline.y) - 3, "text-anchor": "end", fill: "#555" }, svg).textContent = spec.hline.label;
  }
  const legend = [];
  spec.lines.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length];
    let d = "", pen = false;
    s.xs.forEach((x, j) => {
      const y = s.ys[j];
      if (y === null || !isFinite(y)) { pen = false; return; }
      d += `${pen ? "L" : "M"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`; pen = true;
    });
    el("path", { d, fill: "none", stroke: color, "stroke-width": 2.2, "stroke-dasharray": s.dash || "none", "data-series": s.name }, svg);
    legend.push({ name: s.name, color, dash: s.dash });
  });
  (spec.points || []).forEach((s, i) => {
    const color = PALETTE[(spec.lines.length + i) % PALETTE.length];
    const shape = SHAPES[i % SHAPES.length];
    const g = el("g", { "data-series": s.name }, svg);
    s.xs.forEach((x, j) => {
      if (s.ys[j] === null) return;
      const node = marker(g, shape, sx(x), sy(s.ys[j]), color);
      el("title", {}, node).textContent = s.labels ? s.labels[j] : `${s.name}: ${fmt(s.ys[j])}`;
    });
    legend.push({ name: s.name, color, shape });
  });
  // legend below the plot, wrapping
  let lx = m.left, ly = m.top + H + 32;
  for (const item of legend) {
    const w = 28 + 6.8 * item.name.length;
    if (lx + w > width - m.right) { lx = m.left; ly += 14; }
    if (item.shape) marker(svg, item.shape, lx + 8, ly - 4, item.color);
    else el("line", { x1: lx, x2: lx + 18, y1: ly - 4, y2: ly - 4, stroke: item.color, "stroke-width": 2.2, "stroke-dasharray": item.dash || "none" }, svg);
    el("text", { x: lx + 22, y: ly, fill: "#000" }, svg).textContent = item.name;
    lx += w;
  }
  const total = ly + 8;
  svg.setAttribute("height", total);
  svg.setAttribute("viewBox", `0 0 ${width} ${total}`);
  svg.querySelector("rect").setAttribute("height", total);
  svg.setAttribute("aria-label", describe(spec));
  eventMarks(svg);
  return svg;
}

// Political events (GET /api/events): a dotted line and a number on every time chart.
// Annotations only: they never feed the model.
let EVENTS = [];
function eventMarks(svg) {
  const old = svg.querySelector("g.events");
  if (old) old.remove();
  if (!EVENTS.length || !svg.hasAttribute("data-x0")) return;
  const num = k => +svg.getAttribute(`data-${k}`);
  const x0 = num("x0"), x1 = num("x1"), L = num("left"), T = num("top"), W = num("w"), H = num("h");
  const g = el("g", { class: "events" }, svg);
  let last = null;  // the previous number's label: events a few pixels apart share one label
  EVENTS.forEach((e, i) => {
    if (!(e.year >= x0 && e.year <= x1)) return;
    const x = L + (e.year - x0) / (x1 - x0) * W;
    const mark = el("g", { class: "event-mark" }, g);
    el("line", { x1: x, x2: x, y1: T, y2: T + H, stroke: "#888", "stroke-width": 1, "stroke-dasharray": "1 3" }, mark);
    if (last && x - last.x < 12) {
      last.node.textContent += `,${i + 1}`;
    } else {
      const node = el("text", { x, y: T - 2, "text-anchor": "start", "font-size": 8, fill: "#555" }, mark);
      node.textContent = String(i + 1);
      last = { x, node };
    }
    el("title", {}, mark).textContent = `${i + 1}. ${e.date}: ${e.event} (an event, not a model input)`;
  });
}
function setEvents(list) {
  EVENTS = list || [];
  document.querySelectorAll("svg[data-x0]").forEach(eventMarks);
}

function describe(spec) {
  const parts = spec.lines.map(s => {
    const v = s.ys.filter(y => y !== null && isFinite(y));
    if (!v.length) return `${s.name}: no values`;
    return `${s.name} from ${fmt(v[0])} to ${fmt(v[v.length - 1])}, lowest ${fmt(Math.min(...v))}, highest ${fmt(Math.max(...v))}`;
  });
  const n = (spec.points || []).reduce((a, s) => a + s.xs.length, 0);
  return `${spec.title} in ${spec.unit}, 1921 to 1940: ${parts.join("; ")}` + (n ? `; ${n} recorded values from the sources` : "");
}

function svgText(svg) {
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(svg);
}

function download(filename, blob) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

function downloadSVG(svg, name) {
  download(`${name}.svg`, new Blob([svgText(svg)], { type: "image/svg+xml" }));
}

function downloadPNG(svg, name, scale = 2) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(new Blob([svgText(svg)], { type: "image/svg+xml" }));
    img.onload = () => {
      const canvas = document.createElement("canvas");
      canvas.width = svg.width.baseVal.value * scale;
      canvas.height = svg.height.baseVal.value * scale;
      const ctx = canvas.getContext("2d");
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0);
      URL.revokeObjectURL(url);
      canvas.toBlob(b => { download(`${name}.png`, b); resolve(); }, "image/png");
    };
    img.onerror = reject;
    img.src = url;
  });
}

function csvCell(v) {
  if (v === null || v === undefined) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function downloadCSV(rows, name) {
  const text = rows.map(r => r.map(csvCell).join(",")).join("\n") + "\n";
  download(`${name}.csv`, new Blob([text], { type: "text/csv" }));
}

window.sovsimChart = { lineChart, downloadSVG, downloadPNG, downloadCSV, download, PALETTE, setEvents };
