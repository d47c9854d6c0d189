// Geometry shared by the image shape tools: rotation and moving a shape by its x/y anchor.
import { clamp, round } from "../dom.js";

export const rad = (deg) => (deg * Math.PI) / 180;
export const rotate = ([x, y], deg) => {
  const [c, n] = [Math.cos(rad(deg)), Math.sin(rad(deg))];
  return [x * c - y * n, x * n + y * c];
};

// The value moved by (dx, dy) percent, its anchor kept inside the image (and its box, unrotated).
export function moveAnchor(value, [dx, dy], [w, hh] = [0, 0]) {
  const v = { ...value };
  v.x = round(clamp(v.x + dx, 0, 100 - w));
  v.y = round(clamp(v.y + dy, 0, 100 - hh));
  return v;
}

// A square handle centred on (x, y), sized in screen pixels.
export function squareHandle(s, name, [x, y], k, extra = {}) {
  return s("rect", {
    class: "lo-handle",
    "data-handle": name,
    x: x - 5 * k,
    y: y - 5 * k,
    width: 10 * k,
    height: 10 * k,
    ...extra,
  });
}

// Pointer handling of the tools drawn with one drag from a start point (boxes, ellipses).
export const oneDrag = {
  begin(_env, p, draft) {
    return { ...draft, start: p, current: null };
  },

  move(_env, draft, p) {
    draft.current = p;
  },
};

// The drag's start, end and size in percent; null when it is under half a percent either way.
export function dragExtent(draft) {
  const a = draft.start;
  const b = draft.current || a;
  const [w, hh] = [Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
  return w < 0.5 || hh < 0.5 ? null : { a, b, w, hh };
}
