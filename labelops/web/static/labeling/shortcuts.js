// The keyboard-shortcut help: "?" opens a dialog listing every key the interface answers to.
import { h } from "./dom.js";

// How a key name reads on screen: "ctrl+shift+z" -> "Ctrl+Shift+Z".
export function keyLabel(key) {
  const names = { arrowleft: "←", arrowright: "→", arrowup: "↑", arrowdown: "↓", " ": "Space" };
  return key
    .split("+")
    .map((part) => names[part] || (part.length === 1 ? part.toUpperCase() : part[0].toUpperCase() + part.slice(1)))
    .join("+");
}

// Returns the dialog and a toggle; `entries()` gives [key, description] pairs when it opens.
export function shortcutHelp(entries) {
  const list = h("dl", { class: "lo-help-list" });
  const close = h("button", { type: "button", class: "lo-icon", "aria-label": "Close" }, "×");
  const dialog = h(
    "dialog",
    { class: "lo-help", "aria-labelledby": "lo-help-title" },
    h("div", { class: "lo-help-head" }, h("h2", { id: "lo-help-title" }, "Keyboard shortcuts"), close),
    list,
  );
  close.addEventListener("click", () => dialog.close());
  const open = () => {
    list.replaceChildren(
      ...entries().flatMap(([key, text]) => [
        h("dt", {}, h("kbd", { class: "lo-kbd" }, keyLabel(key))),
        h("dd", {}, text),
      ]),
    );
    dialog.showModal();
  };
  return { dialog, toggle: () => (dialog.open ? dialog.close() : open()) };
}
