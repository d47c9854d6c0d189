// Image: RectangleLabels (draw, move, resize, rotate), PolygonLabels, KeyPointLabels, EllipseLabels
// drawn on an SVG over the image, with zoom and pan. Geometry is stored in percent of the image,
// rotation in degrees around the rectangle's top-left corner, as Label Studio stores it.
import { attr, clamp, h, resolveValue, round, s } from "./dom.js";

const TOOLS = {
  RectangleLabels: "rectangle",
  Rectangle: "rectangle",
  PolygonLabels: "polygon",
  Polygon: "polygon",
  KeyPointLabels: "keypoint",
  KeyPoint: "keypoint",
  EllipseLabels: "ellipse",
  Ellipse: "ellipse",
  OcrLabels: "rectangle",
};
const LABEL_TAGS = ["RectangleLabels", "PolygonLabels", "KeyPointLabels", "EllipseLabels", "OcrLabels"];
// The shape a result type draws: an OCR region is a box.
const shapeOf = (type) => (type === "ocrlabels" ? "rectangle" : type.replace("labels", ""));
const CLOSE_DISTANCE = 1.5; // percent

const rad = (deg) => (deg * Math.PI) / 180;
const rotate = ([x, y], deg) => {
  const [c, n] = [Math.cos(rad(deg)), Math.sin(rad(deg))];
  return [x * c - y * n, x * n + y * c];
};

function loadImage(img) {
  return new Promise((resolve) => {
    if (img.complete && img.naturalWidth) resolve(true);
    img.addEventListener("load", () => resolve(true), { once: true });
    img.addEventListener("error", () => resolve(false), { once: true });
  });
}

