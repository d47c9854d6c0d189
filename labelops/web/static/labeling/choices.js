// Classification controls: Choices (single/multiple/nested), Taxonomy, TextArea, Rating, Number,
// DateTime, and the label pickers of every *Labels tag. perRegion controls edit the selected region.
import { attr, h, resolveValue, truthy } from "./dom.js";
import { cleanHtml } from "./hypertext.js";
import { mountHeader, mountView } from "./layout.js";

// The items of a control: from the config, or (value="$field") from the task data.
export function controlItems(ctx, control) {
  if (!control.dynamic_options_field) return control.labels;
  const raw = resolveValue(`$${control.dynamic_options_field}`, ctx.data) || [];
  const palette = ["#FFA39E", "#FFC069", "#D3F261", "#5CDBD3", "#ADC6FF", "#F759AB"];
  const item = (o, i) => {
    const value = typeof o === "string" ? o : o.value;
    return {
      value,
      alias: null,
      hotkey: null,
      background: palette[i % palette.length],
      selected: false,
      hint: typeof o === "object" ? o.hint || null : null,
      html: typeof o === "object" && typeof o.html === "string" ? o.html : null,
      children: typeof o === "object" && Array.isArray(o.children) ? o.children.map(item) : [],
    };
  };
  return Array.isArray(raw) ? raw.map(item) : [];
}

// The value a control shows: the selected region's when perRegion, else the task's.
function currentValue(ctx, control) {
  if (control.per_region) {
    const region = ctx.store.selected();
    return region ? region.perRegion[control.name] || null : null;
  }
  const c = ctx.store.classifications[control.name];
  return c ? c.value : null;
}

// Sets the control's value: on the given region (by default the selected one) when perRegion.
function setValue(ctx, control, value, regionId = ctx.store.selectedId) {
  if (ctx.readOnly) return;
  if (control.per_region) {
    if (ctx.store.region(regionId)) ctx.store.setPerRegion(regionId, control.name, value);
  } else {
    ctx.store.setClassification(control.name, value);
  }
}

// A typed-in control edits the region it shows, not whichever region is selected when the typing
// ends: `shown()` is that region. When another region is selected, `follow()` first commits what
// is still typed to the region it was typed for (via `commit(regionId)`), then returns true so the
// caller shows the newly selected region's value.
function regionEditor(ctx, control, commit) {
  let shownFor = null;
  return {
    shown: () => (control.per_region ? shownFor : null),
    follow() {
      if (!control.per_region || ctx.store.selectedId === shownFor) return false;
      const was = shownFor;
      shownFor = ctx.store.selectedId;
      if (was && ctx.store.region(was)) commit(was);
      return true;
    },
  };
}

function hotkeyHint(hotkey) {
  return hotkey ? h("kbd", { class: "lo-kbd" }, hotkey) : null;
}

export function mountLabels(ctx, _node, control) {
  const el = h("div", { class: "lo-labels", "data-control": control.name });
  const buttons = [];
  const add = (item, depth) => {
    const button = h(
      "button",
      {
        type: "button",
        class: "lo-label",
        "data-value": item.value,
        title: item.hint || null,
        onclick: () => ctx.store.chooseLabel(control.name, item.value),
      },
      h("span", { class: "lo-swatch" }),
      item.alias || item.value,
      hotkeyHint(item.hotkey),
    );
    button.style.setProperty("--label-color", item.background);
    if (depth) button.style.marginLeft = `${depth}em`;
    buttons.push(button);
    el.append(button);
    for (const child of item.children || []) add(child, depth + 1);
  };
  for (const item of controlItems(ctx, control)) add(item, 0);
  const onPdf = control.to_names.some((name) => ctx.description.objects[name]?.tag === "Pdf");
  if (control.tag === "OcrLabels" && onPdf) {
    el.append(
      h(
        "p",
        { class: "lo-hint", role: "note" },
        "Regions on PDF pages cannot be drawn here yet; the document is shown to read.",
      ),
    );
  }
  ctx.registerHotkeys(control, (value) => ctx.store.chooseLabel(control.name, value));
  ctx.onRedraw(() => {
    const active = ctx.store.activeLabels[control.name] || [];
    const region = ctx.store.selected();
    const regionLabels = region && region.control === control.name ? region.labels : [];
    for (const b of buttons) {
      const value = b.dataset.value;
      b.classList.toggle("active", active.includes(value));
      b.classList.toggle("in-region", regionLabels.includes(value));
    }
  });
  return el;
}

