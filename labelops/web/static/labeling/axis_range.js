// Dragging a range on an axis: the audio waveform, the time-series chart and the video timeline.
// Pressing a band selects its region; pressing elsewhere with a label active starts a draft that
// follows the pointer and becomes a region on release. Positions are the tool's own unit
// (seconds, time values, frames); the tool says how a pointer maps to one and what region a range
// makes.
import { h } from "./dom.js";

// A band over [left, left + width] percent of the axis; a region's band carries its id and label.
export function rangeBand(store, { left, width, color, region = null, title = null }) {
  const band = h(
    "div",
    { class: `lo-band${region && store.isSelected(region.id) ? " selected" : ""}` },
    region ? h("span", { class: "lo-band-label" }, region.labels.join(", ")) : null,
  );
  if (region) {
    band.dataset.region = region.id;
    band.title = title || region.labels.join(", ");
  }
  band.style.left = `${left}%`;
  band.style.width = `${width}%`;
  band.style.setProperty("--label-color", color);
  return band;
}

// Wires range dragging on `axis` and returns {draft()}: the range being dragged ({start, end,
// color}, start <= end) or null.
//
//   objectName, labelTags  the object the regions belong to and the label controls that draw them
//   at(event)              the position under the pointer
//   region(start, end)     the {type, value} of a new region
//   redraw()               re-renders the bands (the draft included)
//   ready()                false while the axis has no scale yet (media still loading)
//   onPress(position)      a press off the bands (the media tools seek there)
//   tooShort(start, end)   a drag too short to be a region (treated as a press)
//   point(position)        the {type, value} of a region made by a press without a drag (an
//                          instant); without it such a press makes no region
//   hint                   shown when there is no label to draw with and nothing to deselect
export function dragRange(ctx, axis, options) {
  const { store } = ctx;
  const {
    objectName,
    labelTags,
    at,
    region,
    redraw,
    ready = () => true,
    onPress = () => {},
    tooShort = (start, end) => start === end,
    point = null,
    hint = null,
  } = options;
  let draft = null;

  axis.addEventListener("pointerdown", (event) => {
    if (!ready() || event.button !== 0) return;
    const hit = event.target.closest(".lo-band[data-region]");
    if (hit) {
      store.select(hit.dataset.region);
      return;
    }
    const position = at(event);
    onPress(position);
    const active = ctx.readOnly ? null : store.activeFor(objectName, labelTags);
    if (!active) {
      if (store.selectedId) store.select(null);
      else if (hint && !ctx.readOnly) ctx.notify(hint);
      return;
    }
    draft = { start: position, end: position, active, color: store.labelColor(active.control.name, active.labels[0]) };
    axis.setPointerCapture(event.pointerId);
    redraw();
  });
  axis.addEventListener("pointermove", (event) => {
    if (!draft) return;
    draft.end = at(event);
    redraw();
  });
  axis.addEventListener("pointerup", () => {
    if (!draft) return;
    const { start, end, active } = draft;
    draft = null;
    const [a, b] = [Math.min(start, end), Math.max(start, end)];
    const made = tooShort(a, b) ? point?.(start) : region(a, b);
    if (!made) {
      redraw();
      return;
    }
    store.addRegion({ to: objectName, control: active.control.name, labels: active.labels, ...made });
  });

  return {
    draft: () =>
      draft
        ? {
            start: Math.min(draft.start, draft.end),
            end: Math.max(draft.start, draft.end),
            color: draft.color,
          }
        : null,
  };
}
