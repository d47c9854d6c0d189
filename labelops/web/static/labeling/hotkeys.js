// Keyboard shortcuts: label/choice hotkeys from the config, plus undo/redo, delete and submit.

export function isTyping(target) {
  if (!target) return false;
  const tag = target.tagName;
  return (
    target.isContentEditable ||
    tag === "TEXTAREA" ||
    tag === "SELECT" ||
    (tag === "INPUT" && !["checkbox", "radio", "button"].includes(target.type))
  );
}

// Returns a normalized key name for a keyboard event, e.g. "ctrl+shift+z" or "1".
export function keyName(event) {
  const parts = [];
  if (event.ctrlKey || event.metaKey) parts.push("ctrl");
  if (event.altKey) parts.push("alt");
  if (event.shiftKey && event.key.length > 1) parts.push("shift");
  if (event.shiftKey && event.key.length === 1 && (event.ctrlKey || event.metaKey)) parts.push("shift");
  parts.push(event.key.length === 1 ? event.key.toLowerCase() : event.key.toLowerCase());
  return parts.join("+");
}

export class Hotkeys {
  constructor() {
    this.keys = new Map();
    this.listener = (event) => this.handle(event);
  }

  add(key, action, { whileTyping = false, description = null } = {}) {
    if (!key) return;
    this.keys.set(key.toLowerCase().replace(/\s+/g, ""), { action, whileTyping, description });
  }

  // [key, description] of every described key, in the order they were added.
  described() {
    return [...this.keys].filter(([, entry]) => entry.description).map(([key, entry]) => [key, entry.description]);
  }

  handle(event) {
    const name = keyName(event);
    const entry = this.keys.get(name);
    if (!entry) return;
    if (isTyping(event.target) && !entry.whileTyping) return;
    event.preventDefault();
    entry.action(event);
  }

  attach(target = document) {
    this.target = target;
    target.addEventListener("keydown", this.listener);
  }

  detach() {
    if (this.target) this.target.removeEventListener("keydown", this.listener);
  }
}
