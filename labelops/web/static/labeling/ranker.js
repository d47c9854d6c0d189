// List + Ranker (+ Bucket): order the list's items, or sort them into buckets, by drag and drop
// or with the move buttons. Label Studio's result is {"type": "ranker", "value": {"ranker":
// {<column>: [item ids in order]}}}: without buckets the one column is the Ranker's name; with
// buckets each bucket is a column, plus "_" for the list itself unless a bucket is the default.
import { attr, h, resolveValue, truthy } from "./dom.js";

function listItems(ctx, obj) {
  const raw = obj ? resolveValue(obj.value, ctx.data) : null;
  if (!Array.isArray(raw)) return [];
  return raw.map((item, i) => {
    const o = item && typeof item === "object" ? item : { title: String(item ?? "") };
    return { id: String(o.id ?? i), title: String(o.title ?? o.id ?? ""), body: o.body == null ? "" : String(o.body) };
  });
}

function itemCard(item) {
  return [
    h("span", { class: "lo-rank-title" }, item.title),
    item.body ? h("span", { class: "lo-rank-body" }, item.body) : null,
  ];
}

// The List object on its own (no Ranker connected): the items, read-only.
export function mountList(ctx, _node, obj) {
  const el = h("div", { class: "lo-list", "data-object": obj.name });
  const title = attr(obj.attrs, "title");
  if (title) el.append(h("h4", { class: "lo-rank-heading" }, title));
  el.append(
    h(
      "ol",
      { class: "lo-rank-items" },
      listItems(ctx, obj).map((item) =>
        h("li", { class: "lo-rank-item" }, h("span", { class: "lo-rank-text" }, itemCard(item))),
      ),
    ),
  );
  return el;
}

