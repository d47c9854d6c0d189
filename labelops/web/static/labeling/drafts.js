// Drafts: the annotator's unsubmitted work, kept on the server as Label Studio keeps it
// (`/api/tasks/<id>/drafts`), so that nothing is lost to a closed tab or a jump to another task.
//
//   const listed = listDrafts(taskId);  // started early, while the interface renders
//   const drafts = await mountDrafts({ taskId, annotationId, controller, container, visitSeconds, listed })
//
// The work is saved every few seconds while it changes, and when the page is hidden or left (a
// keepalive request, which outlives the page). When the annotator comes back, their draft is
// loaded (one undo step away from the saved annotation) and a note says so, with a button that
// discards it. The server deletes the draft with the submit; the page calls `drafts.close()`
// before submitting so that no save follows it, and `drafts.submitted()` after an update that
// stays on the page.
import { fetchJSON, request } from "../js/http.js";
import { h } from "./dom.js";

export const SAVE_EVERY_MS = 5000;

// The caller's drafts of the task ([] when they cannot be read: the page works without them).
export function listDrafts(taskId) {
  return fetchJSON("GET", `/api/tasks/${taskId}/drafts`).catch(() => []);
}

export async function mountDrafts({
  taskId,
  annotationId = null,
  controller,
  container,
  visitSeconds,
  listed = listDrafts(taskId),
}) {
  const store = controller.store;
  const saveUrl = annotationId
    ? `/api/tasks/${taskId}/annotations/${annotationId}/drafts`
    : `/api/tasks/${taskId}/drafts`;
  const original = store.result();
  let saved = JSON.stringify(original);
  // Seconds spent in earlier visits whose work is in the restored draft.
  let earlier = 0;
  let draftId = null;
  let closed = false;
  let pending = Promise.resolve();

  const note = h("div", { class: "lo-draft-note", id: "lo-draft-note", role: "status", hidden: true });
  container.before(note);

  const showRestored = (draft) => {
    const when = draft.updated_at ? new Date(draft.updated_at).toLocaleString() : "";
    const discard = h("button", { type: "button", class: "lo-btn", id: "lo-draft-discard" }, "Discard draft");
    discard.addEventListener("click", discardDraft);
    note.replaceChildren(
      h("strong", {}, "Draft restored"),
      h("span", {}, ` — your unsubmitted work${when ? ` from ${when}` : ""}. `),
      discard,
    );
    note.hidden = false;
  };

  // Text typed into a box but not yet added: it counts as a change when the page is left.
  const typing = () => [...container.querySelectorAll("textarea, input[type=text]")].some((el) => el.value.trim());

  const body = (result) => ({
    result,
    lead_time: Math.round((earlier + visitSeconds()) * 100) / 100,
  });

  // Saves the current work when it differs from what the server has.
  const save = ({ leaving = false } = {}) => {
    if (closed) return pending;
    // Only the annotator's own work makes a draft, not a tool settling the loaded result.
    const acted = store.history.canUndo || store.history.canRedo || (leaving && typing());
    if (!acted) return pending;
    const result = leaving ? controller.result() : store.result();
    const text = JSON.stringify(result);
    if (text === saved && !(leaving && typing())) return pending;
    const before = saved;
    saved = text;
    const sent = request("POST", saveUrl, body(result), { keepalive: leaving })
      .then(({ ok, data }) => {
        if (ok && data) draftId = data.id;
        else if (saved === text) saved = before;
      })
      .catch(() => {
        if (saved === text) saved = before;
      });
    pending = pending.then(() => sent);
    return pending;
  };

  async function discardDraft() {
    closed = true;
    await pending;
    if (draftId !== null) await fetchJSON("DELETE", `/api/drafts/${draftId}`).catch(() => null);
    draftId = null;
    earlier = 0;
    store.change(() => store.load(original));
    saved = JSON.stringify(store.result());
    note.hidden = true;
    closed = false;
  }

  // Restores the annotator's draft of this task (or of their annotation of it).
  const mine = (await listed).filter((d) => (d.annotation ?? null) === (annotationId ?? null)).pop();
  if (mine) {
    draftId = mine.id;
    earlier = mine.lead_time || 0;
    if (JSON.stringify(mine.result) !== saved) {
      store.change(() => store.load(mine.result));
      saved = JSON.stringify(store.result());
      showRestored(mine);
    }
  }

  const timer = setInterval(() => save(), SAVE_EVERY_MS);
  const onHidden = () => {
    if (document.visibilityState === "hidden") save({ leaving: true });
  };
  const onLeave = () => save({ leaving: true });
  document.addEventListener("visibilitychange", onHidden);
  window.addEventListener("pagehide", onLeave);

  return {
    // Seconds of earlier visits kept in the restored draft (added to the annotation's lead time).
    earlierSeconds: () => earlier,
    save,
    // No more saves (a submit is on its way); resolves once any save in flight has landed.
    close: () => {
      closed = true;
      return pending;
    },
    // The submit failed: the work is still a draft.
    reopen: () => {
      closed = false;
    },
    // The annotation was updated and the page stays: the server dropped the draft.
    submitted: () => {
      saved = JSON.stringify(store.result());
      earlier = 0;
      draftId = null;
      note.hidden = true;
      closed = false;
    },
    destroy: () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onHidden);
      window.removeEventListener("pagehide", onLeave);
      note.remove();
    },
  };
}
