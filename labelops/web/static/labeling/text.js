// Text: Labels spans chosen with the mouse, stored as code-point offsets (as Python counts them),
// so emoji and other astral characters give the same start/end as the server's str slicing.
import { attr, codePointOffset, h, resolveValue, textOffsetIn, utf16Offset } from "./dom.js";
import { drawRelations } from "./relations.js";

const SPAN_TAGS = ["Labels"];

// Splits [0, length) at every region boundary; returns [{start, end, regions}] in UTF-16 units.
export function segments(length, spans) {
  const cuts = new Set([0, length]);
  for (const sp of spans) {
    cuts.add(sp.start);
    cuts.add(sp.end);
  }
  const sorted = [...cuts].filter((c) => c >= 0 && c <= length).sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i + 1 < sorted.length; i += 1) {
    const [a, b] = [sorted[i], sorted[i + 1]];
    out.push({ start: a, end: b, regions: spans.filter((sp) => sp.start <= a && sp.end >= b).map((sp) => sp.region) });
  }
  return out;
}

// Paints spans of `text` into `el`: one <span> per segment, colored by the innermost region.
export function paintSpans(ctx, el, text, spans) {
  el.replaceChildren();
  for (const seg of segments(text.length, spans)) {
    const chunk = text.slice(seg.start, seg.end);
    if (!seg.regions.length) {
      el.append(document.createTextNode(chunk));
      continue;
    }
    const inner = seg.regions.reduce((a, b) => (spanLength(a) <= spanLength(b) ? a : b));
    const span = h(
      "span",
      {
        class: "lo-span",
        "data-region": inner.id,
        title: inner.labels.join(", "),
      },
      chunk,
    );
    span.style.setProperty("--label-color", ctx.store.regionColor(inner));
    if (seg.regions.some((r) => ctx.store.isSelected(r.id))) span.classList.add("selected");
    el.append(span);
    // The label chip is an element of its own (so arcs can keep clear of it) with no text of
    // its own (its CSS draws the label), so text offsets stay those of the text.
    if (spans.some((sp) => sp.region === inner && sp.end === seg.end)) {
      span.classList.add("span-end");
      const chip = h("span", { class: "lo-span-label", "data-label": inner.labels.join(", "), "aria-hidden": "true" });
      chip.style.setProperty("--label-color", ctx.store.regionColor(inner));
      el.append(chip);
    }
  }
}

function spanLength(region) {
  const v = region.value;
  return typeof v.end === "number" ? v.end - v.start : (v.endOffset || 0) - (v.startOffset || 0);
}

// Expands [start, end) (UTF-16) to whole words when granularity="word".
export function toWords(text, start, end) {
  let a = start;
  let b = end;
  while (a > 0 && /[\p{L}\p{N}_]/u.test(text[a - 1])) a -= 1;
  while (b < text.length && /[\p{L}\p{N}_]/u.test(text[b])) b += 1;
  return [a, b];
}

// Returns the UTF-16 [start, end) of the current selection inside el, or null.
export function selectionIn(el) {
  const sel = window.getSelection();
  if (!sel || sel.isCollapsed || !sel.rangeCount) return null;
  const range = sel.getRangeAt(0);
  if (!el.contains(range.startContainer) || !el.contains(range.endContainer)) return null;
  const start = textOffsetIn(el, range.startContainer, range.startOffset);
  const end = textOffsetIn(el, range.endContainer, range.endOffset);
  return start < end ? [start, end] : null;
}

export function mountText(ctx, _node, obj) {
  const raw = resolveValue(obj.value, ctx.data);
  const text = raw === undefined || raw === null ? "" : String(raw);
  const el = h("div", { class: "lo-text", "data-object": obj.name });
  const granularity = (control) => attr(control.attrs, "granularity") || "symbol";

  const redraw = () => {
    const spans = ctx.store
      .regionsOf(obj.name)
      .filter((r) => typeof r.value.start === "number")
      .map((region) => ({
        region,
        start: utf16Offset(text, region.value.start),
        end: utf16Offset(text, region.value.end),
      }));
    paintSpans(ctx, el, text, spans);
    drawRelations(ctx, el, obj.name);
  };
  ctx.onRedraw(redraw);
  // Arcs are measured on the laid-out text: when its width changes (window, panels) the text
  // wraps anew, so they are laid out again.
  let width = null;
  new ResizeObserver(([entry]) => {
    const w = Math.round(entry.contentRect.width);
    if (width !== null && w !== width && ctx.store.relations.length) redraw();
    width = w;
  }).observe(el);

  el.addEventListener("mouseup", () => {
    if (ctx.readOnly) return;
    const picked = selectionIn(el);
    if (!picked) return;
    const active = ctx.store.activeFor(obj.name, SPAN_TAGS);
    if (!active) {
      ctx.notify("Choose a label first, then select text.");
      return;
    }
    let [a, b] = picked;
    if (granularity(active.control) === "word") [a, b] = toWords(text, a, b);
    const start = codePointOffset(text, a);
    const end = codePointOffset(text, b);
    window.getSelection().removeAllRanges();
    ctx.store.addRegion({
      to: obj.name,
      control: active.control.name,
      type: "labels",
      value: { start, end, text: text.slice(a, b) },
      labels: active.labels,
    });
  });
  el.addEventListener("click", (event) => {
    const span = event.target.closest(".lo-span");
    const sel = window.getSelection();
    if (span && (!sel || sel.isCollapsed)) ctx.store.select(span.dataset.region);
  });
  return el;
}
