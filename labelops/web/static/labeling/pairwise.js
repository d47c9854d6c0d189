// Pairwise: two objects side by side; the annotator picks one. Label Studio's result is
// {"type": "pairwise", "to_name": <first object>, "value": {"selected": "left" | "right"}}.
import { h } from "./dom.js";

const SIDES = ["left", "right"];

export function mountPairwise(ctx, _node, control) {
  const { store } = ctx;
  const board = h("div", {
    class: "lo-pairwise",
    "data-control": control.name,
    role: "radiogroup",
    "aria-label": "Pick the better of the two",
  });
  const current = () => {
    const c = store.classifications[control.name];
    return c ? c.value.selected : null;
  };
  const choose = (side) => {
    if (ctx.readOnly || current() === side) return;
    store.setClassification(control.name, { selected: side });
  };
  const panes = SIDES.map((side, i) => {
    const pick = h(
      "button",
      {
        type: "button",
        class: "lo-pairwise-pick",
        disabled: ctx.readOnly,
        onclick: () => choose(side),
      },
      h("span", { class: "lo-kbd" }, String(i + 1)),
      ` ${side === "left" ? "Left" : "Right"}`,
    );
    const body = h("div", { class: "lo-pairwise-body" });
    const pane = h(
      "div",
      {
        class: "lo-pairwise-pane",
        "data-side": side,
        role: "radio",
        "aria-checked": "false",
        "aria-label": `${side === "left" ? "Left" : "Right"} item`,
        onclick: (event) => {
          const sel = window.getSelection();
          if (event.target.closest("button, a, input, select, textarea")) return;
          if (sel && !sel.isCollapsed) return;
          choose(side);
        },
      },
      pick,
      body,
    );
    return { side, pane, body };
  });
  board.append(...panes.map((p) => p.pane));

  // After the whole layout is mounted: move the two objects into the panes, where the first was.
  let placed = false;
  const place = () => {
    placed = true;
    const names = control.to_names.slice(0, 2);
    const els = names.map((name) => ctx.objectEls[name]).filter(Boolean);
    if (els.length === 2 && els[0].parentNode) els[0].parentNode.insertBefore(board, els[0]);
    for (const [i, el] of els.entries()) panes[i].body.append(el);
    if (names.length < 2)
      board.prepend(
        h(
          "div",
          { class: "lo-unsupported", role: "alert" },
          `<Pairwise name="${control.name}"> needs two objects in toName.`,
        ),
      );
    ctx.addHotkey("1", () => choose("left"), "Choose the left side");
    ctx.addHotkey("2", () => choose("right"), "Choose the right side");
    ctx.addHotkey("arrowleft", () => choose("left"), "Choose the left side");
    ctx.addHotkey("arrowright", () => choose("right"), "Choose the right side");
  };
  ctx.onRedraw(() => {
    if (!placed) place();
    const selected = current();
    for (const { side, pane } of panes) {
      pane.classList.toggle("selected", side === selected);
      pane.setAttribute("aria-checked", String(side === selected));
    }
  });
  return board;
}
