// Image: the viewport (zoom, pan) and the dispatch of pointer events to the shape tools
// (image_tools/: rectangles, polygons, ellipses, keypoints, brush masks). Geometry is stored in
// percent of the image, brush masks as Label Studio's RLE, as Label Studio stores them.
import { attr, clamp, h, resolveValue, s } from "./dom.js";
import { isTyping } from "./hotkeys.js";
import { IMAGE_LABEL_TAGS, TOOL_FOR_TAG, TOOL_FOR_TYPE } from "./image_tools/index.js";

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
  // The brush's size (image pixels) and mode, when a brush control draws on this image.
  const brushState = { size: 10, erase: false };
  const sizeInput = h("input", {
    type: "range",
    min: "1",
    max: "100",
    value: String(brushState.size),
    "aria-label": "Brush size",
    oninput: (event) => {
      brushState.size = Number(event.target.value) || 1;
    },
  });
  const hasBrush = Object.values(store.description.controls).some(
    (c) => c.to_names.includes(obj.name) && TOOL_FOR_TAG[c.tag]?.type === "brush",
  );
  const eraserButton = h(
    "button",
    {
      type: "button",
      class: "lo-small",
      "aria-pressed": "false",
      title: "Erase from a brush region instead of painting",
      onclick: () => {
        brushState.erase = !brushState.erase;
        eraserButton.setAttribute("aria-pressed", String(brushState.erase));
      },
    },
    "Eraser",
  );
  const brushTools =
    hasBrush && !ctx.readOnly
      ? h("span", { class: "lo-brush-tools" }, h("label", {}, "Brush size ", sizeInput), eraserButton)
      : null;
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
    brushTools,
    h(
      "span",
      { class: "lo-image-hint" },
      hasBrush
        ? "Pick a label, then paint on the image; the eraser takes pixels out. Ctrl+wheel zooms."
        : "Pick a label, then drag a box or ellipse, or click points; close a polygon on its first vertex. Ctrl+wheel zooms.",
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
  // What the tools see of this image.
  const env = {
    W,
    H,
    obj,
    store,
    readOnly: ctx.readOnly,
    brush: brushState,
    px,
    pixel: (p) => px(...p),
    scale,
    notify: (message) => ctx.notify(message),
  };

  let draft = null; // {tool, control, labels, type, ...the tool's own drawing state}
  let drag = null;

  function currentTool() {
    const active = store.activeFor(obj.name, IMAGE_LABEL_TAGS);
    if (active) return { tool: TOOL_FOR_TAG[active.control.tag], control: active.control, labels: active.labels };
    const plain = Object.values(store.description.controls).find(
      (c) => c.to_names.includes(obj.name) && TOOL_FOR_TAG[c.tag] && !c.tag.endsWith("Labels"),
    );
    return plain ? { tool: TOOL_FOR_TAG[plain.tag], control: plain, labels: [] } : null;
  }

  function shapeFor(region, selected) {
    const tool = TOOL_FOR_TYPE[region.type];
    const g = s("g", {});
    if (!tool) return g;
    const color = store.regionColor(region);
    const common = {
      class: `lo-shape${selected ? " selected" : ""}`,
      stroke: color,
      fill: color,
      "fill-opacity": selected ? 0.35 : 0.2,
      "data-region": region.id,
    };
    const { elements, labelAt } = tool.draw(env, region, common, selected);
    g.append(...elements);
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

  // The tool's outline under the pointer (the brush), kept across redraws.
  const cursor = s("circle", { class: "lo-tool-cursor", fill: "none", "pointer-events": "none" });
  let cursorShown = false;
  function placeCursor(p) {
    const spec = p && !ctx.readOnly && !view.pan ? currentTool()?.tool.cursor?.(env, p) : null;
    cursorShown = Boolean(spec);
    if (!spec) {
      cursor.remove();
      return;
    }
    for (const [key, value] of Object.entries(spec)) {
      if (value === null) cursor.removeAttribute(key);
      else cursor.setAttribute(key, value);
    }
    cursor.setAttribute("stroke-width", scale());
    svg.append(cursor);
  }

  function redraw() {
    if (!W) return;
    svg.replaceChildren();
    for (const region of store.regionsOf(obj.name)) svg.append(shapeFor(region, region.id === store.selectedId));
    if (draft) {
      const color = draft.labels.length ? store.labelColor(draft.control.name, draft.labels[0]) : "#1677ff";
      const attrs = { class: "lo-shape", stroke: color, fill: color, "fill-opacity": 0.15, "pointer-events": "none" };
      svg.append(...draft.tool.drawDraft(env, draft, attrs));
    }
    if (cursorShown) svg.append(cursor);
  }
  ctx.onRedraw(redraw);

  // Stores what the draft made: a new region, or the new value of the region it drew into.
  function commit(d) {
    const value = d.tool.toValue(env, d);
    if (d.target) {
      if (value) store.updateRegion(d.target, { value });
      else store.removeRegion(d.target);
    } else if (value) {
      store.addRegion({
        to: obj.name,
        control: d.control.name,
        type: d.type,
        value,
        labels: d.labels,
        extra: { ...extra },
      });
    }
  }

  function finishDraft() {
    if (!draft?.tool.multiClick) return;
    const d = draft;
    draft = null;
    commit(d);
    redraw();
  }

  const typeFor = (tool) => {
    if (tool.control.tag === "OcrLabels") return "ocrlabels";
    return tool.labels.length || tool.control.tag.endsWith("Labels") ? `${tool.tool.type}labels` : tool.tool.type;
  };

  // A region drawn without pointer events (a brush mask) under the point, topmost first.
  const regionAt = (p) =>
    [...store.regionsOf(obj.name)].reverse().find((r) => TOOL_FOR_TYPE[r.type]?.hitTest?.(env, r, p))?.id;

  svg.addEventListener("pointerdown", (event) => {
    if (event.button === 1 || view.pan || event.button !== 0) {
      drag = { mode: "pan", x: event.clientX, y: event.clientY, tx: view.tx, ty: view.ty };
      svg.setPointerCapture(event.pointerId);
      return;
    }
    if (ctx.readOnly) return;
    const p = pct(event);
    const handle = event.target.dataset.handle;
    const tool = currentTool();
    const paints = tool?.tool.paintsOver;
    const regionId = event.target.dataset.region || (paints || draft ? null : regionAt(p));
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
    if (regionId && !draft?.tool.multiClick && !paints) {
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
    if (draft?.tool.multiClick) {
      if (draft.tool.click(env, draft, p)) finishDraft();
      else redraw();
      return;
    }
    if (!tool) {
      if (store.selectedId) store.select(null);
      else ctx.notify("Choose a label first, then draw on the image.");
      return;
    }
    const base = { tool: tool.tool, control: tool.control, labels: tool.labels, type: typeFor(tool) };
    const started = tool.tool.begin(env, p, base);
    if (!started) return;
    if (tool.tool.instant) {
      commit(started);
      return;
    }
    draft = started;
    if (tool.tool.multiClick) {
      if (store.selectedId) store.select(null);
      redraw();
      return;
    }
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
    placeCursor(p);
    if (draft) {
      draft.tool.move(env, draft, p);
      redraw();
      return;
    }
    if (!drag) return;
    const region = store.region(drag.region);
    const tool = region && TOOL_FOR_TYPE[region.type];
    if (!tool) return;
    if (!drag.recorded) {
      store.checkpoint();
      drag.recorded = true;
    }
    region.value = tool.edit(env, drag, p, event);
    store.emit();
  });

  const end = (event) => {
    if (drag) {
      drag = null;
      return;
    }
    if (draft && !draft.tool.multiClick) {
      const d = draft;
      draft = null;
      commit(d);
      redraw();
    }
    if (event && event.pointerId !== undefined && svg.hasPointerCapture(event.pointerId))
      svg.releasePointerCapture(event.pointerId);
  };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointerleave", () => placeCursor(null));
  svg.addEventListener("dblclick", () => finishDraft());
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
  if (hasBrush) ctx.describeKey("[ / ]", "Make the brush smaller / larger");
  ctx.listen(document, "keydown", (event) => {
    if (!el.isConnected) return;
    if (event.key === "Enter" && draft?.tool.multiClick) finishDraft();
    if (hasBrush && (event.key === "[" || event.key === "]") && !isTyping(event.target)) {
      const size = clamp(brushState.size + (event.key === "]" ? 5 : -5), 1, 100);
      brushState.size = size;
      sizeInput.value = String(size);
    }
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

  requestAnimationFrame(applyView);
  return el;
}
