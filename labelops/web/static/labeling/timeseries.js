// TimeSeries: a line chart per <Channel> from CSV/JSON (inline or valueType="url"), with
// TimeSeriesLabels ranges marked by dragging: {start, end, instant: false, timeserieslabels}, and
// instants marked by a click: {start: t, end: t, instant: true, timeserieslabels}, drawn as a
// vertical marker. The x range zooms (buttons, ctrl+wheel, shift+wheel pans) and an overview strip
// under the channels shows the whole series with the visible window, which is dragged to move it;
// dragging elsewhere on the overview picks a new window.
import { dragRange, rangeBand } from "./axis_range.js";
import { attr, clamp, h, resolveValue, s } from "./dom.js";

const LABEL_TAGS = ["TimeSeriesLabels"];
const PAD = { left: 48, right: 12, top: 8, bottom: 8 };
const CHART_HEIGHT = 110;
const OVERVIEW_HEIGHT = 40;
const ZOOM_STEP = 1.5;
const PALETTE = ["#1f6feb", "#389e0d", "#9254de", "#d48806", "#d4380d"];

export function parseCsv(text, sep = ",") {
  const lines = text.split(/\r?\n/).filter((line) => line.trim());
  const header = lines[0].split(sep).map((c) => c.trim().replace(/^"|"$/g, ""));
  const columns = Object.fromEntries(header.map((name) => [name, []]));
  for (const line of lines.slice(1)) {
    const cells = line.split(sep);
    for (const [i, name] of header.entries()) columns[name].push((cells[i] || "").trim().replace(/^"|"$/g, ""));
  }
  return columns;
}

function numeric(values) {
  return values.map((v) => {
    if (typeof v === "number") return v;
    const n = Number(v);
    if (v !== "" && !Number.isNaN(n)) return n;
    const t = Date.parse(v);
    return Number.isNaN(t) ? NaN : t;
  });
}