export async function mountImage(ctx, _node, obj) {
  const { store } = ctx;
  const value = resolveValue(obj.value, ctx.data);
  const src = Array.isArray(value) ? value[0] : value;
  const img = h("img", { src, alt: attr(obj.attrs, "name", "image"), draggable: "false" });
  const svg = s("svg", { preserveAspectRatio: "none", role: "application", "aria-label": "Image annotation area" });
  const canvas = h("div", { class: "lo-canvas" }, img, svg);
  const stage = h("div", { class: "lo-stage", "data-object": obj.name }, canvas);
  const zoomLabel = h("span", {}, "100%");
  const view = { k: 1, tx: 0, ty: 0, pan: false };
  const applyView = () => {
    canvas.style.transform = `translate(${view.tx}px, ${view.ty}px) scale(${view.k})`;
    zoomLabel.textContent = `${Math.round(view.k * 100)}%`;
    stage.classList.toggle("panning", view.pan);
    redraw();
  };
  const zoomAt = (factor, cx, cy) => {
    const r = stage.getBoundingClientRect();
    const [px, py] = cx === undefined ? [r.width / 2, r.height / 2] : [cx - r.left, cy - r.top];
    const k = clamp(view.k * factor, 1, 16);
    const f = k / view.k;
    view.tx = px - (px - view.tx) * f;
    view.ty = py - (py - view.ty) * f;
    view.k = k;
    if (k === 1) {
      view.tx = 0;
      view.ty = 0;
    }
    applyView();
  };
  const panButton = h(
    "button",
    {
      type: "button",
      class: "lo-small",
      "aria-pressed": "false",
      title: "Pan (hold Space)",
      onclick: () => {
        view.pan = !view.pan;
        panButton.setAttribute("aria-pressed", String(view.pan));
        applyView();
      },
    },
    "Pan",
  );
  const tools = h(
    "div",
    { class: "lo-image-tools" },
    h(
      "button",
      { type: "button", class: "lo-small", title: "Zoom in", "aria-label": "Zoom in", onclick: () => zoomAt(1.25) },
      "+",
    ),
    h(
      "button",
      { type: "button", class: "lo-small", title: "Zoom out", "aria-label": "Zoom out", onclick: () => zoomAt(0.8) },
      "−",
    ),
    h(
      "button",
      {
        type: "button",
        class: "lo-small",
        title: "Fit",
        onclick: () => {
          view.k = 1;
          view.tx = 0;
          view.ty = 0;
          applyView();
        },
      },
      "Fit",
    ),
    panButton,
    zoomLabel,
    h(
      "span",
      { class: "lo-image-hint" },
      "Pick a label, then drag a box or ellipse, or click points; close a polygon on its first vertex. Ctrl+wheel zooms.",
    ),
  );
  const el = h("div", { class: "lo-image" }, tools, stage);
  if (Array.isArray(value) && value.length > 1) {
    el.prepend(
      h(
        "div",
        { class: "lo-unsupported", role: "alert" },
        `This task has ${value.length} images (valueList); the labeling view shows the first one only.`,
      ),
    );
  }

  const ok = await loadImage(img);
  if (!ok) {
    el.append(h("div", { class: "lo-unsupported", role: "alert" }, `The image could not be loaded: ${src}`));
    return el;
  }
  const W = img.naturalWidth;
  const H = img.naturalHeight;
  const maxWidth = attr(obj.attrs, "maxWidth");
  const maxHeight = Number(String(attr(obj.attrs, "maxHeight", "560")).replace("px", "")) || 560;
  canvas.style.width = `min(100%, ${Math.round((maxHeight * W) / H)}px)`;
  if (maxWidth && /^\d+(px|%)?$/.test(maxWidth))
    canvas.style.maxWidth = /\d$/.test(maxWidth) ? `${maxWidth}px` : maxWidth;
  img.style.width = "100%";
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const extra = { original_width: W, original_height: H, image_rotation: 0 };

  const px = (x, y) => [(x * W) / 100, (y * H) / 100];
  const pct = (event) => {
    const r = svg.getBoundingClientRect();
    return [
      clamp(((event.clientX - r.left) / r.width) * 100, 0, 100),
      clamp(((event.clientY - r.top) / r.height) * 100, 0, 100),
    ];
  };
  const scale = () => W / svg.getBoundingClientRect().width || 1; // image px per screen px

  let draft = null; // {tool, start, current} for boxes/ellipses, {tool, points} for polygons
  let drag = null;

  function currentTool() {
    const active = store.activeFor(obj.name, LABEL_TAGS);
    if (active) return { tool: TOOLS[active.control.tag], control: active.control, labels: active.labels };
    const plain = Object.values(store.description.controls).find(
      (c) => c.to_names.includes(obj.name) && TOOLS[c.tag] && !c.tag.endsWith("Labels"),
    );
    return plain ? { tool: TOOLS[plain.tag], control: plain, labels: [] } : null;
  }

  function shapeFor(region, selected) {
    const color = store.regionColor(region);
    const v = region.value;
    const common = {
      class: `lo-shape${selected ? " selected" : ""}`,
      stroke: color,
      fill: color,
      "fill-opacity": selected ? 0.35 : 0.2,
      "data-region": region.id,
    };
    const type = shapeOf(region.type);
    const g = s("g", {});
    let labelAt = null;
    if (type === "rectangle") {
      const [x, y] = px(v.x, v.y);
      const [w, hh] = px(v.width, v.height);
      g.append(s("rect", { ...common, x, y, width: w, height: hh, transform: `rotate(${v.rotation || 0} ${x} ${y})` }));
      labelAt = [x, y];
      if (selected && !ctx.readOnly) {
        const k = scale();
        const corners = { nw: [0, 0], ne: [w, 0], sw: [0, hh], se: [w, hh] };
        for (const [name, [lx, ly]] of Object.entries(corners)) {
          const [rx, ry] = rotate([lx, ly], v.rotation || 0);
          g.append(
            s("rect", {
              class: "lo-handle",
              "data-handle": name,
              x: x + rx - 5 * k,
              y: y + ry - 5 * k,
              width: 10 * k,
              height: 10 * k,
              cursor: `${name}-resize`,
            }),
          );
        }
        const [rx, ry] = rotate([w / 2, -24 * k], v.rotation || 0);
        const [bx, by] = rotate([w / 2, 0], v.rotation || 0);
        g.append(
          s("line", {
            x1: x + bx,
            y1: y + by,
            x2: x + rx,
            y2: y + ry,
            stroke: color,
            "vector-effect": "non-scaling-stroke",
          }),
        );
        g.append(
          s("circle", {
            class: "lo-handle",
            "data-handle": "rotate",
            cx: x + rx,
            cy: y + ry,
            r: 6 * k,
            cursor: "grab",
          }),
        );
      }
    } else if (type === "polygon") {
      const pts = v.points.map(([x, y]) => px(x, y));
      g.append(s("polygon", { ...common, points: pts.map((p) => p.join(",")).join(" ") }));
      labelAt = pts[0];
      if (selected && !ctx.readOnly) {
        const k = scale();
        for (const [i, [x, y]] of pts.entries())
          g.append(s("circle", { class: "lo-handle", "data-handle": `p${i}`, cx: x, cy: y, r: 5 * k }));
      }
    } else if (type === "ellipse") {
      const [cx, cy] = px(v.x, v.y);
      const [rx, ry] = px(v.radiusX, v.radiusY);
      g.append(s("ellipse", { ...common, cx, cy, rx, ry, transform: `rotate(${v.rotation || 0} ${cx} ${cy})` }));
      labelAt = [cx - rx, cy - ry];
      if (selected && !ctx.readOnly) {
        const k = scale();
        const [hx, hy] = rotate([rx, ry], v.rotation || 0);
        g.append(
          s("rect", {
            class: "lo-handle",
            "data-handle": "radius",
            x: cx + hx - 5 * k,
            y: cy + hy - 5 * k,
            width: 10 * k,
            height: 10 * k,
          }),
        );
      }
    } else if (type === "keypoint") {
      const [cx, cy] = px(v.x, v.y);
      const k = scale();
      g.append(s("circle", { ...common, cx, cy, r: (selected ? 7 : 5) * k, "fill-opacity": 0.9 }));
      labelAt = [cx + 6 * k, cy];
    }
    if (labelAt && region.labels.length) {
      const k = scale();
      const text = s("text", {
        class: "lo-shape-label",
        x: labelAt[0] + 3 * k,
        y: labelAt[1] - 4 * k,
        "font-size": 12 * k,
      });
      text.style.fontSize = `${12 * k}px`;
      text.style.strokeWidth = `${3 * k}px`;
      text.textContent = region.labels.join(", ");
      g.append(text);
    }
    return g;
  }

  function redraw() {
    if (!W) return;
    svg.replaceChildren();
    for (const region of store.regionsOf(obj.name)) svg.append(shapeFor(region, region.id === store.selectedId));
    if (draft) {
      const color = draft.labels.length ? store.labelColor(draft.control.name, draft.labels[0]) : "#1677ff";
      const attrs = { class: "lo-shape", stroke: color, fill: color, "fill-opacity": 0.15, "pointer-events": "none" };
      if (draft.tool === "polygon") {
        const pts = [...draft.points, draft.hover].filter(Boolean).map(([x, y]) => px(x, y).join(","));
        svg.append(s("polyline", { ...attrs, points: pts.join(" ") }));
        const k = scale();
        draft.points.forEach(([x, y], i) => {
          const [cx, cy] = px(x, y);
          svg.append(s("circle", { class: "lo-handle", cx, cy, r: (i === 0 ? 7 : 4) * k, "pointer-events": "none" }));
        });
      } else if (draft.current) {
        const [a, b] = [draft.start, draft.current];
        if (draft.tool === "rectangle") {
          const [x, y] = px(Math.min(a[0], b[0]), Math.min(a[1], b[1]));
          const [w, hh] = px(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
          svg.append(s("rect", { ...attrs, x, y, width: w, height: hh }));
        } else {
          const [cx, cy] = px(...a);
          const [rx, ry] = px(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
          svg.append(s("ellipse", { ...attrs, cx, cy, rx, ry }));
        }
      }
    }
  }
  ctx.onRedraw(redraw);

  function finishPolygon() {
    if (draft?.tool !== "polygon") return;
    if (draft.points.length >= 3) {
      store.addRegion({
        to: obj.name,
        control: draft.control.name,
        type: draft.type,
        value: { points: draft.points.map(([x, y]) => [round(x), round(y)]) },
        labels: draft.labels,
        extra: { ...extra },
      });
    }
    draft = null;
    redraw();
  }

  const typeFor = (tool) => {
    if (tool.control.tag === "OcrLabels") return "ocrlabels";
    return tool.labels.length || tool.control.tag.endsWith("Labels") ? `${tool.tool}labels` : tool.tool;
  };

  svg.addEventListener("pointerdown", (event) => {
    if (event.button === 1 || view.pan || event.button !== 0) {
      drag = { mode: "pan", x: event.clientX, y: event.clientY, tx: view.tx, ty: view.ty };
      svg.setPointerCapture(event.pointerId);
      return;
    }
    if (ctx.readOnly) return;
    const p = pct(event);
    const handle = event.target.dataset.handle;
    const regionId = event.target.dataset.region;
    const selected = store.selected();
    if (handle && selected && !store.refuseLocked(selected.id)) {
      drag = {
        mode: handle,
        region: selected.id,
        start: p,
        value: JSON.parse(JSON.stringify(selected.value)),
        recorded: false,
      };
      svg.setPointerCapture(event.pointerId);
      return;
    }
    if (regionId && !(draft && draft.tool === "polygon")) {
      store.select(regionId);
      const region = store.region(regionId);
      // A locked region is selected, not moved.
      if (region && !store.locked.has(regionId))
        drag = {
          mode: "move",
          region: regionId,
          start: p,
          value: JSON.parse(JSON.stringify(region.value)),
          recorded: false,
        };
      svg.setPointerCapture(event.pointerId);
      return;
    }
    const tool = currentTool();
    if (draft && draft.tool === "polygon") {
      const first = draft.points[0];
      if (draft.points.length >= 3 && Math.hypot(first[0] - p[0], (first[1] - p[1]) * (H / W)) < CLOSE_DISTANCE)
        finishPolygon();
      else {
        draft.points.push(p);
        redraw();
      }
      return;
    }
    if (!tool) {
      if (store.selectedId) store.select(null);
      else ctx.notify("Choose a label first, then draw on the image.");
      return;
    }
    const base = { tool: tool.tool, control: tool.control, labels: tool.labels, type: typeFor(tool) };
    if (tool.tool === "keypoint") {
      const size = Number(attr(tool.control.attrs, "strokeWidth", "1")) || 1;
      store.addRegion({
        to: obj.name,
        control: tool.control.name,
        type: base.type,
        value: { x: round(p[0]), y: round(p[1]), width: size },
        labels: tool.labels,
        extra: { ...extra },
      });
      return;
    }
    if (tool.tool === "polygon") {
      draft = { ...base, points: [p] };
      if (store.selectedId) store.select(null);
      redraw();
      return;
    }
    draft = { ...base, start: p, current: null };
    svg.setPointerCapture(event.pointerId);
  });

  svg.addEventListener("pointermove", (event) => {
    if (drag && drag.mode === "pan") {
      view.tx = drag.tx + event.clientX - drag.x;
      view.ty = drag.ty + event.clientY - drag.y;
      applyView();
      return;
    }
    const p = pct(event);
    if (draft && draft.tool === "polygon") {
      draft.hover = p;
      redraw();
      return;
    }
    if (draft) {
      draft.current = p;
      redraw();
      return;
    }
    if (!drag) return;
    const region = store.region(drag.region);
    if (!region) return;
    if (!drag.recorded) {
      store.checkpoint();
      drag.recorded = true;
    }
    region.value = transform(shapeOf(region.type), drag, p, event);
    store.emit();
  });

  const end = (event) => {
    if (drag) {
      drag = null;
      return;
    }
    if (draft && draft.tool !== "polygon") {
      const a = draft.start;
      const b = draft.current || a;
      const [w, hh] = [Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])];
      const d = draft;
      draft = null;
      if (w < 0.5 || hh < 0.5) {
        redraw();
        return;
      }
      const value =
        d.tool === "rectangle"
          ? {
              x: round(Math.min(a[0], b[0])),
              y: round(Math.min(a[1], b[1])),
              width: round(w),
              height: round(hh),
              rotation: 0,
            }
          : { x: round(a[0]), y: round(a[1]), radiusX: round(w), radiusY: round(hh), rotation: 0 };
      store.addRegion({
        to: obj.name,
        control: d.control.name,
        type: d.type,
        value,
        labels: d.labels,
        extra: { ...extra },
      });
    }
    if (event && event.pointerId !== undefined && svg.hasPointerCapture(event.pointerId))
      svg.releasePointerCapture(event.pointerId);
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("dblclick", () => finishPolygon());
  stage.addEventListener(
    "wheel",
    (event) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      zoomAt(event.deltaY < 0 ? 1.15 : 1 / 1.15, event.clientX, event.clientY);
    },
    { passive: false },
  );
  ctx.describeKey("space", "Hold to pan the image (or drag with the middle button)");
  ctx.describeKey("ctrl+wheel", "Zoom the image");
  ctx.describeKey("enter", "Close the polygon being drawn");
  ctx.listen(document, "keydown", (event) => {
    if (!el.isConnected) return;
    if (event.key === "Enter" && draft && draft.tool === "polygon") finishPolygon();
    if (event.key === "Escape" && draft) {
      draft = null;
      redraw();
    }
    if (event.code === "Space" && !view.pan && event.target === document.body) {
      event.preventDefault();
      view.pan = true;
      view.spaceHeld = true;
      applyView();
    }
  });
  ctx.listen(document, "keyup", (event) => {
    if (event.code === "Space" && view.spaceHeld) {
      view.pan = false;
      view.spaceHeld = false;
      applyView();
    }
  });

  // Geometry after dragging a handle (or the body) from drag.start to p, in percent.
  function transform(type, d, p, event) {
    const v = { ...d.value };
    const [dx, dy] = [p[0] - d.start[0], p[1] - d.start[1]];
    if (d.mode === "move") {
      if (type === "polygon") {
        const xs = v.points.map((q) => q[0]);
        const ys = v.points.map((q) => q[1]);
        const mx = clamp(dx, -Math.min(...xs), 100 - Math.max(...xs));
        const my = clamp(dy, -Math.min(...ys), 100 - Math.max(...ys));
        v.points = v.points.map(([x, y]) => [round(x + mx), round(y + my)]);
        return v;
      }
      const w = type === "rectangle" && !v.rotation ? v.width : 0;
      const hh = type === "rectangle" && !v.rotation ? v.height : 0;
      v.x = round(clamp(v.x + dx, 0, 100 - w));
      v.y = round(clamp(v.y + dy, 0, 100 - hh));
      return v;
    }
    if (type === "polygon" && d.mode.startsWith("p")) {
      const i = Number(d.mode.slice(1));
      v.points = v.points.map((q, j) => (j === i ? [round(p[0]), round(p[1])] : q));
      return v;
    }
    const P = px(...p);
    if (type === "ellipse") {
      const C = px(v.x, v.y);
      const [lx, ly] = rotate([P[0] - C[0], P[1] - C[1]], -(v.rotation || 0));
      v.radiusX = round((Math.abs(lx) / W) * 100);
      v.radiusY = round((Math.abs(ly) / H) * 100);
      return v;
    }
    if (type !== "rectangle") return v;
    const O = px(v.x, v.y);
    const [w, hh] = px(v.width, v.height);
    const theta = v.rotation || 0;
    if (d.mode === "rotate") {
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
    const opposite = { nw: [w, hh], ne: [0, hh], sw: [w, 0], se: [0, 0] }[d.mode];
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
  }

  requestAnimationFrame(applyView);
  return el;
}
