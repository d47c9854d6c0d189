// PolygonLabels / Polygon: click points, close on the first vertex (or Enter, double-click);
// move the whole polygon or one vertex. Stored as points [[x, y], ...] in percent.
import { clamp, round, s } from "../dom.js";

const CLOSE_DISTANCE = 1.5; // percent

export const polygon = {
  type: "polygon",
  tags: ["PolygonLabels", "Polygon"],
  // The draft stays open across clicks until it is closed.
  multiClick: true,

  begin(_env, p, draft) {
    return { ...draft, points: [p] };
  },

  // Another click while drawing: true when it closes the polygon.
  click(env, draft, p) {
    const first = draft.points[0];
    if (draft.points.length >= 3 && Math.hypot(first[0] - p[0], (first[1] - p[1]) * (env.H / env.W)) < CLOSE_DISTANCE)
      return true;
    draft.points.push(p);
    return false;
  },

  move(_env, draft, p) {
    draft.hover = p;
  },

  toValue(_env, draft) {
    if (draft.points.length < 3) return null;
    return { points: draft.points.map(([x, y]) => [round(x), round(y)]) };
  },

  drawDraft(env, draft, attrs) {
    const pts = [...draft.points, draft.hover].filter(Boolean).map(([x, y]) => env.px(x, y).join(","));
    const elements = [s("polyline", { ...attrs, points: pts.join(" ") })];
    const k = env.scale();
    draft.points.forEach(([x, y], i) => {
      const [cx, cy] = env.px(x, y);
      elements.push(s("circle", { class: "lo-handle", cx, cy, r: (i === 0 ? 7 : 4) * k, "pointer-events": "none" }));
    });
    return elements;
  },

  draw(env, region, common, selected) {
    const pts = region.value.points.map(([x, y]) => env.px(x, y));
    const elements = [s("polygon", { ...common, points: pts.map((p) => p.join(",")).join(" ") })];
    if (selected && !env.readOnly) {
      const k = env.scale();
      for (const [i, [x, y]] of pts.entries())
        elements.push(s("circle", { class: "lo-handle", "data-handle": `p${i}`, cx: x, cy: y, r: 5 * k }));
    }
    return { elements, labelAt: pts[0] };
  },

  edit(_env, drag, p) {
    const v = { ...drag.value };
    if (drag.mode === "move") {
      const [dx, dy] = [p[0] - drag.start[0], p[1] - drag.start[1]];
      const xs = v.points.map((q) => q[0]);
      const ys = v.points.map((q) => q[1]);
      const mx = clamp(dx, -Math.min(...xs), 100 - Math.max(...xs));
      const my = clamp(dy, -Math.min(...ys), 100 - Math.max(...ys));
      v.points = v.points.map(([x, y]) => [round(x + mx), round(y + my)]);
      return v;
    }
    if (drag.mode.startsWith("p")) {
      const i = Number(drag.mode.slice(1));
      v.points = v.points.map((q, j) => (j === i ? [round(p[0]), round(p[1])] : q));
    }
    return v;
  },
};
