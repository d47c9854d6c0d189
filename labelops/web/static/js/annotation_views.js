// Read-only renders of annotations (review stream, task page) through the labeling view's own
// renderer; the server-rendered summary stays as the fallback and as a text version.

const source = document.getElementById("interface-data");
const panes = document.querySelectorAll("[data-render-result]");

async function main() {
  if (!source || !panes.length) return;
  const { interface: description, task_data: taskData } = JSON.parse(source.textContent);
  let renderInterface = null;
  try {
    ({ renderInterface } = await import("/static/labeling/render.js"));
  } catch {
    return;
  }
  for (const pane of panes) {
    const result = JSON.parse(pane.querySelector("script").textContent);
    const target = document.createElement("div");
    target.className = "rendered";
    pane.append(target);
    try {
      await renderInterface(target, description, taskData, { readOnly: true, annotation: { result } });
      pane.closest(".pane")?.classList.add("has-render");
    } catch (error) {
      target.remove();
    }
  }
}

main();
