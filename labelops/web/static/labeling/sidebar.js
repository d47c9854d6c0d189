// The region outliner beside the data: every region with its label, what it covers and its
// actions (play, link, hide, lock, delete), optionally grouped by label; and the relations list.
import { h } from "./dom.js";
import { REGION_TAGS } from "./store.js";

function describe(region) {
  const v = region.value;
  if (region.type === "chatmessage") {
    const text = String(v.chatmessage?.content ?? "");
    return `${v.chatmessage?.role}: “${text.length > 40 ? `${text.slice(0, 40)}…` : text}”`;
  }
  if (typeof v.text === "string") return `“${v.text.length > 40 ? `${v.text.slice(0, 40)}…` : v.text}”`;
  if (region.type.startsWith("rectangle") || region.type === "ocrlabels")
    return `box ${v.width.toFixed(1)}×${v.height.toFixed(1)}%`;
  if (region.type.startsWith("polygon")) return `polygon, ${v.points.length} points`;
  if (region.type.startsWith("keypoint")) return `point ${v.x.toFixed(1)}, ${v.y.toFixed(1)}%`;
  if (region.type.startsWith("ellipse")) return "ellipse";
  if (region.type.startsWith("brush")) return "mask";
  if (region.type === "videorectangle")
    return `box, ${v.sequence.length} keyframe${v.sequence.length === 1 ? "" : "s"}`;
  if (region.type === "timelinelabels") return v.ranges.map((r) => `frames ${r.start}–${r.end}`).join(", ");
  if (v.instant) return `at ${v.start}`;
  if (typeof v.start === "number") return `${v.start.toFixed(2)}–${v.end.toFixed(2)}`;
  if (v.start !== undefined) return `${v.start}–${v.end}`;
  return region.type;
}