async function loadColumns(obj, ctx) {
  const value = resolveValue(obj.value, ctx.data);
  if (attr(obj.attrs, "valueType", "json") === "url") {
    const response = await fetch(value);
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const text = await response.text();
    if (/^\s*[[{]/.test(text)) return JSON.parse(text);
    return parseCsv(text, attr(obj.attrs, "sep", ","));
  }
  if (typeof value === "string") return JSON.parse(value);
  return value || {};
}

export async function mountTimeSeries(ctx, node, obj) {
  const { store } = ctx;
  const el = h("div", { class: "lo-timeseries", "data-object": obj.name });
  let columns;
  try {
    columns = await loadColumns(obj, ctx);
  } catch (error) {
    el.append(
      h("div", { class: "lo-unsupported", role: "alert" }, `The time series could not be loaded (${error.message}).`),
    );
    return el;
  }
  const channels = node.children.filter((c) => c.tag === "Channel");
  const timeColumn = attr(obj.attrs, "timeColumn");
  const first = channels.length ? columns[attr(channels[0].attrs, "column")] || [] : [];
  const times = timeColumn && columns[timeColumn] ? numeric(columns[timeColumn]) : first.map((_, i) => i);
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const span = t1 - t0 || 1;
  // The narrowest window shows a few samples.
  const minSpan = Math.min(span, (span / Math.max(1, times.length - 1)) * 4);
  // The visible window of the x axis.
  let [v0, v1] = [t0, t1];
  const chart = h("div", { class: "lo-chart" });
  const overlay = h("div", {
    class: "lo-bands",
    style: `position:absolute;top:0;bottom:0;left:${PAD.left}px;right:${PAD.right}px;pointer-events:none;overflow:hidden`,
  });
  const zoomButton = (label, title, onclick) =>
    h("button", { type: "button", class: "lo-icon", title, "aria-label": title, onclick }, label);
  const overview = s("svg", { class: "lo-ts-overview", height: OVERVIEW_HEIGHT, role: "img" });
  overview.setAttribute("aria-label", "Whole series: drag the window to move it, drag elsewhere to pick a new one");
  const zoomRow = h(
    "div",
    { class: "lo-media-row lo-ts-zoom" },
    zoomButton("−", "Zoom out", () => zoomBy(ZOOM_STEP)),
    zoomButton("+", "Zoom in", () => zoomBy(1 / ZOOM_STEP)),
    zoomButton("⤢", "Show the whole series", () => setView(t0, t1)),
    h("span", {}, "ctrl+wheel zooms, shift+wheel scrolls"),
  );
  el.append(chart, overview, zoomRow);

  const width = () => chart.clientWidth || 800;
  const plotWidth = (w) => w - PAD.left - PAD.right;
  const xOf = (t, w) => PAD.left + ((t - v0) / (v1 - v0 || 1)) * plotWidth(w);
  const overviewX = (t, w) => PAD.left + ((t - t0) / span) * plotWidth(w);
  // The points of a channel inside the window, with one neighbour on each side so the line
  // reaches the plot's edges.
  const visible = (values) => {
    const keep = [];
    for (let j = 0; j < times.length; j += 1) {
      const inside = times[j] >= v0 && times[j] <= v1;
      const near = times[j + 1] >= v0 && times[j - 1] <= v1;
      if ((inside || near) && Number.isFinite(values[j])) keep.push(j);
    }
    return keep;
  };
  const linePath = (values, indices, x, y) =>
    indices.map((j, k) => `${k ? "L" : "M"}${x(times[j]).toFixed(1)},${y(values[j]).toFixed(1)}`).join("");
  const svgs = channels.map((channel, i) => {
    const column = attr(channel.attrs, "column");
    const values = numeric(columns[column] || []);
    const color = attr(channel.attrs, "strokeColor") || PALETTE[i % PALETTE.length];
    const legend = attr(channel.attrs, "legend") || column;
    const clipId = `lo-ts-clip-${obj.name}-${i}`;
    const svg = s("svg", {
      height: CHART_HEIGHT,
      "data-channel": column,
      "aria-label": `${legend} over time`,
      role: "img",
    });
    const finite = values.filter(Number.isFinite);
    const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
    const draw = () => {
      const w = width();
      svg.setAttribute("viewBox", `0 0 ${w} ${CHART_HEIGHT}`);
      const yOf = (v) => PAD.top + (1 - (v - lo) / (hi - lo || 1)) * (CHART_HEIGHT - PAD.top - PAD.bottom);
      const d = linePath(values, visible(values), (t) => xOf(t, w), yOf);
      const clip = s("clipPath", { id: clipId });
      clip.append(s("rect", { x: PAD.left, y: 0, width: plotWidth(w), height: CHART_HEIGHT }));
      const axis = s("line", {
        x1: PAD.left,
        x2: PAD.left,
        y1: PAD.top,
        y2: CHART_HEIGHT - PAD.bottom,
        stroke: "#d0d5dd",
      });
      const base = s("line", {
        x1: PAD.left,
        x2: w - PAD.right,
        y1: CHART_HEIGHT - PAD.bottom,
        y2: CHART_HEIGHT - PAD.bottom,
        stroke: "#d0d5dd",
      });
      const label = (text, y) => {
        const t = s("text", { x: PAD.left - 6, y, "text-anchor": "end", "font-size": 10, fill: "#667085" });
        t.textContent = text;
        return t;
      };
      const name = s("text", { x: PAD.left + 6, y: PAD.top + 12, "font-size": 11, "font-weight": 600, fill: color });
      name.textContent = legend;
      svg.replaceChildren(
        clip,
        axis,
        base,
        s("path", { d, fill: "none", stroke: color, "stroke-width": 1.5, "clip-path": `url(#${clipId})` }),
        label(String(+hi.toFixed(2)), PAD.top + 8),
        label(String(+lo.toFixed(2)), CHART_HEIGHT - PAD.bottom),
        name,
      );
    };
    const drawOverview = (w, color0) => {
      const yOf = (v) => 3 + (1 - (v - lo) / (hi - lo || 1)) * (OVERVIEW_HEIGHT - 6);
      const all = values.map((_, j) => j).filter((j) => Number.isFinite(values[j]));
      return s("path", {
        d: linePath(values, all, (t) => overviewX(t, w), yOf),
        fill: "none",
        stroke: color0 || color,
        "stroke-width": 1,
        opacity: 0.8,
      });
    };
    return { svg, draw, drawOverview };
  });
  const ticks = h("div", {
    class: "lo-ticks",
    style: `position:relative;height:16px;margin-left:${PAD.left}px;margin-right:${PAD.right}px;overflow:hidden`,
  });
  chart.append(...svgs.map((c) => c.svg), ticks, overlay);
  const pctOf = (t) => ((t - v0) / (v1 - v0 || 1)) * 100;

  const drawOverview = () => {
    const w = width();
    overview.setAttribute("viewBox", `0 0 ${w} ${OVERVIEW_HEIGHT}`);
    const [a, b] = [overviewX(v0, w), overviewX(v1, w)];
    const shade = (x, widthPx) =>
      s("rect", { x, y: 0, width: Math.max(0, widthPx), height: OVERVIEW_HEIGHT, fill: "#101828", opacity: 0.08 });
    const frame = s("rect", {
      class: "lo-ts-window",
      x: a,
      y: 0.5,
      width: Math.max(2, b - a),
      height: OVERVIEW_HEIGHT - 1,
      fill: "#1f6feb",
      "fill-opacity": 0.12,
      stroke: "#1f6feb",
    });
    overview.replaceChildren(
      s("rect", { x: PAD.left, y: 0, width: plotWidth(w), height: OVERVIEW_HEIGHT, fill: "#f6f7f9" }),
      ...(svgs.length ? [svgs[0].drawOverview(w)] : []),
      shade(PAD.left, a - PAD.left),
      shade(b, w - PAD.right - b),
      frame,
    );
  };
  const drawAll = () => {
    for (const c of svgs) c.draw();
    const raw = (v1 - v0) / 6 || 1;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw);
    const marks = [];
    for (let t = Math.ceil(v0 / step) * step; t <= v1 + 1e-9; t += step) marks.push(t);
    ticks.replaceChildren(
      ...marks.map((t) => {
        const label = h("span", {}, String(+t.toFixed(6)));
        label.style.left = `${pctOf(t)}%`;
        return label;
      }),
    );
    drawOverview();
    el.dataset.view = `${+v0.toFixed(6)},${+v1.toFixed(6)}`;
  };

  // Shows [a, b], kept inside the series and no narrower than a few samples.
  const setView = (a, b) => {
    let [lo, hi] = [Math.min(a, b), Math.max(a, b)];
    const wanted = clamp(hi - lo, minSpan, span);
    const middle = (lo + hi) / 2;
    lo = clamp(middle - wanted / 2, t0, t1 - wanted);
    hi = lo + wanted;
    [v0, v1] = [lo, hi];
    drawAll();
    redraw();
  };
  const zoomBy = (factor, around = (v0 + v1) / 2) => {
    const share = (around - v0) / (v1 - v0 || 1);
    const wanted = clamp((v1 - v0) * factor, minSpan, span);
    setView(around - share * wanted, around - share * wanted + wanted);
  };

  const timeAt = (event) => {
    const r = chart.getBoundingClientRect();
    const t = v0 + ((event.clientX - r.left - PAD.left) / plotWidth(r.width)) * (v1 - v0);
    const clamped = clamp(t, v0, v1);
    let best = times[0];
    for (const time of times) if (Math.abs(time - clamped) < Math.abs(best - clamped)) best = time;
    return best;
  };
  const band = (start, end, color, region = null) => {
    const instant = Boolean(region?.value.instant);
    const width = instant ? 0 : Math.max(0.2, pctOf(end) - pctOf(start));
    const title = region && instant ? `${region.labels.join(", ")} at ${start}` : null;
    const b = rangeBand(store, { left: pctOf(start), width, color, region, title });
    if (instant) b.classList.add("lo-instant");
    if (region) b.style.pointerEvents = "auto";
    return b;
  };
  const redraw = () => {
    overlay.replaceChildren(
      ...store
        .regionsOf(obj.name)
        .filter((r) => r.value.end >= v0 && r.value.start <= v1)
        .map((r) => band(r.value.start, r.value.end, store.regionColor(r), r)),
    );
    const draft = range.draft();
    if (draft) overlay.append(band(draft.start, draft.end, draft.color));
  };
  ctx.onRedraw(redraw);
  const range = dragRange(ctx, chart, {
    objectName: obj.name,
    labelTags: LABEL_TAGS,
    at: timeAt,
    redraw,
    hint: "Choose a label first, then drag over the chart (or click for an instant).",
    region: (start, end) => ({ type: "timeserieslabels", value: { start, end, instant: false } }),
    point: (time) => ({ type: "timeserieslabels", value: { start: time, end: time, instant: true } }),
  });

  chart.addEventListener(
    "wheel",
    (event) => {
      if (event.ctrlKey || event.metaKey) {
        event.preventDefault();
        const r = chart.getBoundingClientRect();
        const share = clamp((event.clientX - r.left - PAD.left) / plotWidth(r.width), 0, 1);
        zoomBy(event.deltaY > 0 ? ZOOM_STEP : 1 / ZOOM_STEP, v0 + share * (v1 - v0));
      } else if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
        if (v1 - v0 >= span) return;
        event.preventDefault();
        const delta = (event.deltaX || event.deltaY) > 0 ? 1 : -1;
        setView(v0 + delta * 0.1 * (v1 - v0), v1 + delta * 0.1 * (v1 - v0));
      }
    },
    { passive: false },
  );
  ctx.describeKey("ctrl+wheel", "Zoom the time series");

  // The overview: drag the window to move it; drag elsewhere to pick a new window.
  let overviewDrag = null;
  const overviewTime = (event) => {
    const r = overview.getBoundingClientRect();
    return t0 + clamp((event.clientX - r.left - PAD.left) / plotWidth(r.width), 0, 1) * span;
  };
  overview.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const t = overviewTime(event);
    overviewDrag =
      t >= v0 && t <= v1 && v1 - v0 < span
        ? { move: true, grab: t - v0, from: t, width: v1 - v0 }
        : { move: false, from: t, width: v1 - v0 };
    overview.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  overview.addEventListener("pointermove", (event) => {
    if (!overviewDrag) return;
    const t = overviewTime(event);
    if (overviewDrag.move) setView(t - overviewDrag.grab, t - overviewDrag.grab + overviewDrag.width);
    else if (Math.abs(t - overviewDrag.from) >= minSpan / 2) setView(overviewDrag.from, t);
  });
  overview.addEventListener("pointerup", (event) => {
    if (!overviewDrag) return;
    const t = overviewTime(event);
    const { move, from, width: w } = overviewDrag;
    overviewDrag = null;
    // A click off the window centres the window there.
    if (!move && Math.abs(t - from) < minSpan / 2) setView(t - w / 2, t + w / 2);
  });

  requestAnimationFrame(drawAll);
  ctx.listen(window, "resize", drawAll);
  return el;
}
