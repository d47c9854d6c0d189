// Renders a labeling interface from the server's JSON description and the task data.
//
//   renderInterface(container, description, taskData, {readOnly, predictions, annotation, onChange})
//
// returns a controller: {result(), undo(), redo(), store, destroy()}. The browser never parses
// the XML config: `description` is what labelops.domain.label_interface.interface_description
// produces.
import { CONTROL_MOUNTS, mountLabels } from "./choices.js";
import { attr, h } from "./dom.js";
import { Hotkeys } from "./hotkeys.js";
import { mountCollapse, mountHeader, mountStyle, mountTable, mountView } from "./layout.js";
import { mountPairwise } from "./pairwise.js";
import { mountList, mountRanker } from "./ranker.js";
import { shortcutHelp } from "./shortcuts.js";
import { mountSidebar } from "./sidebar.js";
import { LABEL_PICKERS, SHAPE_TOOLS, Store } from "./store.js";
import { mountText } from "./text.js";

const OBJECT_MODULES = {
  Text: async () => ({ mount: mountText }),
  HyperText: async () => ({ mount: (await import("./hypertext.js")).mountHyperText }),
  Paragraphs: async () => ({ mount: (await import("./paragraphs.js")).mountParagraphs }),
  Image: async () => ({ mount: (await import("./multi_image.js")).mountImageObject }),
  Audio: async () => ({ mount: (await import("./audio.js")).mountAudio }),
  Video: async () => ({ mount: (await import("./video.js")).mountVideo }),
  TimeSeries: async () => ({ mount: (await import("./timeseries.js")).mountTimeSeries }),
  Table: async () => ({ mount: mountTable }),
  List: async () => ({ mount: mountList }),
  Chat: async () => ({ mount: (await import("./chat.js")).mountChat }),
  Pdf: async () => ({ mount: (await import("./pdf.js")).mountPdf }),
};
// Controls that lay out their objects themselves (the two sides, the ranked list).
const COMPARE_MOUNTS = { Pairwise: mountPairwise, Ranker: mountRanker };

function unsupported(tag, why = "is not supported by the labeling view yet") {
  return h("div", { class: "lo-unsupported", role: "alert" }, `The <${tag}> tag ${why}.`);
}