// Layout among a control's choices (a heading above them, as Label Studio allows).
function layoutAmong(ctx, node) {
  const out = [];
  for (const child of node?.children || []) {
    if (child.tag === "Header") out.push(mountHeader(ctx, child));
    else if (child.tag === "View") out.push(mountView(ctx, child, (el) => el.append(...layoutAmong(ctx, child))));
  }
  return out;
}

export function mountChoices(ctx, node, control) {
  const multiple = control.choice === "multiple";
  const inline = truthy(attr(control.attrs, "showInline"));
  const el = h("fieldset", { class: `lo-choices${inline ? " inline" : ""}`, "data-control": control.name });
  el.append(...layoutAmong(ctx, node));
  const inputs = [];
  const group = `${control.name}-${Math.random().toString(36).slice(2, 8)}`;
  const add = (item, parent, depth) => {
    const input = h("input", {
      type: multiple ? "checkbox" : "radio",
      name: group,
      value: item.value,
      disabled: ctx.readOnly,
      "aria-label": item.html ? item.alias || item.value : null,
      onchange: () => toggle(item.value),
    });
    inputs.push(input);
    const label = h(
      "label",
      { class: "lo-choice", title: item.hint || null },
      input,
      item.html
        ? h("span", { class: "lo-choice-html" }, cleanHtml(item.html))
        : h("span", {}, item.alias || item.value),
      hotkeyHint(item.hotkey),
    );
    if (depth) label.style.marginLeft = `${depth * 1.2}em`;
    parent.append(label);
    for (const child of item.children || []) add(child, parent, depth + 1);
  };
  const toggle = (value) => {
    const chosen = currentValue(ctx, control)?.choices || [];
    let next;
    if (multiple) next = chosen.includes(value) ? chosen.filter((v) => v !== value) : [...chosen, value];
    else next = chosen.includes(value) ? [] : [value];
    setValue(ctx, control, next.length ? { choices: next } : null);
  };
  control.toggle = toggle;
  for (const item of controlItems(ctx, control)) add(item, el, 0);
  ctx.onRedraw(() => {
    const chosen = currentValue(ctx, control)?.choices || [];
    for (const input of inputs) input.checked = chosen.includes(input.value);
  });
  ctx.registerHotkeys(control, (value) => toggle(value));
  return el;
}

export function mountTaxonomy(ctx, _node, control) {
  const el = h("div", { class: "lo-taxonomy", "data-control": control.name });
  const leafsOnly = truthy(attr(control.attrs, "leafsOnly"));
  const inputs = [];
  const add = (item, path, parent) => {
    const full = [...path, item.value];
    const leaf = !(item.children || []).length;
    const row = h("div", { class: "lo-taxonomy-item" });
    if (!leafsOnly || leaf) {
      const input = h("input", {
        type: "checkbox",
        disabled: ctx.readOnly,
        "data-path": JSON.stringify(full),
        onchange: () => {
          const paths = (currentValue(ctx, control)?.taxonomy || []).map((p) => JSON.stringify(p));
          const key = JSON.stringify(full);
          const next = paths.includes(key) ? paths.filter((p) => p !== key) : [...paths, key];
          const single = control.choice === "single";
          const kept = single ? next.slice(-1) : next;
          setValue(ctx, control, kept.length ? { taxonomy: kept.map((p) => JSON.parse(p)) } : null);
        },
      });
      inputs.push(input);
      row.append(h("label", {}, input, " ", item.alias || item.value));
    } else {
      row.append(h("span", { class: "lo-taxonomy-group" }, item.alias || item.value));
    }
    parent.append(row);
    if (!leaf) {
      const sub = h("div", { class: "lo-taxonomy-children" });
      row.append(sub);
      for (const child of item.children) add(child, full, sub);
    }
  };
  for (const item of controlItems(ctx, control)) add(item, [], el);
  ctx.onRedraw(() => {
    const paths = (currentValue(ctx, control)?.taxonomy || []).map((p) => JSON.stringify(p));
    for (const input of inputs) input.checked = paths.includes(input.dataset.path);
  });
  return el;
}

