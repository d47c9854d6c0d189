// Chat: a conversation from the task data (a list of {role, content}) that the annotator extends.
// Each added message is a region stored as Label Studio does:
//   {type: "chatmessage", from_name: chat, to_name: chat, value: {chatmessage: {role, content, createdAt}}}
// Clicking an added message selects it, so perRegion controls (ratings, choices, comments) describe
// it. Messages from the task data are shown only: they are not results and cannot be edited.
// Every text is put in the page as text, never as markup.
import { attr, h, resolveValue, truthy } from "./dom.js";

const ROLES = ["user", "assistant", "system", "tool", "developer"];

// Comma-separated roles of an attribute, limited to the roles Label Studio knows.
function roleList(value) {
  return String(value || "")
    .split(",")
    .map((role) => role.trim())
    .filter((role) => ROLES.includes(role));
}

// minMessages / maxMessages: a number, or a $field of the task data.
function limit(ctx, value) {
  if (value === null || value === undefined || value === "") return null;
  const resolved = Number(resolveValue(String(value).trim(), ctx.data));
  return Number.isInteger(resolved) && resolved >= 0 ? resolved : null;
}

function editableRoles(value) {
  if (value === null || value === undefined) return [];
  if (truthy(value)) return ROLES;
  if (["false", "0", "no", ""].includes(String(value).trim().toLowerCase())) return [];
  return roleList(value);
}

function messageView(role, content, extra = {}) {
  return h(
    "li",
    { class: `lo-chat-message lo-chat-${ROLES.includes(role) ? role : "other"}`, "data-role": role, ...extra },
    h("div", { class: "lo-chat-role" }, role || "message"),
    h("div", { class: "lo-chat-content" }, content),
  );
}

