// Live preview of a labeling interface: the labeling view's own renderer when it is available,
// otherwise a structured outline of the interface description.

import { h } from "../labeling/dom.js";

let rendererPromise = null;

function loadRenderer() {
  if (!rendererPromise) {
    rendererPromise = import("/static/labeling/render.js")
      .then((mod) => (typeof mod.renderInterface === "function" ? mod.renderInterface : null))
      .catch(() => null);
  }
  return rendererPromise;
}

export async function renderPreview(container, preview) {
  container.replaceChildren();
  if (!preview) {
    container.append(h("p", { class: "muted" }, "Fix the config to see its preview."));
    return;
  }
  const render = await loadRenderer();
  if (render) {
    try {
      container.replaceChildren();
      await render(container, preview.interface, preview.task_data, { readOnly: true });
      return;
    } catch (error) {
      container.replaceChildren();
      container.append(h("p", { class: "field-error" }, `Preview failed: ${error.message}`));
    }
  }
  container.append(outline(preview.interface, preview.task_data));
}

export function outline(description, taskData) {
  const list = h("ul", { class: "outline outline-root", "data-outline": true });
  list.append(node(description.layout, description, taskData || {}));
  return list;
}

function node(layout, description, taskData) {
  const item = h("li");
  const name = layout.name ? ` ${layout.name}` : "";
  item.append(h("span", { class: "tag" }, `<${layout.tag}${name}>`));
  const object = layout.name ? description.objects[layout.name] : null;
  const control = layout.name ? description.controls[layout.name] : null;
  if (layout.tag === "Header" && layout.attrs.value) item.append(" ", h("strong", {}, layout.attrs.value));
  if (object) {
    const value = object.data_field ? taskData[object.data_field] : object.value;
    item.append(" ", h("span", { class: "muted small" }, object.data_field ? `shows $${object.data_field}` : ""));
    if (value !== undefined) {
      const text = typeof value === "string" ? value : JSON.stringify(value);
      item.append(h("div", { class: "sample" }, text.length > 240 ? `${text.slice(0, 240)}…` : text));
    }
  }
  if (control) {
    const target = control.to_names.length ? ` → ${control.to_names.join(", ")}` : "";
    item.append(
      " ",
      h("span", { class: "muted small" }, `${control.result_type}${target}${control.required ? " · required" : ""}`),
    );
    if (control.labels.length) {
      const chips = h("div");
      for (const label of flatten(control.labels)) {
        chips.append(
          h(
            "span",
            { class: "chip", style: `background:${label.background}22;border-color:${label.background}` },
            label.value,
            label.hotkey ? h("span", { class: "muted small" }, ` [${label.hotkey}]`) : null,
          ),
        );
      }
      item.append(chips);
    }
  }
  const childNodes = (layout.children || []).filter(
    (child) => !(control && (child.tag === "Label" || child.tag === "Choice")),
  );
  if (childNodes.length) {
    const sub = h("ul", { class: "outline" });
    for (const child of childNodes) sub.append(node(child, description, taskData));
    item.append(sub);
  }
  return item;
}

function flatten(labels) {
  return labels.flatMap((label) => [label, ...flatten(label.children || [])]);
}
