// The labeling config editor: gallery picks, line numbers, validation as you type (debounced call
// to the API's validator, errors with their line), and a live preview of the interface.

import { debounce, postJSON } from "./http.js";
import { renderPreview } from "./preview.js";

const editor = document.querySelector("[data-config-editor]");
if (editor) setUp(editor);

function setUp(root) {
  const textarea = root.querySelector("textarea");
  const gutter = root.querySelector("[data-gutter]");
  const status = root.querySelector("[data-status]");
  const previewBox = root.querySelector("[data-preview]");
  const initial = JSON.parse(root.querySelector("[data-initial-preview]").textContent || "null");
  let badLine = null;
  let controller = null;

  const paintGutter = () => {
    const count = textarea.value.split("\n").length;
    gutter.replaceChildren();
    for (let i = 1; i <= count; i += 1) {
      const line = document.createElement("span");
      line.textContent = String(i);
      if (i === badLine) line.className = "bad";
      gutter.append(line, "\n");
    }
    gutter.scrollTop = textarea.scrollTop;
  };

  const show = (state, message) => {
    status.className = `validation ${state}`;
    status.textContent = message;
    textarea.setAttribute("aria-invalid", state === "bad" ? "true" : "false");
  };

  const validate = async () => {
    if (controller) controller.abort();
    controller = new AbortController();
    const label_config = textarea.value;
    try {
      const checked = await postJSON("/api/projects/validate", { label_config }, { signal: controller.signal });
      if (!checked.ok) {
        const error = checked.data?.validation_errors?.label_config?.[0];
        badLine = error?.line ?? null;
        const where = badLine ? `Line ${badLine}: ` : "";
        const message = (error?.message || checked.data?.detail || "invalid config").replace(/^line \d+: /, "");
        show("bad", `${where}${message}`);
        previewBox.classList.add("stale");
        paintGutter();
        return;
      }
      badLine = null;
      paintGutter();
      const fields = checked.data.data_fields || [];
      show(
        "ok",
        `The config is valid. Task data fields: ${fields.length ? fields.map((f) => `$${f}`).join(", ") : "none"}.`,
      );
      const preview = await postJSON("/projects/preview", { label_config }, { signal: controller.signal });
      previewBox.classList.remove("stale");
      if (preview.ok) await renderPreview(previewBox, preview.data);
    } catch (error) {
      if (error.name !== "AbortError") show("bad", `Could not check the config: ${error.message}`);
    }
  };

  const scheduled = debounce(validate, 350);
  textarea.addEventListener("input", () => {
    show("pending", "Checking…");
    paintGutter();
    scheduled();
  });
  textarea.addEventListener("scroll", () => {
    gutter.scrollTop = textarea.scrollTop;
  });

  const gallery = document.querySelector("[data-gallery]");
  if (gallery) {
    const templates = JSON.parse(gallery.querySelector("[data-templates]").textContent);
    const hidden = document.querySelector('input[name="template"]');
    gallery.addEventListener("click", (event) => {
      const button = event.target.closest("[data-template]");
      if (!button) return;
      event.preventDefault();
      const template = templates.find((t) => t.name === button.dataset.template);
      if (!template) return;
      for (const other of gallery.querySelectorAll("[data-template]")) other.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-pressed", "true");
      if (hidden) hidden.value = template.name;
      textarea.value = template.label_config;
      const title = document.querySelector('input[name="title"]');
      if (title && !title.value) title.value = template.title;
      textarea.dispatchEvent(new Event("input"));
    });
  }

  paintGutter();
  renderPreview(previewBox, initial);
}
