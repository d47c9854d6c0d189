// Comments on one annotation (Label Studio's `/api/comments`): the list, a box to add one, and
// a button to resolve or reopen each. Used on the labeling page (remarks on the annotator's own
// annotation) and on the review page (a reviewer's remarks on each annotation).
//
//   mountComments(anchor, annotationId, { placement: "append" | "before" })
//
// The server decides who may resolve; a refusal is shown in the panel.
import { fetchJSON } from "../js/http.js";
import { h } from "./dom.js";

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

export function mountComments(anchor, annotationId, { placement = "append" } = {}) {
  const list = h("ul", { class: "lo-comment-list" });
  const count = h("span", { class: "lo-comment-count muted small" });
  const error = h("p", { class: "lo-comments-error", role: "alert", hidden: true });
  const input = h("textarea", {
    rows: 2,
    "aria-label": "New comment",
    placeholder: "Add a comment (Ctrl+Enter sends it)",
  });
  const send = h("button", { type: "submit", class: "lo-btn" }, "Comment");
  const form = h("form", { class: "lo-comment-form" }, input, send);
  const panel = h(
    "section",
    { class: "lo-comments", "data-comments-for": annotationId, "aria-label": "Comments" },
    h("h3", {}, "Comments ", count),
    list,
    form,
    error,
  );
  if (placement === "before") anchor.before(panel);
  else anchor.append(panel);

  let comments = [];
  const fail = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };

  const row = (comment) => {
    const toggle = h(
      "button",
      { type: "button", class: "lo-small", "data-comment-resolve": comment.id },
      comment.is_resolved ? "Reopen" : "Resolve",
    );
    toggle.addEventListener("click", () => resolve(comment, !comment.is_resolved));
    return h(
      "li",
      {
        class: comment.is_resolved ? "lo-comment resolved" : "lo-comment",
        "data-comment-id": comment.id,
      },
      h(
        "div",
        { class: "lo-comment-meta small" },
        h("strong", {}, comment.created_username || `user ${comment.created_by}`),
        ` · ${when(comment.created_at)}`,
        comment.is_resolved ? " · resolved" : "",
      ),
      h("p", { class: "lo-comment-text" }, comment.text),
      toggle,
    );
  };

  const draw = () => {
    const open = comments.filter((c) => !c.is_resolved).length;
    count.textContent = comments.length ? `(${open} open of ${comments.length})` : "(none yet)";
    list.replaceChildren(...comments.map(row));
  };

  async function load() {
    try {
      comments = await fetchJSON("GET", `/api/comments?annotation=${annotationId}`);
      fail("");
    } catch (err) {
      fail(`Comments could not be loaded: ${err.message}`);
    }
    draw();
    panel.dataset.loaded = "true";
  }

  async function resolve(comment, isResolved) {
    try {
      const updated = await fetchJSON("PATCH", `/api/comments/${comment.id}`, { is_resolved: isResolved });
      comments = comments.map((c) => (c.id === updated.id ? updated : c));
      fail("");
      draw();
    } catch (err) {
      fail(`Not changed: ${err.message}`);
    }
  }

  async function add() {
    const text = input.value.trim();
    if (!text) {
      fail("Write the comment first.");
      return;
    }
    send.disabled = true;
    try {
      const made = await fetchJSON("POST", "/api/comments", { annotation: annotationId, text });
      comments = [...comments, made];
      input.value = "";
      fail("");
      draw();
    } catch (err) {
      fail(`Not sent: ${err.message}`);
    } finally {
      send.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    add();
  });
  // Keys typed here are the comment's, not the labeling page's shortcuts.
  input.addEventListener("keydown", (event) => {
    event.stopPropagation();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      add();
    }
  });

  load();
  return { panel, reload: load, destroy: () => panel.remove() };
}
