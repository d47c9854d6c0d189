// The labeling state and its Label Studio result JSON: regions, classifications and relations.
import { History } from "./history.js";
import { IMAGE_LABEL_TAGS, IMAGE_TOOLS } from "./image_tools/index.js";

// Controls that pick a label for a region drawn on an object (the image tools' label tags come
// from the tools themselves, so a new image tool is known here at once).
export const LABEL_PICKERS = new Set([
  "Labels",
  "HyperTextLabels",
  "ParagraphLabels",
  ...IMAGE_LABEL_TAGS,
  "TimeSeriesLabels",
  "TimelineLabels",
  "OcrLabels",
]);
// Controls that draw a region on their own (no label picked).
export const SHAPE_TOOLS = new Set(
  [...IMAGE_TOOLS.flatMap((tool) => tool.tags), "VideoRectangle"].filter((tag) => !tag.endsWith("Labels")),
);
// Controls whose result items are regions on an object (everything else classifies the task,
// or a region when perRegion is set).
// A Chat is the control of the messages the annotator adds to it (chatmessage regions).
export const REGION_TAGS = new Set([...LABEL_PICKERS, ...SHAPE_TOOLS, "Chat"]);
const VALUE_KEYS = {
  choices: ["choices"],
  taxonomy: ["taxonomy"],
  textarea: ["text"],
  rating: ["rating"],
  number: ["number"],
  datetime: ["datetime"],
};
const EXTRA_KEYS = ["original_width", "original_height", "image_rotation", "item_index"];

export function regionId() {
  const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
  let id = "";
  for (let i = 0; i < 10; i += 1) id += chars[Math.floor(Math.random() * chars.length)];
  return id;
}

export class Store {
  constructor(description) {
    this.description = description;
    this.regions = [];
    this.classifications = {};
    this.relations = [];
    this.selectedId = null;
    // The index of the relation chosen by clicking its label on the arc (Delete removes it).
    this.selectedRelation = null;
    // Ctrl+A: every region is selected (Delete removes them all); selecting one region ends it.
    this.allSelected = false;
    // How the annotator sees regions, not part of the result nor of undo: hidden regions are not
    // drawn, locked ones cannot be moved, reshaped or deleted.
    this.hidden = new Set();
    this.locked = new Set();
    this.linkFrom = null;
    this.activeLabels = {};
    this.history = new History();
    this.listeners = new Set();
  }

