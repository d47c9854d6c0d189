// Draws the relations between spans of one object as arcs over its text. An arc is a bracket
// from span to span whose top runs at a level above the spans: arcs over other arcs go higher,
// and an arc is lifted further while its label (drawn on the arc's middle) would cover a span's
// label chip, a labeled span or another arc's label. Clicking an arc's label selects the relation.
import { h, s } from "./dom.js";

const BASE_LIFT = 12; // px from a span's top to the lowest arc level
const STEP = 13; // px between arc levels
const MAX_LEVELS = 40;
const GAP = 2; // px kept free around a label

function intersects(a, b) {
  return a.left < b.right + GAP && b.left < a.right + GAP && a.top < b.bottom + GAP && b.top < a.bottom + GAP;
}

function relativeTo(box, r) {
  return { left: r.left - box.left, right: r.right - box.left, top: r.top - box.top, bottom: r.bottom - box.top };
}

// Picks, per arc (shortest first), the lowest level where its top does not run along a placed
// arc that shares part of its width and its label covers none of the obstacles. Pure geometry:
// arcs are {x1, x2, base, width, height} (label size, 0 when unlabeled); returns [{top, label}].
export function layoutArcs(arcs, obstacles) {
  const order = arcs
    .map((_, i) => i)
    .sort((i, j) => Math.abs(arcs[i].x2 - arcs[i].x1) - Math.abs(arcs[j].x2 - arcs[j].x1));
  const placed = [];
  const labels = [];
  const out = new Array(arcs.length);
  for (const i of order) {
    const arc = arcs[i];
    const lo = Math.min(arc.x1, arc.x2);
    const hi = Math.max(arc.x1, arc.x2);
    const mid = (arc.x1 + arc.x2) / 2;
    let choice = null;
    for (let level = 0; level < MAX_LEVELS; level += 1) {
      const top = arc.base - BASE_LIFT - level * STEP;
      const label = arc.width
        ? {
            left: mid - arc.width / 2,
            right: mid + arc.width / 2,
            top: top - arc.height / 2,
            bottom: top + arc.height / 2,
          }
        : null;
      const runsAlong = placed.some((p) => Math.abs(p.top - top) < STEP / 2 && p.lo < hi && lo < p.hi);
      const covers = label && (obstacles.some((o) => intersects(label, o)) || labels.some((o) => intersects(label, o)));
      choice = { top, label };
      if (!runsAlong && !covers) break;
    }
    placed.push({ top: choice.top, lo, hi });
    if (choice.label) labels.push(choice.label);
    out[i] = choice;
  }
  return out;
}

function bracket(a, b, top) {
  const r = Math.min(5, Math.abs(b[0] - a[0]) / 2);
  const dir = b[0] >= a[0] ? 1 : -1;
  return [
    `M${a[0]},${a[1]}`,
    `L${a[0]},${top + r}`,
    `Q${a[0]},${top} ${a[0] + dir * r},${top}`,
    `L${b[0] - dir * r},${top}`,
    `Q${b[0]},${top} ${b[0]},${top + r}`,
    `L${b[0]},${b[1]}`,
  ].join(" ");
}

export function drawRelations(ctx, el, objectName) {
  el.querySelector(":scope > .lo-relations")?.remove();
  el.querySelector(":scope > .lo-relation-labels")?.remove();
  const store = ctx.store;
  const ids = new Set(store.regionsOf(objectName).map((r) => r.id));
  const relations = store.relations
    .map((rel, index) => ({ rel, index }))
    .filter(({ rel }) => ids.has(rel.from_id) && ids.has(rel.to_id));
  el.classList.toggle("has-relations", relations.length > 0);
  el.style.removeProperty("--lo-arc-room");
  if (!relations.length) return;
  const box = el.getBoundingClientRect();
  const anchor = (id) => {
    const span = el.querySelector(`[data-region="${id}"]`);
    const r = span?.getClientRects()[0];
    return r ? [r.left - box.left + r.width / 2, r.top - box.top] : null;
  };
  // Labels first (hidden), so that their size is known when the arcs are laid out.
  const layer = h("div", { class: "lo-relation-labels" });
  el.append(layer);
  const arcs = [];
  for (const { rel, index } of relations) {
    const a = anchor(rel.from_id);
    const b = anchor(rel.to_id);
    if (!a || !b) continue;
    let label = null;
    if (rel.labels?.length) {
      label = h(
        "button",
        {
          type: "button",
          class: `lo-relation-label${store.selectedRelation === index ? " selected" : ""}`,
          "data-relation": index,
          title: `Relation ${index + 1}: ${rel.labels.join(", ")}`,
          onclick: (event) => {
            event.stopPropagation();
            store.selectRelation(index);
          },
        },
        rel.labels.join(", "),
      );
      layer.append(label);
    }
    arcs.push({ rel, index, a, b, label });
  }
  const obstacles = [...el.querySelectorAll(".lo-span-label, .lo-span")].flatMap((node) =>
    [...node.getClientRects()].map((r) => relativeTo(box, r)),
  );
  const sizes = arcs.map(({ a, b, label }) => {
    const r = label?.getBoundingClientRect();
    return { x1: a[0], x2: b[0], base: Math.min(a[1], b[1]), width: r ? r.width : 0, height: r ? r.height : 0 };
  });
  const layout = layoutArcs(sizes, obstacles);

  // Arcs above the first line get room inside the box: its top padding grows by `dy`, which
  // moves the text (measured without it) down by as much.
  const highest = Math.min(0, ...layout.map(({ top, label }) => Math.min(top - 6, label ? label.top : 0)));
  const dy = highest < 0 ? Math.ceil(-highest) + 2 : 0;
  if (dy) el.style.setProperty("--lo-arc-room", `${dy}px`);
  const shift = (p) => [p[0], p[1] + dy];
  const svg = s("svg", { class: "lo-relations", width: box.width, height: box.height + dy, "aria-hidden": "true" });
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
  arcs.forEach(({ rel, index, a, b, label }, k) => {
    const { top, label: spot } = layout[k];
    const path = s("path", {
      d: bracket(shift(a), shift(b), top + dy),
      class: `lo-arc${store.selectedRelation === index ? " selected" : ""}`,
      "data-relation": index,
      fill: "none",
      "marker-end": rel.direction !== "left" ? `url(#lo-arrow-${objectName})` : null,
      "marker-start": rel.direction !== "right" ? `url(#lo-arrow-${objectName})` : null,
    });
    svg.append(path);
    if (label && spot) {
      label.style.left = `${spot.left}px`;
      label.style.top = `${spot.top + dy}px`;
      label.style.visibility = "visible";
    }
  });
  el.insertBefore(svg, layer);
  el.dataset.arcsWidth = String(Math.round(box.width)); // the width the arcs were laid out for
}
