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
import { REGION_TAGS, Store } from "./store.js";
import { mountText } from "./text.js";
import { mountPairwise } from "./pairwise.js";
import { mountList, mountRanker } from "./ranker.js";

const LABEL_PICKERS = new Set([
  "Labels", "HyperTextLabels", "ParagraphLabels", "RectangleLabels", "PolygonLabels",
  "KeyPointLabels", "EllipseLabels", "TimeSeriesLabels", "TimelineLabels",
]);
const SHAPE_TOOLS = new Set(["Rectangle", "Polygon", "KeyPoint", "Ellipse", "VideoRectangle"]);
const OBJECT_MODULES = {
  Text: async () => ({ mount: mountText }),
  HyperText: async () => ({ mount: (await import("./hypertext.js")).mountHyperText }),
  Paragraphs: async () => ({ mount: (await import("./paragraphs.js")).mountParagraphs }),
  Image: async () => ({ mount: (await import("./image.js")).mountImage }),
  Audio: async () => ({ mount: (await import("./audio.js")).mountAudio }),
  Video: async () => ({ mount: (await import("./video.js")).mountVideo }),
  TimeSeries: async () => ({ mount: (await import("./timeseries.js")).mountTimeSeries }),
  Table: async () => ({ mount: mountTable }),
  List: async () => ({ mount: mountList }),
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
          if (item.hotkey) hotkeys.add(item.hotkey, () => action(item.value));
          walk(item.children);
        }
      };
      walk(control.labels);
    },
    // A control's own key, unless a label or choice already uses it.
    addHotkey: (key, action) => {
      if (!ctx.readOnly && !hotkeys.keys.has(key)) hotkeys.add(key, action);
    },
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

  const initial = options.annotation ? options.annotation.result
    : (options.predictions && options.predictions.length ? options.predictions[0].result : []);
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
    hotkeys.add("ctrl+z", () => store.undo(), { whileTyping: false });
    hotkeys.add("ctrl+shift+z", () => store.redo());
    hotkeys.add("ctrl+y", () => store.redo());
    hotkeys.add("delete", () => { if (store.selectedId) store.removeRegion(store.selectedId); });
    hotkeys.add("backspace", () => { if (store.selectedId) store.removeRegion(store.selectedId); });
    hotkeys.add("escape", () => { store.linkFrom = null; store.select(null); }, { whileTyping: true });
    if (options.onSubmit) hotkeys.add("ctrl+enter", () => options.onSubmit(), { whileTyping: true });
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
  if (when === "region-selected" || when === "no-region-selected") {
    const region = store.selected();
    let ok = Boolean(region);
    if (ok && tagName) ok = region.control === tagName || region.to === tagName;
    if (ok && labelValue) ok = labelValue.split(",").map((v) => v.trim()).some((v) => region.labels.includes(v));
    return when === "region-selected" ? ok : !region;
  }
  if (when === "choice-selected" || when === "choice-unselected") {
    const values = [];
    for (const [name, c] of Object.entries(store.classifications)) {
      if (!tagName || name === tagName) values.push(...(c.value.choices || []), ...(c.value.taxonomy || []).flat());
    }
    const region = store.selected();
    if (region) for (const [name, v] of Object.entries(region.perRegion)) {
      if (!tagName || name === tagName) values.push(...(v.choices || []));
    }
    const wanted = choiceValue ? choiceValue.split(",").map((v) => v.trim()) : null;
    const selected = wanted ? values.some((v) => wanted.includes(v)) : values.length > 0;
    return when === "choice-selected" ? selected : !selected;
  }
  return true;
}

function describe(region) {
  const v = region.value;
  if (typeof v.text === "string") return `“${v.text.length > 40 ? `${v.text.slice(0, 40)}…` : v.text}”`;
  if (region.type.startsWith("rectangle")) return `box ${v.width.toFixed(1)}×${v.height.toFixed(1)}%`;
  if (region.type.startsWith("polygon")) return `polygon, ${v.points.length} points`;
  if (region.type.startsWith("keypoint")) return `point ${v.x.toFixed(1)}, ${v.y.toFixed(1)}%`;
  if (region.type.startsWith("ellipse")) return "ellipse";
  if (region.type === "videorectangle") return `box, ${v.sequence.length} keyframe${v.sequence.length === 1 ? "" : "s"}`;
  if (region.type === "timelinelabels") return v.ranges.map((r) => `frames ${r.start}–${r.end}`).join(", ");
  if (typeof v.start === "number") return `${v.start.toFixed(2)}–${v.end.toFixed(2)}`;
  if (v.start !== undefined) return `${v.start}–${v.end}`;
  return region.type;
}

