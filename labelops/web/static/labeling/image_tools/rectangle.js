// RectangleLabels / Rectangle: drag a box; move, resize by its corners, rotate around its centre.
// Stored as x, y, width, height in percent and rotation in degrees around the top-left corner.
import { clamp, round, s } from "../dom.js";
import { dragExtent, moveAnchor, oneDrag, rotate, squareHandle } from "./geometry.js";

export const rectangle = {
  type: "rectangle",
  tags: ["RectangleLabels", "Rectangle", "OcrLabels"],
  // Result types drawn as this tool besides its own: an OCR region is a box.
  aliases: ["ocrlabels"],

  ...oneDrag,

  toValue(_env, draft) {
    const drag = dragExtent(draft);
    if (!drag) return null;
    const { a, b, w, hh } = drag;
    return {
      x: round(Math.min(a[0], b[0])),
      y: round(Math.min(a[1], b[1])),
      width: round(w),
      height: round(hh),
      rotation: 0,
    };
  },

  drawDraft(env, draft, attrs) {
    if (!draft.current) return [];
    const [a, b] = [draft.start, draft.current];
    const [x, y] = env.px(Math.min(a[0], b[0]), Math.min(a[1], b[1]));
    const [w, hh] = env.px(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
    return [s("rect", { ...attrs, x, y, width: w, height: hh })];
  },

  draw(env, region, common, selected) {
    const v = region.value;
    const [x, y] = env.px(v.x, v.y);
    const [w, hh] = env.px(v.width, v.height);
    const theta = v.rotation || 0;
    const elements = [s("rect", { ...common, x, y, width: w, height: hh, transform: `rotate(${theta} ${x} ${y})` })];
    if (selected && !env.readOnly) {
      const k = env.scale();
      const corners = { nw: [0, 0], ne: [w, 0], sw: [0, hh], se: [w, hh] };
      for (const [name, corner] of Object.entries(corners)) {
        const [rx, ry] = rotate(corner, theta);
        elements.push(squareHandle(s, name, [x + rx, y + ry], k, { cursor: `${name}-resize` }));
      }
      const [rx, ry] = rotate([w / 2, -24 * k], theta);
      const [bx, by] = rotate([w / 2, 0], theta);
      elements.push(
        s("line", {
          x1: x + bx,
          y1: y + by,
          x2: x + rx,
          y2: y + ry,
          stroke: common.stroke,
          "vector-effect": "non-scaling-stroke",
        }),
        s("circle", { class: "lo-handle", "data-handle": "rotate", cx: x + rx, cy: y + ry, r: 6 * k, cursor: "grab" }),
      );
    }
    return { elements, labelAt: [x, y] };
  },

  // The value after dragging the body ("move") or a handle from drag.start to p.
  edit(env, drag, p, event) {
    const v = { ...drag.value };
    if (drag.mode === "move") {
      const box = v.rotation ? [0, 0] : [v.width, v.height];
      return moveAnchor(v, [p[0] - drag.start[0], p[1] - drag.start[1]], box);
    }
    const { W, H } = env;
    const P = env.px(...p);
    const O = env.px(v.x, v.y);
    const [w, hh] = env.px(v.width, v.height);
    const theta = v.rotation || 0;
    if (drag.mode === "rotate") {
      const [cx, cy] = rotate([w / 2, hh / 2], theta);
      const C = [O[0] + cx, O[1] + cy];
      let angle = (Math.atan2(P[1] - C[1], P[0] - C[0]) * 180) / Math.PI + 90;
      angle = ((angle % 360) + 360) % 360;
      if (event?.shiftKey) angle = Math.round(angle / 15) * 15;
      const [ox, oy] = rotate([w / 2, hh / 2], angle);
      v.x = round(((C[0] - ox) / W) * 100);
      v.y = round(((C[1] - oy) / H) * 100);
      v.rotation = round(angle, 2);
      return v;
    }
    const local = rotate([P[0] - O[0], P[1] - O[1]], -theta);
    const opposite = { nw: [w, hh], ne: [0, hh], sw: [w, 0], se: [0, 0] }[drag.mode];
    if (!opposite) return v;
    const [l, r] = [Math.min(local[0], opposite[0]), Math.max(local[0], opposite[0])];
    const [t, b] = [Math.min(local[1], opposite[1]), Math.max(local[1], opposite[1])];
    const [ox, oy] = rotate([l, t], theta);
    v.x = round(((O[0] + ox) / W) * 100);
    v.y = round(((O[1] + oy) / H) * 100);
    v.width = round(((r - l) / W) * 100);
    v.height = round(((b - t) / H) * 100);
    if (!theta) {
      v.x = clamp(v.x, 0, 100);
      v.y = clamp(v.y, 0, 100);
      v.width = Math.min(v.width, round(100 - v.x));
      v.height = Math.min(v.height, round(100 - v.y));
    }
    return v;
  },
};