export function mountRanker(ctx, node, control) {
  const { store } = ctx;
  const listName = control.to_names[0];
  const obj = ctx.description.objects[listName];
  const items = listItems(ctx, obj);
  const byId = new Map(items.map((item) => [item.id, item]));
  const listTitle = (obj && attr(obj.attrs, "title")) || "Items";
  const buckets = (node.children || [])
    .filter((c) => c.tag === "Bucket")
    .map((c) => ({
      key: attr(c.attrs, "name"),
      title: attr(c.attrs, "title") || attr(c.attrs, "name"),
      isDefault: truthy(attr(c.attrs, "default")),
    }))
    .filter((b) => b.key);
  const fallback = buckets.find((b) => b.isDefault);
  let columns;
  if (!buckets.length) columns = [{ key: control.name, title: listTitle }];
  else columns = [...(fallback ? [] : [{ key: "_", title: listTitle }]), ...buckets];
  const home = fallback ? fallback.key : columns[0].key;

  // The columns' item ids: the stored value, with items it does not mention in the home column.
  const state = () => {
    const c = store.classifications[control.name];
    const stored = c?.value.ranker || {};
    const seen = new Set();
    const out = {};
    for (const col of columns) {
      out[col.key] = (Array.isArray(stored[col.key]) ? stored[col.key] : [])
        .map(String)
        .filter((id) => byId.has(id) && !seen.has(id) && seen.add(id));
    }
    for (const item of items) if (!seen.has(item.id)) out[home].push(item.id);
    return out;
  };

  const move = (id, toKey, toIndex) => {
    if (ctx.readOnly) return;
    const cur = state();
    const next = {};
    for (const [key, ids] of Object.entries(cur)) next[key] = ids.filter((x) => x !== id);
    const target = next[toKey];
    target.splice(Math.max(0, Math.min(toIndex, target.length)), 0, id);
    if (JSON.stringify(next) === JSON.stringify(cur)) return;
    store.setClassification(control.name, { ranker: next });
  };

  const board = h("div", {
    class: `lo-ranker${columns.length > 1 ? " with-buckets" : ""}`,
    "data-control": control.name,
    "data-object": listName,
  });
  let dragId = null;
  let refocus = null;

  const button = (label, action, id, disabled, onclick) =>
    h(
      "button",
      {
        type: "button",
        class: "lo-icon",
        title: label,
        "aria-label": label,
        "data-action": action,
        disabled: ctx.readOnly || disabled,
        onclick: () => {
          refocus = { id, action };
          onclick();
        },
      },
      { up: "↑", down: "↓", prev: "←", next: "→" }[action],
    );

  const dropIndex = (list, y) => {
    const rows = [...list.children].filter((li) => li.dataset.item && li.dataset.item !== dragId);
    const at = rows.findIndex((li) => {
      const r = li.getBoundingClientRect();
      return y < r.top + r.height / 2;
    });
    return at < 0 ? rows.length : at;
  };

  const redraw = () => {
    const cur = state();
    board.replaceChildren(
      ...columns.map((col, c) => {
        const ids = cur[col.key];
        const list = h("ol", { class: "lo-rank-items", "aria-label": col.title });
        list.append(
          ...ids.map((id, i) => {
            const item = byId.get(id);
            const li = h(
              "li",
              {
                class: "lo-rank-item",
                "data-item": id,
                draggable: ctx.readOnly ? null : "true",
                ondragstart: (event) => {
                  dragId = id;
                  event.dataTransfer.effectAllowed = "move";
                  event.dataTransfer.setData("text/plain", id);
                  li.classList.add("dragging");
                },
                ondragend: () => {
                  dragId = null;
                  li.classList.remove("dragging");
                },
              },
              h("span", { class: "lo-rank-grip", "aria-hidden": "true" }, "⋮⋮"),
              h("span", { class: "lo-rank-text" }, itemCard(item)),
              ctx.readOnly
                ? null
                : h(
                    "span",
                    { class: "lo-rank-actions" },
                    button(`Move ${item.title} up`, "up", id, i === 0, () => move(id, col.key, i - 1)),
                    button(`Move ${item.title} down`, "down", id, i === ids.length - 1, () => move(id, col.key, i + 1)),
                    columns.length > 1 && c > 0
                      ? button(`Move ${item.title} to ${columns[c - 1].title}`, "prev", id, false, () =>
                          move(id, columns[c - 1].key, cur[columns[c - 1].key].length),
                        )
                      : null,
                    columns.length > 1 && c < columns.length - 1
                      ? button(`Move ${item.title} to ${columns[c + 1].title}`, "next", id, false, () =>
                          move(id, columns[c + 1].key, cur[columns[c + 1].key].length),
                        )
                      : null,
                  ),
            );
            return li;
          }),
        );
        if (!ids.length) list.append(h("li", { class: "lo-empty" }, ctx.readOnly ? "Empty." : "Drop items here."));
        const column = h(
          "section",
          {
            class: "lo-rank-column",
            "data-column": col.key,
            ondragover: (event) => {
              if (!dragId) return;
              event.preventDefault();
              event.dataTransfer.dropEffect = "move";
              column.classList.add("drop-target");
            },
            ondragleave: (event) => {
              if (!column.contains(event.relatedTarget)) column.classList.remove("drop-target");
            },
            ondrop: (event) => {
              event.preventDefault();
              column.classList.remove("drop-target");
              const id = dragId || event.dataTransfer.getData("text/plain");
              dragId = null;
              if (byId.has(id)) move(id, col.key, dropIndex(list, event.clientY));
            },
          },
          h("h4", { class: "lo-rank-heading" }, col.title, h("span", { class: "lo-rank-count" }, String(ids.length))),
          list,
        );
        return column;
      }),
    );
    if (refocus) {
      const row = board.querySelector(`[data-item="${CSS.escape(refocus.id)}"]`);
      const target =
        row &&
        (row.querySelector(`[data-action=${refocus.action}]:not(:disabled)`) ||
          row.querySelector("button:not(:disabled)"));
      if (target) target.focus();
      refocus = null;
    }
  };

  // After the whole layout is mounted the board takes the List's place.
  let placed = false;
  ctx.onRedraw(() => {
    if (!placed) {
      placed = true;
      const host = ctx.objectEls[listName];
      if (host?.parentNode) host.replaceWith(board);
    }
    redraw();
  });
  return board;
}