export function mountSidebar(ctx, side) {
  const { store } = ctx;
  const regionList = h("ol", { class: "lo-region-list" });
  const relationList = h("ol", { class: "lo-relation-list" });
  const relationsControl = Object.values(store.description.controls).find((c) => c.tag === "Relations");
  const hasRegions = Object.values(store.description.controls).some((c) => REGION_TAGS.has(c.tag));
  side.hidden = !hasRegions;
  const linkHint = h("p", { class: "lo-link-hint", hidden: true }, "Click the region to link to (Esc cancels).");
  let byLabel = false;
  const groupToggle = h("input", {
    type: "checkbox",
    onchange: (event) => {
      byLabel = event.target.checked;
      store.emit();
    },
  });
  const icon = (title, text, onclick, pressed = null) =>
    h(
      "button",
      { type: "button", class: "lo-icon", title, "aria-label": title, "aria-pressed": pressed, onclick },
      text,
    );
  const tools = h(
    "div",
    { class: "lo-region-tools" },
    h("label", { class: "lo-group-toggle" }, groupToggle, " By label"),
    ctx.readOnly ? null : icon("Select all regions (Ctrl+A)", "Select all", () => store.selectAll()),
    icon("Show or hide all regions", "Hide all", () =>
      store.setHidden(allHidden ? [] : store.regions.map((r) => r.id)),
    ),
  );
  const hideAll = tools.lastChild;
  let allHidden = false;
  side.append(h("h4", {}, "Regions"), tools, regionList, linkHint);
  if (relationsControl) side.append(h("h4", {}, "Relations"), relationList);
  const index = (id) => store.regions.findIndex((r) => r.id === id) + 1;

  const row = (region) => {
    const actions = ctx.objectActions[region.to] ? ctx.objectActions[region.to](region) : [];
    const hidden = store.hidden.has(region.id);
    const locked = store.locked.has(region.id);
    const li = h(
      "li",
      {
        class: `lo-region${store.isSelected(region.id) ? " selected" : ""}${hidden ? " is-hidden" : ""}`,
        "data-region": region.id,
        // On press, not click: the list redraws when a focused per-region box commits on blur.
        onpointerdown: (event) => {
          if (!event.target.closest("button")) store.select(region.id);
        },
      },
      h("span", { class: "lo-region-index" }, `${index(region.id)}`),
      h("span", { class: "lo-swatch" }),
      h("span", { class: "lo-region-labels" }, region.labels.join(", ") || "(no label)"),
      h("span", { class: "lo-region-desc" }, describe(region)),
      h(
        "span",
        { class: "lo-region-actions" },
        ...actions,
        relationsControl && !ctx.readOnly
          ? icon("Create relation", "⇢", () => {
              store.linkFrom = region.id;
              store.selectedId = region.id;
              store.emit();
            })
          : null,
        icon(hidden ? "Show region" : "Hide region", hidden ? "◌" : "◉", () => store.toggleHidden(region.id), hidden),
        ctx.readOnly
          ? null
          : icon(
              locked ? "Unlock region" : "Lock region",
              locked ? "🔒" : "🔓",
              () => store.toggleLocked(region.id),
              locked,
            ),
        ctx.readOnly || locked ? null : icon("Delete region", "×", () => store.removeRegion(region.id)),
      ),
    );
    li.style.setProperty("--label-color", store.regionColor(region));
    return li;
  };

  // Regions in the order they were made, or under one heading per label.
  const groups = () => {
    const byName = new Map();
    for (const region of store.regions) {
      const name = region.labels.join(", ") || "(no label)";
      if (!byName.has(name)) byName.set(name, []);
      byName.get(name).push(region);
    }
    return [...byName].flatMap(([name, regions]) => {
      const heading = h(
        "li",
        { class: "lo-region-group", "data-label": name },
        h("span", { class: "lo-swatch" }),
        h("span", {}, name),
        h("span", { class: "lo-region-count" }, String(regions.length)),
      );
      heading.style.setProperty("--label-color", store.regionColor(regions[0]));
      return [heading, ...regions.map(row)];
    });
  };

  ctx.onRedraw(() => {
    linkHint.hidden = !store.linkFrom;
    allHidden = store.regions.length > 0 && store.regions.every((r) => store.hidden.has(r.id));
    hideAll.textContent = allHidden ? "Show all" : "Hide all";
    if (!store.regions.length) {
      regionList.replaceChildren(
        h(
          "li",
          { class: "lo-empty" },
          ctx.readOnly ? "No regions." : "No regions yet: pick a label, then mark the data.",
        ),
      );
    } else {
      regionList.replaceChildren(...(byLabel ? groups() : store.regions.map(row)));
    }
    if (!relationsControl) return;
    relationList.replaceChildren(
      ...store.relations.map((rel, i) => {
        const arrow = { right: "→", left: "←", bi: "↔" }[rel.direction] || "→";
        const labels = relationsControl.labels || [];
        const select = labels.length
          ? h(
              "select",
              {
                "aria-label": "Relation label",
                disabled: ctx.readOnly,
                onchange: (event) =>
                  store.change(() => {
                    const chosen = event.target.value;
                    if (chosen) store.relations[i].labels = [chosen];
                    else delete store.relations[i].labels;
                  }),
              },
              h("option", { value: "" }, "—"),
              ...labels.map((l) =>
                h(
                  "option",
                  {
                    value: l.value,
                    selected: (rel.labels || []).includes(l.value),
                  },
                  l.alias || l.value,
                ),
              ),
            )
          : null;
        return h(
          "li",
          { class: `lo-relation${store.selectedRelation === i ? " selected" : ""}`, "data-relation": i },
          h("span", {}, `${index(rel.from_id)} `),
          h(
            "button",
            {
              type: "button",
              class: "lo-icon",
              title: "Change direction",
              disabled: ctx.readOnly,
              onclick: () =>
                store.change(() => {
                  const next = { right: "left", left: "bi", bi: "right" };
                  store.relations[i].direction = next[rel.direction] || "right";
                }),
            },
            arrow,
          ),
          h("span", {}, ` ${index(rel.to_id)}`),
          select,
          ctx.readOnly
            ? null
            : h(
                "button",
                {
                  type: "button",
                  class: "lo-icon",
                  title: "Delete relation",
                  "aria-label": "Delete relation",
                  onclick: () =>
                    store.change(() => {
                      store.relations.splice(i, 1);
                    }),
                },
                "×",
              ),
        );
      }),
    );
  });
}
