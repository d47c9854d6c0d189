// HyperText: sanitized HTML (the server cleans it with nh3 and sends it as the object's `html`;
// the page cleans it again as a second line) with HyperTextLabels spans stored as Label Studio
// does: element xpaths in start/end plus startOffset/endOffset (code points into each element's
// text). valueType="url" shows the address in a sandboxed frame (no scripts), never fetched here.
import { attr, codePointOffset, h, pointAt, resolveValue, textOffsetIn, utf16Offset } from "./dom.js";
import { drawRelations } from "./relations.js";

const LABEL_TAGS = ["HyperTextLabels", "Labels"];
const DROP = [
  "script",
  "style",
  "iframe",
  "object",
  "embed",
  "link",
  "meta",
  "base",
  "form",
  "frame",
  "frameset",
  "template",
  "svg",
  "math",
  "noscript",
  "applet",
  "portal",
  "input",
  "button",
  "textarea",
  "select",
].join(",");
// Attributes that hold a URL: only http(s), mailto and relative ones survive.
const URL_ATTRS = new Set([
  "href",
  "src",
  "xlink:href",
  "action",
  "formaction",
  "poster",
  "background",
  "cite",
  "longdesc",
  "data",
  "codebase",
  "ping",
  "lowsrc",
  "dynsrc",
  "usemap",
]);
const DROP_ATTRS = new Set(["style", "srcset", "srcdoc", "is", "nonce"]);
const SAFE_SCHEMES = new Set(["http", "https", "mailto"]);
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|bmp);/;
// What the browser's own URL parser ignores: ASCII control characters and whitespace.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const IGNORED = /[\u0000-\u0020\u007f-\u009f\u00a0\u1680\u2000-\u200f\u2028\u2029\u205f\u3000\ufeff]/g;
// An absolute http(s) address (this site's own pages refuse to be framed).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are refused
const FRAMEABLE = /^https?:\/\/[^\u0000-\u0020\u007f/?#\\]+([/?#][^\u0000-\u0020\u007f]*)?$/i;

// Returns whether a URL attribute value is safe to keep (entities are already decoded here).
export function safeUrl(value, { image = false } = {}) {
  const plain = String(value).replace(IGNORED, "").toLowerCase();
  const scheme = /^([a-z][a-z0-9+.-]*):/.exec(plain);
  if (!scheme) return true;
  if (SAFE_SCHEMES.has(scheme[1])) return true;
  return image && DATA_IMAGE.test(plain);
}

// Returns a fragment of `html` without scripts, handlers, styles and unsafe URLs.
export function cleanHtml(html) {
  const doc = new DOMParser().parseFromString(String(html ?? ""), "text/html");
  for (const n of doc.querySelectorAll(DROP)) n.remove();
  for (const el of doc.body.querySelectorAll("*")) {
    for (const a of [...el.attributes]) {
      const name = a.name.toLowerCase();
      const isImage = el.tagName === "IMG" && name === "src";
      if (
        name.startsWith("on") ||
        DROP_ATTRS.has(name) ||
        (URL_ATTRS.has(name) && !safeUrl(a.value, { image: isImage }))
      ) {
        el.removeAttribute(a.name);
      }
    }
  }
  const fragment = document.createDocumentFragment();
  fragment.append(...[...doc.body.childNodes].map((n) => document.importNode(n, true)));
  return fragment;
}

// Returns the URL if a sandboxed frame may show it, else null.
export function frameableUrl(value) {
  return typeof value === "string" && FRAMEABLE.test(value) ? value : null;
}

// valueType="url": the page at that address in a frame that may not run scripts or navigate.
function mountUrlFrame(ctx, obj) {
  const url = "url" in obj ? obj.url : frameableUrl(resolveValue(obj.value, ctx.data));
  if (!url) {
    return h(
      "div",
      { class: "lo-unsupported", role: "alert", "data-object": obj.name },
      `The address in this task was not shown: ${obj.refused || "only an absolute http(s) address can be shown"}.`,
    );
  }
  return h("iframe", {
    sandbox: "",
    referrerpolicy: "no-referrer",
    class: "lo-hypertext-frame",
    "data-object": obj.name,
    title: `Page for ${obj.name}`,
    src: url,
  });
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

export function mountHyperText(ctx, _node, obj) {
  const { store } = ctx;
  if (attr(obj.attrs, "valueType") === "url") return mountUrlFrame(ctx, obj);
  const html = typeof obj.html === "string" ? obj.html : resolveValue(obj.value, ctx.data);
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
        const span = h("span", {
          class: `lo-span${store.isSelected(region.id) ? " selected" : ""}`,
          "data-region": region.id,
          title: region.labels.join(", "),
        });
        span.style.setProperty("--label-color", store.regionColor(region));
        return span;
      });
      const spans = el.querySelectorAll(`[data-region="${region.id}"]`);
      if (spans.length) {
        spans[spans.length - 1].classList.add("span-end");
        spans[spans.length - 1].dataset.label = region.labels.join(", ");
      }
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
    if (!active) {
      ctx.notify("Choose a label first, then select text.");
      return;
    }
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
    store.addRegion({
      to: obj.name,
      control: active.control.name,
      type: `${active.control.tag.toLowerCase()}`,
      value,
      labels: active.labels,
    });
  });
  return el;
}