export async function renderInterface(container, description, taskData, options = {}) {
  const store = new Store(description);
  store.onRefuse = (message) => ctx.notify(message);
  const redraws = [];
  const hotkeys = new Hotkeys();
  const notice = h("div", { class: "lo-notice", role: "status", "aria-live": "polite" });
  let noticeTimer = null;
  const cleanups = [];
  const toolKeys = [];
  const ctx = {
    store,
    description,
    data: taskData || {},
    readOnly: Boolean(options.readOnly),
    objectActions: {},
    objectEls: {},
    onRedraw: (fn) => redraws.push(fn),
    // Listeners on the window or document (anything that outlives the interface): destroy()
    // removes them.
    listen: (target, type, fn, listenerOptions) => {
      target.addEventListener(type, fn, listenerOptions);
      cleanups.push(() => target.removeEventListener(type, fn, listenerOptions));
    },
    notify: (message) => {
      notice.textContent = message;
      notice.classList.add("show");
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => notice.classList.remove("show"), 2500);
    },
    registerHotkeys: (control, action) => {
      if (ctx.readOnly) return;
      const walk = (items) => {
        for (const item of items || []) {
          const what = LABEL_PICKERS.has(control.tag) ? "Use the label" : "Toggle";
          const description = `${what} “${item.alias || item.value}” (${control.name})`;
          if (item.hotkey) hotkeys.add(item.hotkey, () => action(item.value), { description });
          walk(item.children);
        }
      };
      walk(control.labels);
    },
    // A control's own key, unless a label or choice already uses it.
    addHotkey: (key, action, description = null) => {
      if (!ctx.readOnly && !hotkeys.keys.has(key)) hotkeys.add(key, action, { description });
    },
    // Keys a tool handles itself, for the shortcut help.
    describeKey: (key, description) => toolKeys.push([key, description]),
  };
  const visibility = [];

  const renderNode = async (node, parent) => {
    const renderChildren = async (el) => {
      for (const child of node.children) await renderNode(child, el);
    };
    let el = null;
    const tag = node.tag;
    if (tag === "View") {
      el = mountView(ctx, node, () => {});
      await renderChildren(el);
    } else if (tag === "Collapse" || tag === "Panel") {
      el = mountCollapse(ctx, node, () => {});
      await renderChildren(el);
    } else if (tag === "Header") {
      el = mountHeader(ctx, node);
    } else if (tag === "Style") {
      el = mountStyle(ctx, node);
    } else if (description.objects[node.name] && description.objects[node.name].tag === tag) {
      const loader = OBJECT_MODULES[tag];
      if (!loader) el = unsupported(tag);
      else {
        try {
          const { mount } = await loader();
          el = await mount(ctx, node, description.objects[node.name]);
          if (el) ctx.objectEls[node.name] = el;
        } catch (error) {
          el = unsupported(tag, `could not be shown (${error.message})`);
        }
      }
    } else if (description.controls[node.name || ""] || tag === "Relations") {
      const control = description.controls[node.name || "relations"];
      el = mountControl(ctx, node, control);
    } else if (tag === "Filter") {
      el = null;
    } else {
      el = unsupported(tag);
    }
    if (!el) return;
    if (attr(node.attrs, "visibleWhen")) visibility.push({ el, attrs: node.attrs });
    parent.append(el);
  };

  const mountControl = (c, node, control) => {
    if (!control) return unsupported(node.tag);
    let el;
    if (LABEL_PICKERS.has(control.tag)) el = mountLabels(c, node, control);
    else if (CONTROL_MOUNTS[control.tag]) el = CONTROL_MOUNTS[control.tag](c, node, control);
    else if (COMPARE_MOUNTS[control.tag]) el = COMPARE_MOUNTS[control.tag](c, node, control);
    else if (SHAPE_TOOLS.has(control.tag) || control.tag === "Relations") el = h("span", { hidden: true });
    else return unsupported(control.tag);
    if (control.per_region) {
      const wrap = h("div", { class: "lo-per-region", "data-per-region": control.name }, el);
      c.onRedraw(() => {
        const region = store.selected();
        wrap.hidden = !region || !control.to_names.includes(region.to);
      });
      return wrap;
    }
    return el;
  };

  const root = h("div", { class: "lo-root" });
  const main = h("div", { class: "lo-main" });
  const side = h("aside", { class: "lo-side", "aria-label": "Regions" });
  root.append(main, side, notice);
  container.replaceChildren(root);
  // Narrow hosts (the config editor's preview, review panes) get the region list below.
  const fit = () => root.classList.toggle("lo-narrow", root.clientWidth > 0 && root.clientWidth < 760);
  const resizer = typeof ResizeObserver === "function" ? new ResizeObserver(fit) : null;
  if (resizer) resizer.observe(root);
  fit();

  await renderNode(description.layout, main);
  mountSidebar(ctx, side);

  const initial = options.annotation
    ? options.annotation.result
    : options.predictions?.length
      ? options.predictions[0].result
      : [];
  store.load(initial || []);

  const applyVisibility = () => {
    for (const { el, attrs } of visibility) el.hidden = !isVisible(store, attrs);
  };
  store.subscribe(() => {
    for (const fn of redraws) fn();
    applyVisibility();
    if (options.onChange) options.onChange(store.result());
  });

  if (!ctx.readOnly) {
    const removeSelected = () => store.removeSelected();
    hotkeys.add("ctrl+z", () => store.undo(), { description: "Undo" });
    hotkeys.add("ctrl+shift+z", () => store.redo(), { description: "Redo" });
    hotkeys.add("ctrl+y", () => store.redo(), { description: "Redo" });
    hotkeys.add("delete", removeSelected, { description: "Delete the selected regions" });
    hotkeys.add("backspace", removeSelected);
    hotkeys.add("ctrl+a", () => store.selectAll(), { description: "Select all regions" });
    hotkeys.add(
      "escape",
      () => {
        store.linkFrom = null;
        store.select(null);
      },
      { whileTyping: true, description: "Deselect; cancel a relation or a drawing" },
    );
    if (options.onSubmit) {
      hotkeys.add("ctrl+enter", () => options.onSubmit(), { whileTyping: true, description: "Submit" });
    }
    // The page's own keys (previous/next task): [key, action, description].
    for (const [key, action, description] of options.pageKeys || []) hotkeys.add(key, action, { description });
    const help = shortcutHelp(() => [...hotkeys.described(), ...toolKeys]);
    root.append(help.dialog);
    hotkeys.add("?", () => help.toggle(), { description: "Show or hide these shortcuts" });
    if (options.hotkeys !== false) hotkeys.attach(document);
  }
  store.emit();

  return {
    store,
    result: () => {
      for (const control of Object.values(description.controls)) if (control.flush) control.flush();
      return store.result();
    },
    undo: () => store.undo(),
    redo: () => store.redo(),
    destroy: () => {
      hotkeys.detach();
      if (resizer) resizer.disconnect();
      for (const cleanup of cleanups.splice(0)) cleanup();
      clearTimeout(noticeTimer);
      container.replaceChildren();
    },
  };
}

// Evaluates visibleWhen / whenTagName / whenChoiceValue / whenLabelValue against the state.
export function isVisible(store, attrs) {
  const when = attr(attrs, "visibleWhen");
  const tagName = attr(attrs, "whenTagName");
  const choiceValue = attr(attrs, "whenChoiceValue");
  const labelValue = attr(attrs, "whenLabelValue");
  const role = attr(attrs, "whenRole");
  if (when === "region-selected" || when === "no-region-selected") {
    const region = store.selected();
    let ok = Boolean(region);
    // A Chat message's role (whenRole="assistant").
    if (ok && role) ok = role.split(",").some((r) => r.trim() === region.value?.chatmessage?.role);
    if (ok && tagName) ok = region.control === tagName || region.to === tagName;
    if (ok && labelValue)
      ok = labelValue
        .split(",")
        .map((v) => v.trim())
        .some((v) => region.labels.includes(v));
    return when === "region-selected" ? ok : !region;
  }
  if (when === "choice-selected" || when === "choice-unselected") {
    const values = [];
    for (const [name, c] of Object.entries(store.classifications)) {
      if (!tagName || name === tagName) values.push(...(c.value.choices || []), ...(c.value.taxonomy || []).flat());
    }
    const region = store.selected();
    if (region)
      for (const [name, v] of Object.entries(region.perRegion)) {
        if (!tagName || name === tagName) values.push(...(v.choices || []));
      }
    const wanted = choiceValue ? choiceValue.split(",").map((v) => v.trim()) : null;
    const selected = wanted ? values.some((v) => wanted.includes(v)) : values.length > 0;
    return when === "choice-selected" ? selected : !selected;
  }
  return true;
}
