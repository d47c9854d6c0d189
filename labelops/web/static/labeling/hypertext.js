// HyperText: sanitized HTML (the server cleans it with nh3; the page cleans it again) with
// HyperTextLabels spans stored as Label Studio does: element xpaths in start/end plus
// startOffset/endOffset (code points into each element's text).
import { codePointOffset, h, pointAt, resolveValue, textOffsetIn, utf16Offset } from "./dom.js";
import { drawRelations } from "./relations.js";

const LABEL_TAGS = ["HyperTextLabels", "Labels"];
const DROP = "script,style,iframe,object,embed,link,meta,base,form,frame,frameset,template";

// Returns a fragment of `html` with scripts, handlers and javascript: URLs removed.
export function cleanHtml(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  doc.querySelectorAll(DROP).forEach((n) => n.remove());
  for (const el of doc.body.querySelectorAll("*")) {
    for (const a of [...el.attributes]) {
      const value = a.value.trim().toLowerCase();
      if (a.name.startsWith("on") || ((a.name === "href" || a.name === "src" || a.name === "xlink:href") && value.startsWith("javascript:"))) {
        el.removeAttribute(a.name);
      }
    }
  }
  const fragment = document.createDocumentFragment();
  fragment.append(...[...doc.body.childNodes].map((n) => document.importNode(n, true)));
  return fragment;
}

// "/p[1]/b[2]": the element's path below root, counting same-tag siblings from 1.
export function xpathOf(root, el) {
  const steps = [];
  for (let cur = el; cur && cur !== root; cur = cur.parentElement) {
    let i = 1;
    for (let sib = cur.previousElementSibling; sib; sib = sib.previousElementSibling) {
      if (sib.tagName === cur.tagName && !isHighlight(sib)) i += 1;
    }
    steps.unshift(`${cur.tagName.toLowerCase()}[${i}]`);
  }
  return `/${steps.join("/")}`;
}

export function resolveXpath(root, path) {
  let cur = root;
  for (const step of String(path).split("/").filter(Boolean)) {
    const m = /^([\w-]+)(?:\[(\d+)\])?$/.exec(step);
    if (!m || m[1] === "text()") break;
    const same = [...cur.children].filter((c) => c.tagName.toLowerCase() === m[1].toLowerCase() && !isHighlight(c));
    cur = same[(Number(m[2]) || 1) - 1];
    if (!cur) return null;
  }
  return cur;
}

function elementOf(node) {
  let el = node.nodeType === Node.TEXT_NODE ? node.parentElement : node;
  while (el.classList.contains("lo-span")) el = el.parentElement;
  return el;
}

const isHighlight = (el) => el.classList.contains("lo-span");

// Wraps the text of `range` in spans (one per text node), without moving any text.
export function wrapRange(range, make) {
  const root = range.commonAncestorContainer;
  const nodes = [];
  if (root.nodeType === Node.TEXT_NODE) nodes.push(root);
  else {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) if (range.intersectsNode(n)) nodes.push(n);
  }
  for (const node of nodes) {
    const start = node === range.startContainer ? range.startOffset : 0;
    const end = node === range.endContainer ? range.endOffset : node.data.length;
    if (end <= start) continue;
    const middle = node.splitText(start);
    middle.splitText(end - start);
    const span = make();
    middle.replaceWith(span);
    span.append(middle);
  }
}

export function mountHyperText(ctx, node, obj) {
  const { store } = ctx;
  const html = resolveValue(obj.value, ctx.data);
  const el = h("div", { class: "lo-hypertext", "data-object": obj.name });
  const pristine = cleanHtml(html);

  const locate = (path, offset) => {
    const target = resolveXpath(el, path);
    return target ? pointAt(target, utf16Offset(target.textContent, offset)) : null;
  };
  const redraw = () => {
    el.replaceChildren(pristine.cloneNode(true));
    const regions = store.regionsOf(obj.name).filter((r) => typeof r.value.start === "string");
    regions.sort((a, b) => (b.value.text || "").length - (a.value.text || "").length);
    for (const region of regions) {
      const a = locate(region.value.start, region.value.startOffset);
      const b = locate(region.value.end, region.value.endOffset);
      if (!a || !b) continue;
      const range = document.createRange();
      range.setStart(a.node, a.offset);
      range.setEnd(b.node, b.offset);
      wrapRange(range, () => {
        const span = h("span", { class: `lo-span${region.id === store.selectedId ? " selected" : ""}`, "data-region": region.id, title: region.labels.join(", ") });
        span.style.setProperty("--label-color", store.regionColor(region));
        return span;
      });
      const spans = el.querySelectorAll(`[data-region="${region.id}"]`);
      if (spans.length) { spans[spans.length - 1].classList.add("span-end"); spans[spans.length - 1].dataset.label = region.labels.join(", "); }
    }
    drawRelations(ctx, el, obj.name);
  };
  ctx.onRedraw(redraw);

  el.addEventListener("click", (event) => {
    if (event.target.closest("a")) event.preventDefault();
    const span = event.target.closest(".lo-span");
    const sel = window.getSelection();
    if (span && (!sel || sel.isCollapsed)) store.select(span.dataset.region);
  });
  el.addEventListener("mouseup", () => {
    if (ctx.readOnly) return;
    const sel = window.getSelection();
    if (!sel || sel.isCollapsed || !sel.rangeCount) return;
    const range = sel.getRangeAt(0);
    if (!el.contains(range.startContainer) || !el.contains(range.endContainer)) return;
    const active = store.activeFor(obj.name, LABEL_TAGS);
    if (!active) { ctx.notify("Choose a label first, then select text."); return; }
    // Offsets are measured on the pristine HTML (highlights only add <span>s around text).
    const startEl = elementOf(range.startContainer);
    const endEl = elementOf(range.endContainer);
    const startText = startEl.textContent;
    const endText = endEl.textContent;
    const value = {
      start: xpathOf(el, startEl),
      end: xpathOf(el, endEl),
      startOffset: codePointOffset(startText, textOffsetIn(startEl, range.startContainer, range.startOffset)),
      endOffset: codePointOffset(endText, textOffsetIn(endEl, range.endContainer, range.endOffset)),
      text: range.toString(),
    };
    sel.removeAllRanges();
    if (!value.text) return;
    store.addRegion({ to: obj.name, control: active.control.name, type: `${active.control.tag.toLowerCase()}`, value, labels: active.labels });
  });
  return el;
}
