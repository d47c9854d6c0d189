// The labeling page: renders the task, then submits, skips or updates through the REST API.
import { fetchJSON } from "../js/http.js";
import { mountComments } from "./comments.js";
import { listDrafts, mountDrafts } from "./drafts.js";
import { renderInterface } from "./render.js";
import { visitTask } from "./task_history.js";

const payload = JSON.parse(document.getElementById("lo-payload").textContent);
const container = document.getElementById("lo-interface");
const errorBox = document.getElementById("lo-error");
const shownAt = performance.now();
let visitStart = shownAt;
let busy = false;
// Set once the interface is up; a submit before that has nothing to send.
let drafts = null;

function leadTime(from = visitStart) {
  return Math.round((performance.now() - from) / 10) / 100;
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

// Sends the annotation; a refusal names the result item and field it is about.
async function send(method, url, body) {
  try {
    return await fetchJSON(method, url, body);
  } catch (error) {
    const data = error.data || {};
    const where =
      data.index !== undefined && data.index !== null
        ? ` (result item ${data.index}${data.field ? `, ${data.field}` : ""})`
        : "";
    throw new Error(`${error.message}${where}`);
  }
}

function nextTask() {
  window.location.assign(`/projects/${payload.project.id}/label`);
}

async function save(wasCancelled) {
  if (busy || !drafts) return;
  busy = true;
  showError("");
  document.body.classList.add("lo-saving");
  const result = wasCancelled ? [] : controller.result();
  // An update adds this visit's time (and a restored draft's) to the time already spent on it.
  const visit = leadTime() + drafts.earlierSeconds();
  const spent = payload.annotation ? (payload.annotation.lead_time || 0) + visit : visit;
  // The submit deletes the draft on the server: no draft save may land after it.
  await drafts.close();
  const body = { result, lead_time: Math.round(spent * 100) / 100, was_cancelled: wasCancelled };
  try {
    if (payload.annotation) {
      const updated = await send("PATCH", `/api/annotations/${payload.annotation.id}`, body);
      payload.annotation = updated;
      visitStart = performance.now();
      document.getElementById("lo-submit").textContent = "Update";
      drafts.submitted();
      flash("Saved.");
    } else {
      await send("POST", `/api/tasks/${payload.task.id}/annotations`, body);
      nextTask();
      return;
    }
  } catch (error) {
    drafts.reopen();
    showError(`Not saved: ${error.message}`);
  } finally {
    busy = false;
    document.body.classList.remove("lo-saving");
  }
}

function flash(message) {
  const note = document.querySelector(".lo-notice");
  if (!note) return;
  note.textContent = message;
  note.classList.add("show");
  setTimeout(() => note.classList.remove("show"), 2000);
}

// Previous / next task of this tab's history.
const taskUrl = (id) => `/projects/${payload.project.id}/label?task=${id}`;
const visited = visitTask(payload.project.id, payload.task.id);
const pageKeys = [];
for (const [id, link, key, description] of [
  ["lo-prev", visited.previous, "ctrl+arrowleft", "Previous task"],
  ["lo-next", visited.next, "ctrl+arrowright", "Next task"],
]) {
  const anchor = document.getElementById(id);
  if (!anchor || !link) continue;
  anchor.href = taskUrl(link);
  anchor.hidden = false;
  pageKeys.push([key, () => window.location.assign(taskUrl(link)), description]);
}

// Read while the interface renders: a draft to restore costs no extra wait.
const listedDrafts = listDrafts(payload.task.id);
let controller;
try {
  controller = await renderInterface(container, payload.description, payload.task.data, {
    predictions: payload.predictions,
    annotation: payload.annotation,
    onSubmit: () => save(false),
    pageKeys,
  });
} catch (error) {
  container.textContent = "";
  showError(`The labeling interface could not be shown: ${error.message}`);
  throw error;
}
// Unsubmitted work is a draft: restored first, then saved as it changes and when the page is left.
drafts = await mountDrafts({
  taskId: payload.task.id,
  annotationId: payload.annotation ? payload.annotation.id : null,
  controller,
  container,
  visitSeconds: () => leadTime(),
  listed: listedDrafts,
});
// Remarks on the annotator's own annotation (a reviewer's, say), beside the interface.
if (payload.annotation) mountComments(container, payload.annotation.id, { placement: "before" });
container.removeAttribute("aria-busy");
document.body.dataset.labelingReady = "true";
window.labeling = controller;
if (payload.ml_backend?.interactive) {
  const { mountAutoAnnotate } = await import("./interactive.js");
  const bar = document.querySelector(".lo-actions");
  mountAutoAnnotate({ controller, backendId: payload.ml_backend.id, taskId: payload.task.id, bar });
}

document.getElementById("lo-submit").addEventListener("click", () => save(false));
document.getElementById("lo-skip")?.addEventListener("click", () => save(true));
document.getElementById("lo-undo").addEventListener("click", () => controller.undo());
document.getElementById("lo-redo").addEventListener("click", () => controller.redo());

const timer = document.getElementById("lo-timer");
setInterval(() => {
  const seconds = Math.floor(leadTime(shownAt));
  timer.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}, 1000);
