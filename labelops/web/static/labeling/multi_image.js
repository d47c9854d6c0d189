// Image with valueList: several images in one task, one shown at a time with a page switcher.
// Each image gets its own image view over the same store, seeing and making only the regions of
// its item: a region carries the image's position in the list as `item_index`, as Label Studio
// stores it. An Image with a single value is the plain image view.
import { attr, h, resolveValue } from "./dom.js";
import { mountImage } from "./image.js";

// The URLs of a valueList: strings, or objects with a url/value/src field.
function urls(list) {
  return list.map((item) =>
    typeof item === "string" ? item : item && (item.url || item.value || item.src || item.image),
  );
}

// The store as one item's view sees it: that item's regions only, new regions tagged with it.
function storeForItem(store, objectName, index) {
  const own = (region) => region.to !== objectName || (region.extra?.item_index ?? 0) === index;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "regionsOf") return (name) => target.regionsOf(name).filter(own);
      if (prop === "addRegion")
        return (region) => target.addRegion({ ...region, extra: { ...(region.extra || {}), item_index: index } });
      const value = target[prop];
      return typeof value === "function" ? value.bind(target) : value;
    },
    set(target, prop, value) {
      target[prop] = value;
      return true;
    },
  });
}

export async function mountImageObject(ctx, node, obj) {
  const list = attr(obj.attrs, "valueList") ? resolveValue(attr(obj.attrs, "valueList"), ctx.data) : null;
  if (!Array.isArray(list)) return mountImage(ctx, node, obj);
  const items = urls(list);
  const { store } = ctx;
  let current = 0;
  // A region selected elsewhere (the region list) brings its image into view, before the views
  // redraw.
  ctx.onRedraw(() => {
    const region = store.selected();
    const index = region?.to === obj.name ? (region.extra?.item_index ?? 0) : current;
    if (index !== current && index < items.length) show(index);
  });
  // Each view redraws only while it is on show (a hidden one has no size to draw at), and once
  // more when it comes into view.
  const redraws = items.map(() => []);
  const views = [];
  for (const [index, url] of items.entries()) {
    const onRedraw = (fn) => {
      redraws[index].push(fn);
      ctx.onRedraw(() => {
        if (index === current) fn();
      });
    };
    const itemCtx = { ...ctx, store: storeForItem(store, obj.name, index), onRedraw };
    const view = await mountImage(itemCtx, node, { ...obj, value: url });
    view.dataset.itemIndex = String(index);
    views.push(view);
  }
  const position = h("span", { class: "lo-pages-position", "aria-live": "polite" });
  const button = (label, title, step) =>
    h(
      "button",
      { type: "button", class: "lo-small", title, "aria-label": title, onclick: () => show(current + step) },
      label,
    );
  const prev = button("‹ Prev", "Previous image", -1);
  const next = button("Next ›", "Next image", 1);
  const el = h(
    "div",
    { class: "lo-multi-image", "data-object": obj.name },
    h("div", { class: "lo-pages" }, prev, position, next),
    ...views,
  );
  const show = (index) => {
    current = Math.max(0, Math.min(items.length - 1, index));
    views.forEach((view, i) => {
      view.hidden = i !== current;
    });
    position.textContent = `Image ${current + 1} of ${items.length}`;
    prev.disabled = current === 0;
    next.disabled = current === items.length - 1;
    el.dataset.item = String(current);
    const shown = current;
    requestAnimationFrame(() => {
      for (const fn of redraws[shown]) fn();
    });
  };
  show(0);
  return el;
}
