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