function mountSidebar(ctx, side) {
  const { store } = ctx;
  const regionList = h("ol", { class: "lo-region-list" });
  const relationList = h("ol", { class: "lo-relation-list" });
  const relationsControl = Object.values(store.description.controls).find((c) => c.tag === "Relations");
  const hasRegions = Object.values(store.description.controls).some((c) => REGION_TAGS.has(c.tag));
  side.hidden = !hasRegions;
  const linkHint = h("p", { class: "lo-link-hint", hidden: true }, "Click the region to link to (Esc cancels).");
  side.append(h("h4", {}, "Regions"), regionList, linkHint);
  if (relationsControl) side.append(h("h4", {}, "Relations"), relationList);
  const index = (id) => store.regions.findIndex((r) => r.id === id) + 1;
  ctx.onRedraw(() => {
    linkHint.hidden = !store.linkFrom;
    if (!store.regions.length) {
      regionList.replaceChildren(h("li", { class: "lo-empty" }, ctx.readOnly ? "No regions." : "No regions yet: pick a label, then mark the data."));
    } else {
      regionList.replaceChildren(...store.regions.map((region, i) => {
        const actions = ctx.objectActions[region.to] ? ctx.objectActions[region.to](region) : [];
        const row = h("li", {
          class: `lo-region${region.id === store.selectedId ? " selected" : ""}`, "data-region": region.id,
          // On press, not click: the list redraws when a focused per-region box commits on blur.
          onpointerdown: (event) => { if (!event.target.closest("button")) store.select(region.id); },
        },
        h("span", { class: "lo-region-index" }, `${i + 1}`),
        h("span", { class: "lo-swatch" }),
        h("span", { class: "lo-region-labels" }, region.labels.join(", ") || "(no label)"),
        h("span", { class: "lo-region-desc" }, describe(region)),
        h("span", { class: "lo-region-actions" }, ...actions,
          relationsControl && !ctx.readOnly ? h("button", {
            type: "button", class: "lo-icon", title: "Link to another region", "aria-label": "Create relation",
            onclick: () => { store.linkFrom = region.id; store.selectedId = region.id; store.emit(); },
          }, "⇢") : null,
          ctx.readOnly ? null : h("button", {
            type: "button", class: "lo-icon", title: "Delete region", "aria-label": "Delete region",
            onclick: () => store.removeRegion(region.id),
          }, "×")));
        row.style.setProperty("--label-color", store.regionColor(region));
        return row;
      }));
    }
    if (!relationsControl) return;
    relationList.replaceChildren(...store.relations.map((rel, i) => {
      const arrow = { right: "→", left: "←", bi: "↔" }[rel.direction] || "→";
      const labels = relationsControl.labels || [];
      const select = labels.length ? h("select", {
        "aria-label": "Relation label", disabled: ctx.readOnly,
        onchange: (event) => store.change(() => {
          const chosen = event.target.value;
          if (chosen) store.relations[i].labels = [chosen];
          else delete store.relations[i].labels;
        }),
      }, h("option", { value: "" }, "—"), ...labels.map((l) => h("option", {
        value: l.value, selected: (rel.labels || []).includes(l.value),
      }, l.alias || l.value))) : null;
      return h("li", { class: "lo-relation" },
        h("span", {}, `${index(rel.from_id)} `),
        h("button", {
          type: "button", class: "lo-icon", title: "Change direction", disabled: ctx.readOnly,
          onclick: () => store.change(() => {
            const next = { right: "left", left: "bi", bi: "right" };
            store.relations[i].direction = next[rel.direction] || "right";
          }),
        }, arrow),
        h("span", {}, ` ${index(rel.to_id)}`), select,
        ctx.readOnly ? null : h("button", {
          type: "button", class: "lo-icon", title: "Delete relation", "aria-label": "Delete relation",
          onclick: () => store.change(() => { store.relations.splice(i, 1); }),
        }, "×"));
    }));
  });
}