export function mountChat(ctx, _node, obj) {
  const { store } = ctx;
  const raw = resolveValue(obj.value, ctx.data);
  const given = Array.isArray(raw) ? raw : [];
  const roles = roleList(attr(obj.attrs, "messageroles")).length
    ? roleList(attr(obj.attrs, "messageroles"))
    : ["user", "assistant"];
  const editable = editableRoles(attr(obj.attrs, "editable"));
  const min = limit(ctx, attr(obj.attrs, "minMessages"));
  const max = limit(ctx, attr(obj.attrs, "maxMessages"));

  const el = h("div", { class: "lo-chat htx-chat", "data-object": obj.name });
  const list = h("ol", { class: "lo-chat-messages", "aria-label": "Conversation" });
  for (const item of given) {
    const role = typeof item?.role === "string" ? item.role : "";
    const content = item?.content ?? item?.text ?? "";
    list.append(
      messageView(role, typeof content === "string" ? content : JSON.stringify(content), { "data-source": "task" }),
    );
  }
  const added = h("div", { class: "lo-chat-added", role: "presentation" });
  const counter = h("p", { class: "lo-chat-counter", role: "status" });
  el.append(list, added, counter);

  // The message being edited, and the text typed so far (kept across redraws).
  let editing = null;
  let draft = "";

  const ownMessages = () =>
    store
      .regionsOf(obj.name)
      .filter((r) => r.type === "chatmessage")
      .sort((a, b) => (a.value.chatmessage?.createdAt ?? 0) - (b.value.chatmessage?.createdAt ?? 0));

  const saveEdit = (region) => {
    const message = region.value.chatmessage || {};
    editing = null;
    if (draft !== message.content) {
      store.updateRegion(region.id, { value: { chatmessage: { ...message, content: draft } } });
    } else store.emit();
  };

  const addedView = (region) => {
    const message = region.value.chatmessage || {};
    const content = typeof message.content === "string" ? message.content : "";
    const li = messageView(message.role, content, {
      class: `lo-chat-message lo-chat-${ROLES.includes(message.role) ? message.role : "other"} is-added${
        store.isSelected(region.id) ? " selected" : ""
      }`,
      "data-region": region.id,
      tabindex: "0",
      title: "Click to evaluate this message",
    });
    li.addEventListener("click", (event) => {
      if (!event.target.closest("button, textarea")) store.select(region.id);
    });
    li.addEventListener("keydown", (event) => {
      if ((event.key === "Enter" || event.key === " ") && event.target === li) {
        event.preventDefault();
        store.select(region.id);
      }
    });
    if (ctx.readOnly) return li;
    const actions = h("div", { class: "lo-chat-actions" });
    if (editing === region.id) {
      const box = h("textarea", { class: "lo-chat-edit", rows: 3, "aria-label": "Edit message" });
      box.value = draft;
      box.addEventListener("input", () => {
        draft = box.value;
      });
      li.querySelector(".lo-chat-content").replaceChildren(box);
      actions.append(
        h("button", { type: "button", class: "lo-btn", onclick: () => saveEdit(region) }, "Save"),
        h(
          "button",
          {
            type: "button",
            class: "lo-btn",
            onclick: () => {
              editing = null;
              store.emit();
            },
          },
          "Cancel",
        ),
      );
      queueMicrotask(() => box.focus());
    } else if (editable.includes(message.role)) {
      actions.append(
        h(
          "button",
          {
            type: "button",
            class: "lo-icon",
            "aria-label": "Edit message",
            title: "Edit message",
            onclick: () => {
              editing = region.id;
              draft = content;
              store.emit();
            },
          },
          "Edit",
        ),
      );
    }
    actions.append(
      h(
        "button",
        {
          type: "button",
          class: "lo-icon",
          "aria-label": "Delete message",
          title: "Delete message",
          onclick: () => store.removeRegion(region.id),
        },
        "Delete",
      ),
    );
    li.append(actions);
    return li;
  };

  // The composer: who speaks, what they say, Send (Enter sends, Shift+Enter breaks the line).
  const roleSelect = h(
    "select",
    { class: "lo-chat-role-select", "aria-label": "Send as" },
    roles.map((role) => h("option", { value: role }, role)),
  );
  const input = h("textarea", {
    class: "lo-chat-input",
    rows: 2,
    "aria-label": "New message",
    placeholder: "Type a message",
  });
  const send = h("button", { type: "button", class: "lo-btn lo-chat-send" }, "Send");
  const total = () => given.length + ownMessages().length;
  const sendMessage = () => {
    const content = input.value;
    if (!content.trim()) {
      ctx.notify("Type a message first.");
      return;
    }
    if (max !== null && total() >= max) {
      ctx.notify(`This conversation holds at most ${max} messages.`);
      return;
    }
    const role = roleSelect.value;
    input.value = "";
    store.addRegion({
      to: obj.name,
      control: obj.name,
      type: "chatmessage",
      value: { chatmessage: { role, content, createdAt: Date.now() } },
      labels: [],
    });
    // The next turn is usually the other side's.
    const next = roles[(roles.indexOf(role) + 1) % roles.length];
    roleSelect.value = next;
  };
  send.addEventListener("click", sendMessage);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      sendMessage();
    }
  });
  if (!ctx.readOnly) {
    const composer = h("div", { class: "lo-chat-composer" }, roleSelect, input, send);
    if (roles.length === 1) roleSelect.hidden = true;
    el.append(composer);
  }

  const redraw = () => {
    added.replaceChildren(h("ol", { class: "lo-chat-messages" }, ownMessages().map(addedView)));
    const count = total();
    const parts = [`${count} message${count === 1 ? "" : "s"}`];
    if (min !== null) parts.push(`at least ${min}`);
    if (max !== null) parts.push(`at most ${max}`);
    counter.textContent = parts.join(" · ");
    const full = max !== null && count >= max;
    send.disabled = full;
    input.disabled = full;
  };
  ctx.onRedraw(redraw);
  redraw();
  return el;
}
