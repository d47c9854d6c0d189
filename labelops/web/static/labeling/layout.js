// Visual tags: View, Header, Style, Collapse/Panel, and the Table object tag.
import { attr, h, resolveValue } from "./dom.js";

const SAFE_STYLE = /^[^<>{}]*$/;

// A config's style and className on a layout element (no url(), no markup).
function styled(el, node) {
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
  return el;
}

export function mountView(_ctx, node, renderChildren) {
  const el = styled(h("div", { class: "lo-view" }), node);
  renderChildren(el);
  return el;
}

export function mountHeader(ctx, node) {
  const text = resolveValue(attr(node.attrs, "value") || node.text || "", ctx.data);
  const size = Number(attr(node.attrs, "size"));
  const tag = { 1: "h2", 2: "h3", 3: "h4", 4: "h5" }[size] || (size >= 5 ? "h6" : "h3");
  return styled(h(tag, { class: "lo-header" }, String(text ?? "")), node);
}

// CSS from <Style>, scoped to the interface so it cannot restyle the page around it.
// Class names the config gives its elements (className), which the page prefixes with "cfg-".
function configClasses(layout, found = new Set()) {
  for (const token of (attr(layout.attrs, "className") || "").split(/\s+/)) if (token) found.add(token);
  for (const child of layout.children || []) configClasses(child, found);
  return found;
}

export function mountStyle(ctx, node) {
  const css = (node.text || "").replace(/@import[^;]*;?/gi, "").replace(/url\s*\([^)]*\)/gi, "none");
  const classes = configClasses(ctx.description.layout);
  // ".name" in a selector means the element the config named so, now "cfg-name".
  const renamed = (sel) =>
    sel.replace(/\.(-?[A-Za-z_][\w-]*)/g, (all, name) => (classes.has(name) ? `.cfg-${name}` : all));
  const scoped = css.replace(/(^|\})\s*([^{}@]+)\{/g, (_all, brace, selectors) => {
    const list = selectors
      .split(",")
      .map((sel) => `.lo-root ${renamed(sel.trim())}`)
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
