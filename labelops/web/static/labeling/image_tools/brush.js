// BrushLabels / Brush: paint (or erase) strokes into a pixel mask of the image. Strokes with the
// same label go into one region (the selected one, else the label's region on this image); the
// eraser takes pixels out of the selected region, else the label's region, else the one under
// the pointer. Stored as
// Label Studio stores it: {format: "rle", rle: [...]} with the image's original size.
import { s } from "../dom.js";
import { decodeMask, encodeMask } from "../rle.js";

const sameLabels = (a, b) => a.length === b.length && a.every((label, i) => label === b[i]);

// Decoded masks and their pictures, per region, kept while the region's rle is the same array.
const cache = new WeakMap();

function hexRgb(color) {
  const m = /^#?([0-9a-f]{6})$/i.exec(color || "");
  const n = m ? Number.parseInt(m[1], 16) : 0x1677ff;
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function maskOf(env, region) {
  const rle = region.value.rle;
  if (!Array.isArray(rle)) return null;
  const key = region.value;
  const known = cache.get(key);
  if (known && known.rle === rle) return known;
  let mask;
  try {
    mask = decodeMask(rle, env.W, env.H);
  } catch {
    return null;
  }
  let [x0, y0] = [env.W, env.H];
  for (let p = 0; p < mask.length; p += 1) {
    if (!mask[p]) continue;
    const [x, y] = [p % env.W, Math.floor(p / env.W)];
    if (y < y0 || (y === y0 && x < x0)) [x0, y0] = [x, y];
  }
  const entry = { rle, mask, first: mask.some(Boolean) ? [x0, y0] : [0, 0], pictures: new Map() };
  cache.set(key, entry);
  return entry;
}

function picture(env, entry, color) {
  const known = entry.pictures.get(color);
  if (known) return known;
  const canvas = document.createElement("canvas");
  canvas.width = env.W;
  canvas.height = env.H;
  const g = canvas.getContext("2d");
  const image = g.createImageData(env.W, env.H);
  const [r, gg, b] = hexRgb(color);
  for (let p = 0; p < entry.mask.length; p += 1) {
    if (!entry.mask[p]) continue;
    image.data.set([r, gg, b, 255], p * 4);
  }
  g.putImageData(image, 0, 0);
  const url = canvas.toDataURL("image/png");
  entry.pictures.set(color, url);
  return url;
}

// The pixels a stroke covers, drawn as the annotator saw it (round line of the brush size).
function strokeMask(env, draft) {
  const canvas = document.createElement("canvas");
  canvas.width = env.W;
  canvas.height = env.H;
  const g = canvas.getContext("2d");
  g.lineCap = "round";
  g.lineJoin = "round";
  g.lineWidth = draft.size;
  g.strokeStyle = "#000";
  g.fillStyle = "#000";
  const [first, ...rest] = draft.points;
  if (!rest.length) {
    g.beginPath();
    g.arc(first[0], first[1], draft.size / 2, 0, Math.PI * 2);
    g.fill();
  } else {
    g.beginPath();
    g.moveTo(...first);
    for (const point of rest) g.lineTo(...point);
    g.stroke();
  }
  const alpha = g.getImageData(0, 0, env.W, env.H).data;
  const mask = new Uint8Array(env.W * env.H);
  for (let p = 0; p < mask.length; p += 1) mask[p] = alpha[p * 4 + 3] >= 128 ? 1 : 0;
  return mask;
}

export const brush = {
  type: "brush",
  tags: ["BrushLabels", "Brush"],
  // Painting over a region adds to it: clicks on regions do not select while this tool is on.
  paintsOver: true,

  begin(env, p, draft) {
    const { store } = env;
    const mine = (r) => r.to === env.obj.name && r.type.startsWith("brush") && !store.locked.has(r.id);
    const selected = store.selected();
    const fits = (r) => mine(r) && r.control === draft.control.name && sameLabels(r.labels, draft.labels);
    let target = selected && mine(selected) && (env.brush.erase || fits(selected)) ? selected : null;
    if (!target) target = [...store.regionsOf(env.obj.name)].reverse().find(fits);
    if (!target && env.brush.erase) {
      target = [...store.regionsOf(env.obj.name)].reverse().find((r) => mine(r) && brush.hitTest(env, r, p));
      if (!target) {
        env.notify("Select a brush region to erase from.");
        return null;
      }
    }
    return {
      ...draft,
      target: target?.id || null,
      erase: env.brush.erase,
      size: env.brush.size,
      points: [env.pixel(p)],
    };
  },

  move(env, draft, p) {
    draft.points.push(env.pixel(p));
  },

  // The region's new value: its mask with the stroke painted in or erased; null when empty.
  toValue(env, draft) {
    const stroke = strokeMask(env, draft);
    const region = draft.target && env.store.region(draft.target);
    const base = region ? maskOf(env, region)?.mask : null;
    const mask = base ? Uint8Array.from(base) : new Uint8Array(env.W * env.H);
    let painted = 0;
    for (let p = 0; p < mask.length; p += 1) {
      if (stroke[p]) mask[p] = draft.erase ? 0 : 1;
      painted += mask[p];
    }
    if (!painted) return null;
    return { format: "rle", rle: encodeMask(mask) };
  },

  drawDraft(_env, draft, attrs) {
    const color = draft.erase ? "#ffffff" : attrs.stroke;
    const common = { ...attrs, fill: "none", stroke: color, "stroke-opacity": 0.6, class: "lo-brush-stroke" };
    if (draft.points.length === 1) {
      const [cx, cy] = draft.points[0];
      return [s("circle", { ...common, cx, cy, r: draft.size / 2, fill: color, "fill-opacity": 0.6 })];
    }
    return [
      s("polyline", {
        ...common,
        points: draft.points.map((q) => q.join(",")).join(" "),
        "stroke-width": draft.size,
        "stroke-linecap": "round",
        "stroke-linejoin": "round",
      }),
    ];
  },

  draw(env, region, common, selected) {
    const entry = maskOf(env, region);
    if (!entry) return { elements: [], labelAt: null };
    const url = picture(env, entry, common.stroke);
    const image = s("image", {
      class: `lo-brush${selected ? " selected" : ""}`,
      href: url,
      x: 0,
      y: 0,
      width: env.W,
      height: env.H,
      opacity: selected ? 0.7 : 0.45,
      preserveAspectRatio: "none",
      "pointer-events": "none",
      "data-region": region.id,
    });
    return { elements: [image], labelAt: entry.first };
  },

  // Whether a point (percent) is a painted pixel of the region.
  hitTest(env, region, p) {
    const entry = maskOf(env, region);
    if (!entry) return false;
    const [x, y] = env.pixel(p).map(Math.floor);
    return Boolean(entry.mask[Math.min(y, env.H - 1) * env.W + Math.min(x, env.W - 1)]);
  },

  // The outline that follows the pointer: the brush's size and place, in image pixels.
  cursor(env, p) {
    const [cx, cy] = env.pixel(p);
    return { cx, cy, r: env.brush.size / 2, "stroke-dasharray": env.brush.erase ? "3 2" : null };
  },

  // A mask is not dragged or reshaped: it is painted and erased.
  edit(_env, drag) {
    return drag.value;
  },
};
