// Paragraphs (dialogue): one row per utterance; ParagraphLabels spans chosen with the mouse, or a
// whole utterance by clicking its author. Stored as Label Studio does: start/end are utterance
// indexes (strings), startOffset/endOffset code points into those utterances.
import { attr, codePointOffset, h, resolveValue, textOffsetIn, utf16Offset } from "./dom.js";
import { drawRelations } from "./relations.js";
import { paintSpans } from "./text.js";

const LABEL_TAGS = ["ParagraphLabels", "Labels"];

export function mountParagraphs(ctx, _node, obj) {
  const { store } = ctx;
  const nameKey = attr(obj.attrs, "nameKey", "author");
  const textKey = attr(obj.attrs, "textKey", "text");
  const raw = resolveValue(obj.value, ctx.data);
  const items = Array.isArray(raw) ? raw : [];
  const texts = items.map((item) => String(item?.[textKey] ?? ""));
  const el = h("div", { class: "lo-paragraphs", "data-object": obj.name });
  const rows = items.map((item, i) => {
    const author = h(
      "div",
      { class: "lo-author", title: "Click to label the whole utterance", "data-index": i },
      String(item?.[nameKey] ?? ""),
    );
    const text = h("div", { class: "lo-utterance-text", "data-index": i }, texts[i]);
    el.append(h("div", { class: "lo-utterance" }, author, text));
    return text;
  });

  const add = (value) => {
    const active = store.activeFor(obj.name, LABEL_TAGS);
    if (!active) {
      ctx.notify("Choose a label first, then select text.");
      return;
    }
    store.addRegion({
      to: obj.name,
      control: active.control.name,
      type: active.control.tag.toLowerCase(),
      value,
      labels: active.labels,
    });
  };

  const redraw = () => {
    const regions = store.regionsOf(obj.name);
    rows.forEach((row, k) => {
      const spans = [];
      for (const region of regions) {
        const [a, b] = [Number(region.value.start), Number(region.value.end)];
        if (k < a || k > b) continue;
        const from = k === a ? region.value.startOffset || 0 : 0;
        const to = k === b ? (region.value.endOffset ?? Array.from(texts[k]).length) : Array.from(texts[k]).length;
        spans.push({ region, start: utf16Offset(texts[k], from), end: utf16Offset(texts[k], to) });
      }
      paintSpans(ctx, row, texts[k], spans);
    });
    el.querySelector(":scope > .lo-relations")?.remove();
    drawRelations(ctx, el, obj.name);
  };
  ctx.onRedraw(redraw);

  el.addEventListener("click", (event) => {
    const author = event.target.closest(".lo-author");
    if (author && !ctx.readOnly) {
      const i = Number(author.dataset.index);
      add({ start: String(i), end: String(i), startOffset: 0, endOffset: Array.from(texts[i]).length, text: texts[i] });
      return;
    }
    const span = event.target.closest(".lo-span");
    const sel = window.getSelection();
    if (span && (!sel || sel.isCollapsed)) store.select(span.dataset.region);
  });
  el.addEventListener("mouseup", (event) => {
    if (ctx.readOnly || event.target.closest(".lo-author")) return;
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    const rowOf = (n) => (n.nodeType === Node.TEXT_NODE ? n.parentElement : n).closest(".lo-utterance-text");
    const [startRow, endRow] = [rowOf(range.startContainer), rowOf(range.endContainer)];
    if (!startRow || !endRow || !el.contains(startRow) || !el.contains(endRow)) return;
    const [a, b] = [Number(startRow.dataset.index), Number(endRow.dataset.index)];
    const startOffset = codePointOffset(texts[a], textOffsetIn(startRow, range.startContainer, range.startOffset));
    const endOffset = codePointOffset(texts[b], textOffsetIn(endRow, range.endContainer, range.endOffset));
    sel.removeAllRanges();
    const parts = [];
    for (let k = a; k <= b; k += 1) {
      const cps = Array.from(texts[k]);
      parts.push(cps.slice(k === a ? startOffset : 0, k === b ? endOffset : cps.length).join(""));
    }
    const text = parts.join("\n");
    if (!text.trim()) return;
    add({ start: String(a), end: String(b), startOffset, endOffset, text });
  });
  return el;
}