export function mountTextArea(ctx, _node, control) {
  const rows = Number(attr(control.attrs, "rows", "2")) || 2;
  const placeholder = attr(control.attrs, "placeholder", "");
  const el = h("div", { class: "lo-textarea", "data-control": control.name });
  const list = h("ul", { class: "lo-texts" });
  const input = h("textarea", { rows, placeholder, disabled: ctx.readOnly, "aria-label": control.name });
  const max = Number(attr(control.attrs, "maxSubmissions", "0")) || 0;
  // Adds the typed text to the region it was typed for (or to the task).
  const addTo = (regionId) => {
    const text = input.value.trim();
    input.value = "";
    if (!text) return;
    const own = control.per_region ? ctx.store.region(regionId)?.perRegion : null;
    const texts = (control.per_region ? own?.[control.name] : currentValue(ctx, control))?.text || [];
    if (max && texts.length >= max) return;
    setValue(ctx, control, { text: [...texts, text] }, regionId);
  };
  const editor = regionEditor(ctx, control, addTo);
  const add = () => addTo(editor.shown());
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      add();
    }
  });
  const button = h("button", { type: "button", class: "lo-small", onclick: add, disabled: ctx.readOnly }, "Add");
  el.append(list, h("div", { class: "lo-textarea-row" }, input, button));
  // What is typed for a region belongs to it: committed when the box loses focus.
  if (control.per_region) input.addEventListener("blur", add);
  control.flush = add;
  ctx.onRedraw(() => {
    editor.follow();
    const texts = currentValue(ctx, control)?.text || [];
    list.replaceChildren(
      ...texts.map((t, i) =>
        h(
          "li",
          {},
          h("span", {}, t),
          ctx.readOnly
            ? null
            : h(
                "button",
                {
                  type: "button",
                  class: "lo-icon",
                  title: "Remove",
                  "aria-label": `Remove ${t}`,
                  onclick: () => {
                    const rest = texts.filter((_, j) => j !== i);
                    setValue(ctx, control, rest.length ? { text: rest } : null);
                  },
                },
                "×",
              ),
        ),
      ),
    );
  });
  return el;
}

export function mountRating(ctx, _node, control) {
  const max = Number(attr(control.attrs, "maxRating", "5")) || 5;
  const el = h("div", { class: "lo-rating", "data-control": control.name, role: "radiogroup" });
  const stars = [];
  for (let i = 1; i <= max; i += 1) {
    const star = h(
      "button",
      {
        type: "button",
        class: "lo-star",
        "aria-label": `${i} star${i > 1 ? "s" : ""}`,
        disabled: ctx.readOnly,
        onclick: () => {
          const cur = currentValue(ctx, control)?.rating;
          setValue(ctx, control, cur === i ? null : { rating: i });
        },
      },
      "★",
    );
    stars.push(star);
    el.append(star);
  }
  ctx.onRedraw(() => {
    const cur = currentValue(ctx, control)?.rating || 0;
    for (const [i, star] of stars.entries()) star.classList.toggle("on", i < cur);
  });
  return el;
}

export function mountNumber(ctx, _node, control) {
  const input = h("input", {
    type: "number",
    class: "lo-number",
    "aria-label": control.name,
    disabled: ctx.readOnly,
    min: attr(control.attrs, "min"),
    max: attr(control.attrs, "max"),
    step: attr(control.attrs, "step", "any"),
    onchange: () => commit(editor.shown()),
  });
  let committed = null;
  const commit = (regionId) => {
    const raw = input.value.trim();
    if (raw === committed) return;
    setValue(ctx, control, raw === "" || Number.isNaN(Number(raw)) ? null : { number: Number(raw) }, regionId);
  };
  const editor = regionEditor(ctx, control, commit);
  ctx.onRedraw(() => {
    const moved = editor.follow();
    const cur = currentValue(ctx, control);
    committed = cur ? String(cur.number) : "";
    if (moved || document.activeElement !== input) input.value = committed;
  });
  return h("div", { class: "lo-number-wrap", "data-control": control.name }, input);
}

export function mountDateTime(ctx, _node, control) {
  const onlyDate = attr(control.attrs, "only") === "date";
  const input = h("input", {
    type: onlyDate ? "date" : "datetime-local",
    class: "lo-datetime",
    "aria-label": control.name,
    disabled: ctx.readOnly,
    onchange: () => commit(editor.shown()),
  });
  let committed = null;
  const commit = (regionId) => {
    if (input.value === committed) return;
    setValue(ctx, control, input.value ? { datetime: input.value } : null, regionId);
  };
  const editor = regionEditor(ctx, control, commit);
  ctx.onRedraw(() => {
    const moved = editor.follow();
    const cur = currentValue(ctx, control);
    committed = cur ? cur.datetime : "";
    if (moved || document.activeElement !== input) input.value = committed;
  });
  return h("div", { class: "lo-datetime-wrap", "data-control": control.name }, input);
}

export const CONTROL_MOUNTS = {
  Choices: mountChoices,
  Taxonomy: mountTaxonomy,
  TextArea: mountTextArea,
  Rating: mountRating,
  Number: mountNumber,
  DateTime: mountDateTime,
};
