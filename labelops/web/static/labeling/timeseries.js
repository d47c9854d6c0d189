// TimeSeries: a line chart per <Channel> from CSV/JSON (inline or valueType="url"), with
// TimeSeriesLabels ranges marked by dragging: {start, end, instant: false, timeserieslabels}, and
// instants marked by a click: {start: t, end: t, instant: true, timeserieslabels}, drawn as a
// vertical marker.
import { dragRange, rangeBand } from "./axis_range.js";
import { attr, clamp, h, resolveValue, s } from "./dom.js";

const LABEL_TAGS = ["TimeSeriesLabels"];
const PAD = { left: 48, right: 12, top: 8, bottom: 8 };
const CHART_HEIGHT = 110;
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
  const chart = h("div", { class: "lo-chart" });
  const overlay = h("div", {
    class: "lo-bands",
    style: `position:absolute;top:0;bottom:0;left:${PAD.left}px;right:${PAD.right}px;pointer-events:none`,
  });
  el.append(chart);

  const width = () => chart.clientWidth || 800;
  const xOf = (t, w) => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (w - PAD.left - PAD.right);
  const svgs = channels.map((channel, i) => {
    const column = attr(channel.attrs, "column");
    const values = numeric(columns[column] || []);
    const color = attr(channel.attrs, "strokeColor") || PALETTE[i % PALETTE.length];
    const legend = attr(channel.attrs, "legend") || column;
    const svg = s("svg", {
      height: CHART_HEIGHT,
      "data-channel": column,
      "aria-label": `${legend} over time`,
      role: "img",
    });
    const draw = () => {
      const w = width();
      svg.setAttribute("viewBox", `0 0 ${w} ${CHART_HEIGHT}`);
      const finite = values.filter(Number.isFinite);
      const [lo, hi] = [Math.min(...finite), Math.max(...finite)];
      const yOf = (v) => PAD.top + (1 - (v - lo) / (hi - lo || 1)) * (CHART_HEIGHT - PAD.top - PAD.bottom);
      const d = values
        .map((v, j) =>
          Number.isFinite(v) ? `${j ? "L" : "M"}${xOf(times[j], w).toFixed(1)},${yOf(v).toFixed(1)}` : "",
        )
        .join("");
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
        axis,
        base,
        s("path", { d, fill: "none", stroke: color, "stroke-width": 1.5 }),
        label(String(+hi.toFixed(2)), PAD.top + 8),
        label(String(+lo.toFixed(2)), CHART_HEIGHT - PAD.bottom),
        name,
      );
    };
    return { svg, draw };
  });
  const ticks = h("div", {
    class: "lo-ticks",
    style: `position:relative;height:16px;margin-left:${PAD.left}px;margin-right:${PAD.right}px`,
  });
  chart.append(...svgs.map((c) => c.svg), ticks, overlay);
  const drawAll = () => {
    for (const c of svgs) c.draw();
    const raw = (t1 - t0) / 6 || 1;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((v) => v >= raw);
    const marks = [];
    for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) marks.push(t);
    ticks.replaceChildren(
      ...marks.map((t) => {
        const span = h("span", {}, String(+t.toFixed(6)));
        span.style.left = `${pctOf(t)}%`;
        return span;
      }),
    );
  };

  const timeAt = (event) => {
    const r = chart.getBoundingClientRect();
    const t = t0 + ((event.clientX - r.left - PAD.left) / (r.width - PAD.left - PAD.right)) * (t1 - t0);
    const clamped = clamp(t, t0, t1);
    let best = times[0];
    for (const time of times) if (Math.abs(time - clamped) < Math.abs(best - clamped)) best = time;
    return best;
  };
  const pctOf = (t) => ((t - t0) / (t1 - t0 || 1)) * 100;
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
      ...store.regionsOf(obj.name).map((r) => band(r.value.start, r.value.end, store.regionColor(r), r)),
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
  requestAnimationFrame(drawAll);
  ctx.listen(window, "resize", drawAll);
  return el;
}
