// Dashboard charts drawn as inline SVG from the figures the server embeds in the page.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#3056d3", "#36c2b4", "#f59f00", "#d6336c", "#7048e8", "#2f9e44", "#e8590c", "#1c7ed6"];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function empty(container, message) {
  const p = document.createElement("p");
  p.className = "empty-chart";
  p.textContent = message;
  container.replaceChildren(p);
}

function niceMax(value) {
  // A top value that four grid lines divide into whole numbers.
  if (value <= 4) return 4;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  const top = Math.ceil(value / magnitude) * magnitude;
  return Math.ceil(top / 4) * 4;
}

function widthOf(container) {
  return Math.max(320, Math.round(container.clientWidth || 560));
}

export function columnChart(container, points) {
  if (!points.length || points.every((p) => p.value === 0))
    return empty(container, "No annotations in this period yet.");
  const width = widthOf(container);
  const height = 220;
  const pad = { left: 36, right: 8, top: 10, bottom: 28 };
  const max = niceMax(Math.max(...points.map((p) => p.value)));
  const inner = width - pad.left - pad.right;
  const step = inner / points.length;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}` });
  for (let i = 0; i <= 4; i += 1) {
    const y = pad.top + ((height - pad.top - pad.bottom) * i) / 4;
    root.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, stroke: "#e8ebf0" }));
    root.append(
      svg("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end" }, String(Math.round(max * (1 - i / 4)))),
    );
  }
  points.forEach((p, i) => {
    const h = ((height - pad.top - pad.bottom) * p.value) / max;
    const x = pad.left + i * step + step * 0.15;
    const bar = svg("rect", { x, y: height - pad.bottom - h, width: step * 0.7, height: h, rx: 2, fill: PALETTE[0] });
    bar.append(svg("title", {}, `${p.label}: ${p.value}`));
    root.append(bar);
    if (i % Math.ceil(points.length / 6) === 0) {
      root.append(svg("text", { x: x + step * 0.35, y: height - 8, "text-anchor": "middle" }, p.label.slice(5)));
    }
  });
  container.replaceChildren(root);
}

export function barChart(container, items, emptyMessage) {
  if (!items.length) return empty(container, emptyMessage);
  const rowHeight = 28;
  const width = widthOf(container);
  const labelWidth = Math.min(200, Math.round(width * 0.38));
  const height = items.length * rowHeight + 8;
  const max = Math.max(...items.map((item) => item.value)) || 1;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}` });
  items.forEach((item, i) => {
    const y = 4 + i * rowHeight;
    const w = ((width - labelWidth - 60) * item.value) / max;
    const room = Math.floor(labelWidth / 7);
    const label = item.label.length > room ? `${item.label.slice(0, room - 1)}…` : item.label;
    root.append(svg("text", { x: labelWidth - 8, y: y + 17, "text-anchor": "end" }, label));
    const bar = svg("rect", {
      x: labelWidth,
      y: y + 3,
      width: Math.max(w, 1),
      height: rowHeight - 8,
      rx: 3,
      fill: item.color || PALETTE[i % PALETTE.length],
    });
    bar.append(svg("title", {}, `${item.label}: ${item.value}`));
    root.append(bar);
    root.append(
      svg(
        "text",
        { x: labelWidth + w + 6, y: y + 17 },
        Number.isInteger(item.value) ? String(item.value) : item.value.toFixed(3),
      ),
    );
  });
  container.replaceChildren(root);
}

const data = JSON.parse(document.getElementById("dashboard-data")?.textContent || "null");
if (data) {
  const charts = Object.fromEntries(
    [...document.querySelectorAll("[data-chart]")].map((node) => [node.dataset.chart, node]),
  );
  if (charts.per_day)
    columnChart(
      charts.per_day,
      data.per_day.map((d) => ({ label: d.day, value: d.count })),
    );
  if (charts.annotators) {
    barChart(
      charts.annotators,
      data.annotators.map((a) => ({ label: a.email || "imported, no author", value: a.finished })),
      "Nobody has annotated yet.",
    );
  }
  if (charts.labels) {
    barChart(
      charts.labels,
      data.labels.map((l) => ({ label: `${l.label}`, value: l.count })),
      "No labels yet.",
    );
  }
}
