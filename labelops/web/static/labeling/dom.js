// Small DOM helpers shared by the tool modules.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(key, value);
  }
  return el;
}

// Looks a "$field" (or "$a.b") reference up in the task data; other strings get $vars replaced.
export function resolveValue(value, data) {
  if (typeof value !== "string") return value;
  const match = /^\$([A-Za-z_][\w.-]*)$/.exec(value);
  if (match) return lookup(data, match[1]);
  return value.replace(/\$([A-Za-z_]\w*)/g, (all, name) => {
    const found = lookup(data, name);
    return found === undefined ? all : String(found);
  });
}

function lookup(data, path) {
  if (data && path in data) return data[path];
  let cur = data;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object" || !(part in cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function attr(attrs, name, fallback = null) {
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key.toLowerCase() === lower) return value;
  }
  return fallback;
}

export function truthy(value) {
  return ["true", "1", "yes"].includes(String(value || "").toLowerCase());
}

// Code-point helpers: Python counts characters by code point, JS strings by UTF-16 unit.
export function codePointOffset(text, utf16Offset) {
  let cp = 0;
  for (let i = 0; i < utf16Offset && i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) i += 1;
    cp += 1;
  }
  return cp;
}

export function utf16Offset(text, cpOffset) {
  let i = 0;
  for (let cp = 0; cp < cpOffset && i < text.length; cp += 1) {
    const code = text.charCodeAt(i);
    i += code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

// UTF-16 offset of (node, offset) inside root's text content.
export function textOffsetIn(root, node, offset) {
  const range = document.createRange();
  range.setStart(root, 0);
  range.setEnd(node, offset);
  return range.toString().length;
}

// The text node and offset at a UTF-16 offset of root's text content.
export function pointAt(root, offset) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let left = offset;
  let node = walker.nextNode();
  let last = null;
  while (node) {
    if (left <= node.data.length) return { node, offset: left };
    left -= node.data.length;
    last = node;
    node = walker.nextNode();
  }
  return last ? { node: last, offset: last.data.length } : null;
}

export function round(value, digits = 4) {
  const k = 10 ** digits;
  return Math.round(value * k) / k;
}

export function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}
