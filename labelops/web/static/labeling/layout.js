// Visual tags: View, Header, Style, Collapse/Panel, and the Table object tag.
import { attr, h, resolveValue } from "./dom.js";

const SAFE_STYLE = /^[^<>{}]*$/;

export function mountView(_ctx, node, renderChildren) {
  const el = h("div", { class: "lo-view" });
  const style = attr(node.attrs, "style");
  if (style && SAFE_STYLE.test(style) && !/url\s*\(/i.test(style)) el.style.cssText = style;
  const cls = attr(node.attrs, "className");
  if (cls)
    el.classList.add(
      ...cls
        .split(/\s+/)
        .filter(Boolean)
        .map((c) => `cfg-${c}`),
    );
  renderChildren(el);
  return el;
}

export function mountHeader(ctx, node) {
  const text = resolveValue(attr(node.attrs, "value") || node.text || "", ctx.data);
  const size = attr(node.attrs, "size");
  const tag = { 1: "h2", 2: "h3", 3: "h4", 4: "h5" }[size] || "h3";
  return h(tag, { class: "lo-header" }, String(text ?? ""));
}

// CSS from <Style>, scoped to the interface so it cannot restyle the page around it.
export function mountStyle(_ctx, node) {
  const css = (node.text || "").replace(/@import[^;]*;?/gi, "").replace(/url\s*\([^)]*\)/gi, "none");
  const scoped = css.replace(/(^|\})\s*([^{}@]+)\{/g, (_all, brace, selectors) => {
    const list = selectors
      .split(",")
      .map((sel) => `.lo-root ${sel.trim()}`)
      .join(", ");
    return `${brace} ${list} {`;
  });
  return h("style", { text: scoped });
}

export function mountCollapse(_ctx, node, renderChildren) {
  const details = h("details", { class: "lo-collapse", open: true });
  details.append(h("summary", {}, attr(node.attrs, "name") || "Details"));
  renderChildren(details);
  return details;
}

export function mountTable(ctx, _node, obj) {
  const value = resolveValue(obj.value, ctx.data);
  const table = h("table", { class: "lo-table", "data-object": obj.name });
  const rows = value && typeof value === "object" ? Object.entries(value) : [];
  table.append(
    h(
      "tbody",
      {},
      rows.map(([k, v]) =>
        h("tr", {}, h("th", {}, k), h("td", {}, typeof v === "object" ? JSON.stringify(v) : String(v))),
      ),
    ),
  );
  return table;
}
