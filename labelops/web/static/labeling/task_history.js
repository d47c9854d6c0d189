// The tasks this browser tab has opened in a project, in order, so the annotator can go back to
// an earlier one (and forward again) within the session.
const LIMIT = 200;

// Records the task and returns the ids of the tasks opened before and after it (or null).
export function visitTask(projectId, taskId, storage = window.sessionStorage) {
  const key = `labelops:history:${projectId}`;
  let ids = [];
  try {
    ids = JSON.parse(storage.getItem(key) || "[]");
  } catch {
    ids = [];
  }
  if (!Array.isArray(ids)) ids = [];
  let at = ids.indexOf(taskId);
  if (at === -1) {
    ids = [...ids, taskId].slice(-LIMIT);
    at = ids.length - 1;
    storage.setItem(key, JSON.stringify(ids));
  }
  return { previous: at > 0 ? ids[at - 1] : null, next: at < ids.length - 1 ? ids[at + 1] : null };
}
