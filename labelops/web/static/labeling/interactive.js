// Interactive pre-annotation ("Auto-annotate"), as Label Studio offers it with an interactive
// ML backend: while the toggle is on, a region drawn with a smart tool (a control with
// smart="true" or smartOnly="true", or a label with it) is sent as context, {"result": [the region]}, to
// POST /api/ml/<id>/interactive-annotating. The backend's regions replace that prompt and are
// shown as a suggestion (dashed) until the annotator accepts (Enter) or rejects (Escape) them;
// a suggestion not yet accepted is left out of the submitted result. A failing backend only
// shows a message: the drawn region stays and labeling goes on.
import { fetchJSON } from "../js/http.js";
import { h } from "./dom.js";
import { regionId, Store } from "./store.js";

const STORAGE_KEY = "labelops.autoAnnotate";

const isTrue = (attrs, key) => String(attrs?.[key] ?? "").toLowerCase() === "true";

// The controls that are smart tools: smart="true" (or smartOnly) on the control, or on one of
// its labels, as Label Studio's configs write it.
function smartControls(description) {
  const names = new Set();
  const walk = (node, control) => {
    const own = description.controls[node.name || ""] ? node.name : control;
    if (own && (isTrue(node.attrs, "smart") || isTrue(node.attrs, "smartOnly"))) names.add(own);
    for (const child of node.children || []) walk(child, own);
  };
  walk(description.layout, null);
  return names;
}

// The backend's result items as store regions, with fresh ids (relations are dropped).
function suggestedRegions(description, items) {
  const ids = new Map();
  const renamed = [];
  for (const item of items) {
    if (!item || typeof item !== "object" || item.type === "relation") continue;
    const old = item.id || regionId();
    if (!ids.has(old)) ids.set(old, regionId());
    renamed.push({ ...item, id: ids.get(old) });
  }
  const scratch = new Store(description);
  scratch.load(renamed);
  return scratch.regions;
}

export function mountAutoAnnotate({ controller, backendId, taskId, bar }) {
  const store = controller.store;
  const smart = smartControls(store.description);
  const known = new Set(store.regions.map((r) => r.id));
  const pending = new Set();
  const style = h("style", { id: "lo-auto-style" });
  const input = h("input", { type: "checkbox", id: "lo-auto-annotate" });
  input.checked = localStorage.getItem(STORAGE_KEY) === "on";
  const toggle = h(
    "label",
    { class: "lo-btn lo-auto-toggle", title: "Ask the project's model when you draw with a smart tool" },
    input,
    " Auto-annotate",
  );
  const status = h("span", { class: "lo-auto-status", id: "lo-auto-status", role: "status", "aria-live": "polite" });
  const accept = h(
    "button",
    { type: "button", class: "lo-btn primary", id: "lo-auto-accept", title: "Enter" },
    "Accept",
  );
  const reject = h("button", { type: "button", class: "lo-btn", id: "lo-auto-reject", title: "Escape" }, "Reject");
  const choice = h("span", { class: "lo-auto-choice", hidden: true }, accept, reject);
  bar.prepend(toggle, status, choice);
  document.head.append(style);

  const say = (message, kind = "") => {
    status.textContent = message;
    status.dataset.kind = kind;
  };
  const refresh = () => {
    for (const id of [...pending]) if (!store.region(id)) pending.delete(id);
    choice.hidden = pending.size === 0;
    style.textContent = [...pending]
      .map((id) => `[data-region="${CSS.escape(id)}"] { stroke-dasharray: 6 4; opacity: 0.75; outline-style: dashed; }`)
      .join("\n");
    document.body.dataset.autoSuggestions = String(pending.size);
  };

  const ask = async (region) => {
    const item = store.result().find((r) => r.id === region.id && r.from_name === region.control);
    if (!item) return;
    say("Asking the model…", "busy");
    let answer;
    try {
      answer = await fetchJSON("POST", `/api/ml/${backendId}/interactive-annotating`, {
        task: taskId,
        context: { result: [item] },
      });
    } catch (error) {
      say(`Auto-annotation failed: ${error.message}. Your region is kept; go on labeling.`, "error");
      return;
    }
    if (!store.region(region.id)) return; // the annotator deleted the region meanwhile
    const regions = suggestedRegions(store.description, answer?.data?.result || []);
    if (!regions.length) {
      say("The model has no suggestion for this region.", "");
      return;
    }
    for (const r of regions) {
      known.add(r.id);
      pending.add(r.id);
    }
    store.change(() => {
      store.regions = store.regions.filter((r) => r.id !== region.id);
      store.regions.push(...regions);
      if (store.selectedId === region.id) store.selectedId = null;
    });
    say(`Suggested ${regions.length} region${regions.length === 1 ? "" : "s"}: accept (Enter) or reject (Esc).`, "ok");
  };

  const acceptAll = () => {
    pending.clear();
    say("Suggestion accepted.", "ok");
    store.emit();
  };
  const rejectAll = () => {
    const gone = new Set(pending);
    pending.clear();
    store.change(() => {
      store.regions = store.regions.filter((r) => !gone.has(r.id));
      store.relations = store.relations.filter((rel) => !gone.has(rel.from_id) && !gone.has(rel.to_id));
    });
    say("Suggestion rejected.", "");
  };
  accept.addEventListener("click", acceptAll);
  reject.addEventListener("click", rejectAll);
  input.addEventListener("change", () => localStorage.setItem(STORAGE_KEY, input.checked ? "on" : "off"));
  document.addEventListener(
    "keydown",
    (event) => {
      if (!pending.size || event.target.closest?.("input, textarea, select, [contenteditable]")) return;
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) acceptAll();
      else if (event.key === "Escape") rejectAll();
      else return;
      event.preventDefault();
      event.stopPropagation();
    },
    true,
  );

  store.subscribe(() => {
    const fresh = store.regions.filter((r) => !known.has(r.id));
    for (const r of fresh) known.add(r.id);
    refresh();
    if (!input.checked) return;
    for (const r of fresh) if (smart.has(r.control)) ask(r);
  });

  // A suggestion not accepted yet is not part of the annotation.
  const result = controller.result;
  controller.result = () =>
    result().filter((item) => !pending.has(item.id) && !pending.has(item.from_id) && !pending.has(item.to_id));
  refresh();
}
