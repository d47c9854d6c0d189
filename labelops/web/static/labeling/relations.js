// Draws the relations between spans of one object as arcs over its text (display only).
import { s } from "./dom.js";

export function drawRelations(ctx, el, objectName) {
  const ids = new Set(ctx.store.regionsOf(objectName).map((r) => r.id));
  const relations = ctx.store.relations.filter((rel) => ids.has(rel.from_id) && ids.has(rel.to_id));
  if (!relations.length) return;
  const box = el.getBoundingClientRect();
  const svg = s("svg", { class: "lo-relations", width: box.width, height: box.height, "aria-hidden": "true" });
  const defs = s("defs");
  const marker = s("marker", {
    id: `lo-arrow-${objectName}`,
    viewBox: "0 0 10 10",
    refX: 9,
    refY: 5,
    markerWidth: 7,
    markerHeight: 7,
    orient: "auto-start-reverse",
  });
  marker.append(s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#1d2433" }));
  defs.append(marker);
  svg.append(defs);
  const anchor = (id) => {
    const span = el.querySelector(`[data-region="${id}"]`);
    if (!span) return null;
    const r = span.getBoundingClientRect();
    return [r.left - box.left + r.width / 2, r.top - box.top + 2];
  };
  for (const rel of relations) {
    const a = anchor(rel.from_id);
    const b = anchor(rel.to_id);
    if (!a || !b) continue;
    const lift = Math.min(28, 10 + Math.abs(a[0] - b[0]) / 8);
    const top = Math.min(a[1], b[1]) - lift;
    const path = s("path", {
      d: `M${a[0]},${a[1]} C${a[0]},${top} ${b[0]},${top} ${b[0]},${b[1]}`,
      fill: "none",
      stroke: "#1d2433",
      "stroke-width": 1.4,
      "marker-end": rel.direction !== "left" ? `url(#lo-arrow-${objectName})` : null,
      "marker-start": rel.direction !== "right" ? `url(#lo-arrow-${objectName})` : null,
    });
    if (rel.labels?.length) {
      const title = s("title");
      title.textContent = rel.labels.join(", ");
      path.append(title);
    }
    svg.append(path);
  }
  el.append(svg);
}
