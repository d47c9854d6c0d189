// Read-only renders of annotations (review stream, task page) through the labeling view's own
// renderer, from the server's task payload (the same sanitized builder as the labeling page);
// the server-rendered summary stays as the fallback and as a text version.

const source = document.getElementById("task-payload");
const panes = document.querySelectorAll("[data-render-result]");

async function main() {
  if (!source || !panes.length) return;
  const payload = JSON.parse(source.textContent);
  if (!payload.task) return;
  const results = new Map(payload.annotations.map((a) => [String(a.id), a.result || []]));
  let renderInterface = null;
  try {
    ({ renderInterface } = await import("/static/labeling/render.js"));
  } catch {
    return;
  }
  for (const pane of panes) {
    const result = results.get(pane.dataset.annotationId);
    if (!result) continue;
    const target = document.createElement("div");
    target.className = "rendered";
    pane.append(target);
    try {
      await renderInterface(target, payload.description, payload.task.data, { readOnly: true, annotation: { result } });
      pane.closest(".pane")?.classList.add("has-render");
    } catch (_error) {
      target.remove();
    }
  }
  document.body.dataset.rendersReady = "true";
}

main();
