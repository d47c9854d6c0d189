// EllipseLabels / Ellipse: drag from the centre; move, or resize by the radius handle.
// Stored as the centre x, y and radiusX, radiusY in percent, rotation in degrees.
import { round, s } from "../dom.js";
import { dragExtent, moveAnchor, oneDrag, rotate, squareHandle } from "./geometry.js";

export const ellipse = {
  type: "ellipse",
  tags: ["EllipseLabels", "Ellipse"],

  ...oneDrag,

  toValue(_env, draft) {
    const drag = dragExtent(draft);
    if (!drag) return null;
    return { x: round(drag.a[0]), y: round(drag.a[1]), radiusX: round(drag.w), radiusY: round(drag.hh), rotation: 0 };
  },

  drawDraft(env, draft, attrs) {
    if (!draft.current) return [];
    const [a, b] = [draft.start, draft.current];
    const [cx, cy] = env.px(...a);
    const [rx, ry] = env.px(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
    return [s("ellipse", { ...attrs, cx, cy, rx, ry })];
  },

  draw(env, region, common, selected) {
    const v = region.value;
    const [cx, cy] = env.px(v.x, v.y);
    const [rx, ry] = env.px(v.radiusX, v.radiusY);
    const elements = [s("ellipse", { ...common, cx, cy, rx, ry, transform: `rotate(${v.rotation || 0} ${cx} ${cy})` })];
    if (selected && !env.readOnly) {
      const [hx, hy] = rotate([rx, ry], v.rotation || 0);
      elements.push(squareHandle(s, "radius", [cx + hx, cy + hy], env.scale()));
    }
    return { elements, labelAt: [cx - rx, cy - ry] };
  },

  edit(env, drag, p) {
    const v = { ...drag.value };
    if (drag.mode === "move") return moveAnchor(v, [p[0] - drag.start[0], p[1] - drag.start[1]]);
    const P = env.px(...p);
    const C = env.px(v.x, v.y);
    const [lx, ly] = rotate([P[0] - C[0], P[1] - C[1]], -(v.rotation || 0));
    v.radiusX = round((Math.abs(lx) / env.W) * 100);
    v.radiusY = round((Math.abs(ly) / env.H) * 100);
    return v;
  },
};