  control(name) {
    return this.description.controls[name];
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this);
  }

  snapshot() {
    return JSON.stringify({
      regions: this.regions,
      classifications: this.classifications,
      relations: this.relations,
    });
  }

  restore(snapshot) {
    const state = JSON.parse(snapshot);
    this.regions = state.regions;
    this.classifications = state.classifications;
    this.relations = state.relations;
    if (!this.region(this.selectedId)) this.selectedId = null;
    if (!this.relations[this.selectedRelation]) this.selectedRelation = null;
    this.linkFrom = null;
  }

  // Records an undo point, applies the change and re-renders.
  change(mutate) {
    this.history.record(this.snapshot());
    mutate();
    this.emit();
  }

  checkpoint() {
    this.history.record(this.snapshot());
  }

  undo() {
    const prev = this.history.undo(this.snapshot());
    if (prev !== null) {
      this.restore(prev);
      this.emit();
    }
  }

  redo() {
    const next = this.history.redo(this.snapshot());
    if (next !== null) {
      this.restore(next);
      this.emit();
    }
  }

  region(id) {
    return this.regions.find((r) => r.id === id) || null;
  }

  selected() {
    return this.region(this.selectedId);
  }

  // The regions drawn on an object (hidden ones are left out).
  regionsOf(objectName) {
    return this.regions.filter((r) => r.to === objectName && !this.hidden.has(r.id));
  }

  isSelected(id) {
    return this.allSelected || this.selectedId === id;
  }

  selectAll() {
    this.selectedId = null;
    this.allSelected = this.regions.length > 0;
    this.emit();
  }

  toggleHidden(id) {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
    if (this.hidden.has(this.selectedId)) this.selectedId = null;
    this.emit();
  }

  setHidden(ids) {
    this.hidden = new Set(ids);
    if (this.hidden.has(this.selectedId)) this.selectedId = null;
    this.emit();
  }

  toggleLocked(id) {
    if (this.locked.has(id)) this.locked.delete(id);
    else this.locked.add(id);
    this.emit();
  }

  // Refuses (with a notice) a change to a locked region.
  refuseLocked(id) {
    if (!this.locked.has(id)) return false;
    if (this.onRefuse)
      this.onRefuse(`Region ${this.regions.findIndex((r) => r.id === id) + 1} is locked: unlock it first.`);
    return true;
  }

  // Deletes the selected region, or every unlocked region after Ctrl+A.
  removeSelected() {
    if (this.allSelected) {
      this.allSelected = false;
      this.change(() => {
        const gone = new Set(this.regions.filter((r) => !this.locked.has(r.id)).map((r) => r.id));
        this.regions = this.regions.filter((r) => !gone.has(r.id));
        this.relations = this.relations.filter((rel) => !gone.has(rel.from_id) && !gone.has(rel.to_id));
      });
    } else if (this.selectedId) {
      this.removeRegion(this.selectedId);
    } else if (this.relations[this.selectedRelation]) {
      const index = this.selectedRelation;
      this.selectedRelation = null;
      this.change(() => {
        this.relations.splice(index, 1);
      });
    }
  }

  selectRelation(index) {
    this.selectedRelation = this.relations[index] ? index : null;
    this.selectedId = null;
    this.allSelected = false;
    this.emit();
  }

  select(id) {
    if (this.linkFrom && id && id !== this.linkFrom) {
      const from = this.linkFrom;
      this.linkFrom = null;
      this.change(() => {
        this.relations.push({ from_id: from, to_id: id, type: "relation", direction: "right" });
      });
      return;
    }
    this.selectedId = id;
    this.selectedRelation = null;
    this.allSelected = false;
    this.emit();
  }

  // The perRegion controls that describe regions on an object.
  perRegionControls(objectName) {
    return Object.values(this.description.controls).filter((c) => c.per_region && c.to_names.includes(objectName));
  }

  // How many more times a label may be used (maxUsages on the label or its control).
  usesLeft(controlName, label) {
    const control = this.control(controlName);
    const walk = (items) => {
      for (const item of items || []) {
        if (item.value === label) return item;
        const found = walk(item.children);
        if (found) return found;
      }
      return null;
    };
    const item = control && walk(control.labels);
    const limit = item?.max_usages || control?.max_usages;
    if (!limit) return Infinity;
    return limit - this.regions.filter((r) => r.control === controlName && r.labels.includes(label)).length;
  }

  addRegion(region) {
    const spent = (region.labels || []).find((label) => this.usesLeft(region.control, label) <= 0);
    if (spent) {
      if (this.onRefuse) this.onRefuse(`“${spent}” is already used as often as this project allows.`);
      return null;
    }
    const full = { id: regionId(), labels: [], perRegion: {}, extra: {}, ...region };
    this.change(() => {
      this.regions.push(full);
      // A new region is selected when it has controls of its own, so they show at once.
      if (this.perRegionControls(full.to).length) this.selectedId = full.id;
    });
    return full;
  }

  updateRegion(id, patch, { record = true } = {}) {
    const region = this.region(id);
    if (!region || ((patch.value || patch.labels) && this.refuseLocked(id))) return;
    const apply = () => {
      if (patch.value) region.value = { ...region.value, ...patch.value };
      if (patch.labels) region.labels = patch.labels;
      if (patch.perRegion) region.perRegion = { ...region.perRegion, ...patch.perRegion };
    };
    if (record) this.change(apply);
    else {
      apply();
      this.emit();
    }
  }

  removeRegion(id) {
    if (this.refuseLocked(id)) return;
    this.change(() => {
      this.regions = this.regions.filter((r) => r.id !== id);
      this.relations = this.relations.filter((rel) => rel.from_id !== id && rel.to_id !== id);
      if (this.selectedId === id) this.selectedId = null;
    });
  }

  setClassification(controlName, value) {
    const control = this.control(controlName);
    this.change(() => {
      if (value === null) {
        delete this.classifications[controlName];
        return;
      }
      const old = this.classifications[controlName];
      this.classifications[controlName] = {
        id: old ? old.id : regionId(),
        to: control.to_names[0],
        value,
      };
    });
  }

  setPerRegion(regionIdValue, controlName, value) {
    const region = this.region(regionIdValue);
    if (!region) return;
    this.change(() => {
      if (value === null) delete region.perRegion[controlName];
      else region.perRegion[controlName] = value;
    });
  }

  // Sets or toggles the label used for new regions (and relabels the selected region).
  chooseLabel(controlName, value) {
    const control = this.control(controlName);
    const current = this.activeLabels[controlName] || [];
    let next;
    if (current.includes(value)) next = current.filter((v) => v !== value);
    else next = control.choice === "multiple" ? [...current, value] : [value];
    for (const name of Object.keys(this.activeLabels)) {
      if (name !== controlName && control.choice !== "multiple") this.activeLabels[name] = [];
    }
    this.activeLabels[controlName] = next;
    const region = this.selected();
    if (region && region.control === controlName && next.length) {
      this.updateRegion(region.id, { labels: [...next] });
      return;
    }
    this.emit();
  }

  // Returns {control, labels} of the active labels for an object, limited to some control tags.
  activeFor(objectName, tags) {
    for (const [name, labels] of Object.entries(this.activeLabels)) {
      const control = this.control(name);
      if (labels.length && control.to_names.includes(objectName) && tags.includes(control.tag)) {
        return { control, labels: [...labels] };
      }
    }
    return null;
  }

  labelColor(controlName, value) {
    const walk = (items) => {
      for (const item of items || []) {
        if (item.value === value) return item.background;
        const found = walk(item.children);
        if (found) return found;
      }
      return null;
    };
    const control = this.control(controlName);
    const own = control && walk(control.labels);
    if (own) return own;
    // Tools without labels of their own (VideoRectangle, Rectangle) take them from a Labels tag.
    for (const other of Object.values(this.description.controls)) {
      const found = control && other.to_names.some((n) => control.to_names.includes(n)) && walk(other.labels);
      if (found) return found;
    }
    return "#1677ff";
  }

  regionColor(region) {
    return region.labels.length ? this.labelColor(region.control, region.labels[0]) : "#1677ff";
  }

  // The key of a result item's value that holds its labels (from the server's table), or null.
  labelKey(type) {
    return this.description.label_value_keys[type] ?? null;
  }

  // Label Studio result items for everything in the state.
  result() {
    const items = [];
    for (const r of this.regions) {
      const key = this.labelKey(r.type);
      const value = { ...r.value };
      if (key) value[key] = [...r.labels];
      items.push({ id: r.id, from_name: r.control, to_name: r.to, type: r.type, value, ...r.extra });
      for (const [name, own] of Object.entries(r.perRegion)) {
        const control = this.control(name);
        items.push({
          id: r.id,
          from_name: name,
          to_name: r.to,
          type: control.result_type,
          value: { ...r.value, ...own },
          ...r.extra,
        });
      }
    }
    for (const [name, c] of Object.entries(this.classifications)) {
      const control = this.control(name);
      items.push({ id: c.id, from_name: name, to_name: c.to, type: control.result_type, value: c.value });
    }
    for (const rel of this.relations) items.push({ ...rel });
    return items;
  }

  // Loads Label Studio result items (an annotation's or a prediction's) into the state.
  load(result) {
    this.regions = [];
    this.classifications = {};
    this.relations = [];
    const byId = new Map();
    const later = [];
    for (const item of result || []) {
      if (item.type === "relation") {
        const rel = {
          from_id: item.from_id,
          to_id: item.to_id,
          type: "relation",
          direction: item.direction || "right",
        };
        if (item.labels?.length) rel.labels = [...item.labels];
        this.relations.push(rel);
        continue;
      }
      const control = this.control(item.from_name);
      if (!control) continue;
      if (REGION_TAGS.has(control.tag) && !byId.has(item.id)) {
        const key = this.labelKey(item.type);
        const value = { ...item.value };
        const labels = key && Array.isArray(value[key]) ? value[key] : [];
        if (key) delete value[key];
        const extra = {};
        for (const k of EXTRA_KEYS) if (k in item) extra[k] = item[k];
        const region = {
          id: item.id || regionId(),
          to: item.to_name,
          control: item.from_name,
          type: item.type,
          value,
          labels: [...labels],
          perRegion: {},
          extra,
        };
        byId.set(region.id, region);
        this.regions.push(region);
      } else {
        later.push([item, control]);
      }
    }
    for (const [item, control] of later) {
      const own = {};
      for (const k of VALUE_KEYS[control.result_type] || Object.keys(item.value)) {
        if (k in item.value) own[k] = item.value[k];
      }
      const region = byId.get(item.id);
      if (region && control.per_region) region.perRegion[item.from_name] = own;
      else this.classifications[item.from_name] = { id: item.id || regionId(), to: item.to_name, value: own };
    }
  }
}
