// VideoRectangle: boxes drawn on the video's current frame; moving or resizing a box on another
// frame adds a keyframe there, and frames between keyframes are interpolated linearly. Stored as
// Label Studio does: {framesCount, duration, sequence: [{frame, time, x, y, width, height,
// rotation, enabled}], labels}, coordinates in percent of the frame.
import { clamp, round, s } from "./dom.js";

const KEYS = ["x", "y", "width", "height", "rotation"];

// The box a region shows on `frame`, or null before its first keyframe.
export function boxAt(sequence, frame) {
  const keys = [...sequence].sort((a, b) => a.frame - b.frame);
  let prev = null;
  for (const key of keys) {
    if (key.frame === frame) return key;
    if (key.frame > frame) {
      if (!prev?.enabled) return null;
      const t = (frame - prev.frame) / (key.frame - prev.frame);
      const box = { frame, enabled: true };
      for (const k of KEYS) box[k] = prev[k] + ((key[k] || 0) - (prev[k] || 0)) * t;
      return box;
    }
    prev = key;
  }
  return prev?.enabled ? prev : null;
}

export function mountVideoBoxes(ctx, obj, video, holder, clip) {
  const { store } = ctx;
  const svg = s("svg", { class: "lo-video-boxes", viewBox: "0 0 100 100", preserveAspectRatio: "none" });
  holder.append(svg);
  const rectControl = Object.values(store.description.controls).find(
    (c) => c.tag === "VideoRectangle" && c.to_names.includes(obj.name),
  );
  let drag = null;

  const pct = (event) => {
    const r = svg.getBoundingClientRect();
    return [
      clamp(((event.clientX - r.left) / r.width) * 100, 0, 100),
      clamp(((event.clientY - r.top) / r.height) * 100, 0, 100),
    ];
  };
  const redraw = () => {
    svg.replaceChildren();
    if (!clip.frames) return;
    const frame = clip.frame();
    for (const region of store.regionsOf(obj.name).filter((r) => r.type === "videorectangle")) {
      const box = boxAt(region.value.sequence || [], frame);
      if (!box) continue;
      const color = store.regionColor(region);
      const selected = region.id === store.selectedId;
      svg.append(
        s("rect", {
          class: `lo-shape${selected ? " selected" : ""}`,
          x: box.x,
          y: box.y,
          width: box.width,
          height: box.height,
          stroke: color,
          fill: color,
          "fill-opacity": selected ? 0.3 : 0.15,
          "data-region": region.id,
        }),
      );
      if (selected && !ctx.readOnly) {
        svg.append(
          s("rect", {
            class: "lo-handle",
            "data-handle": "se",
            x: box.x + box.width - 1,
            y: box.y + box.height - 1.6,
            width: 2,
            height: 3.2,
          }),
        );
      }
    }
    if (drag && drag.mode === "draw" && drag.current) {
      const [a, b] = [drag.start, drag.current];
      svg.append(
        s("rect", {
          class: "lo-shape",
          x: Math.min(a[0], b[0]),
          y: Math.min(a[1], b[1]),
          width: Math.abs(a[0] - b[0]),
          height: Math.abs(a[1] - b[1]),
          stroke: drag.color,
          fill: drag.color,
          "fill-opacity": 0.15,
        }),
      );
    }
  };
  ctx.onRedraw(redraw);
  video.addEventListener("timeupdate", redraw);
  video.addEventListener("seeked", redraw);

  // Sets the keyframe at the current frame of the region to `box`.
  const keyframe = (region, box) => {
    const frame = clip.frame();
    const key = {
      frame,
      time: round((frame - 1) / clip.fps),
      x: round(box.x),
      y: round(box.y),
      width: round(box.width),
      height: round(box.height),
      rotation: box.rotation || 0,
      enabled: true,
    };
    const rest = (region.value.sequence || []).filter((k) => k.frame !== frame);
    region.value = { ...region.value, sequence: [...rest, key].sort((a, b) => a.frame - b.frame) };
  };

  svg.addEventListener("pointerdown", (event) => {
    if (!clip.frames || event.button !== 0 || ctx.readOnly) return;
    const p = pct(event);
    const regionId = event.target.dataset.region;
    const selected = store.selected();
    if (event.target.dataset.handle && selected && !store.refuseLocked(selected.id)) {
      drag = {
        mode: "resize",
        region: selected.id,
        start: p,
        box: { ...boxAt(selected.value.sequence, clip.frame()) },
      };
    } else if (regionId) {
      store.select(regionId);
      if (store.locked.has(regionId)) return; // a locked box is selected, not moved
      const region = store.region(regionId);
      drag = { mode: "move", region: regionId, start: p, box: { ...boxAt(region.value.sequence, clip.frame()) } };
    } else {
      const active = store.activeFor(obj.name, ["Labels"]);
      if (!active && !rectControl) return;
      if (store.selectedId) store.select(null);
      const color = active ? store.labelColor(active.control.name, active.labels[0]) : "#1677ff";
      drag = { mode: "draw", start: p, current: null, labels: active ? active.labels : [], color };
    }
    svg.setPointerCapture(event.pointerId);
    video.pause();
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const p = pct(event);
    if (drag.mode === "draw") {
      drag.current = p;
      redraw();
      return;
    }
    const region = store.region(drag.region);
    if (!region) return;
    if (!drag.recorded) {
      store.checkpoint();
      drag.recorded = true;
    }
    const [dx, dy] = [p[0] - drag.start[0], p[1] - drag.start[1]];
    const b = drag.box;
    const box =
      drag.mode === "move"
        ? { ...b, x: clamp(b.x + dx, 0, 100 - b.width), y: clamp(b.y + dy, 0, 100 - b.height) }
        : { ...b, width: clamp(b.width + dx, 0.5, 100 - b.x), height: clamp(b.height + dy, 0.5, 100 - b.y) };
    keyframe(region, box);
    store.emit();
  });
  svg.addEventListener("pointerup", () => {
    const d = drag;
    drag = null;
    if (d?.mode !== "draw" || !d.current) {
      redraw();
      return;
    }
    const [a, b] = [d.start, d.current];
    const box = {
      x: Math.min(a[0], b[0]),
      y: Math.min(a[1], b[1]),
      width: Math.abs(a[0] - b[0]),
      height: Math.abs(a[1] - b[1]),
    };
    if (box.width < 0.5 || box.height < 0.5) {
      redraw();
      return;
    }
    const region = { value: { framesCount: clip.frames, duration: round(clip.duration) } };
    keyframe(region, box);
    store.addRegion({
      to: obj.name,
      control: rectControl ? rectControl.name : obj.name,
      type: "videorectangle",
      value: region.value,
      labels: d.labels,
    });
  });
  return { redraw };
}
