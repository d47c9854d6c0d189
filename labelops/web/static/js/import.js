// The import page: drag and drop, an XHR upload with a progress bar, and the server's report.

import { h } from "../labeling/dom.js";

const form = document.querySelector("[data-import-form]");
if (form) setUp(form);

function setUp(form) {
  const input = form.querySelector('input[type="file"]');
  const zone = form.querySelector("[data-dropzone]");
  const progress = form.querySelector("[data-progress]");
  const bar = progress.querySelector(".progress");
  const fill = bar.querySelector("span");
  const text = progress.querySelector("[data-progress-text]");
  const reportBox = document.querySelector("[data-report]");
  const button = form.querySelector('button[type="submit"]');

  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragover");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("dragover"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    input.files = event.dataTransfer.files;
  });

  const setProgress = (percent, message) => {
    fill.style.width = `${percent}%`;
    bar.setAttribute("aria-valuenow", String(Math.round(percent)));
    text.textContent = message;
  };

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!input.files.length) {
      reportBox.replaceChildren(failure({ message: "Choose at least one file." }));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    progress.hidden = false;
    button.disabled = true;
    setProgress(0, "Uploading…");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        const pct = (100 * e.loaded) / e.total;
        setProgress(pct, pct >= 100 ? "Importing…" : `Uploading… ${Math.round(pct)}%`);
      }
    });
    xhr.addEventListener("load", () => {
      button.disabled = false;
      const body = xhr.response || {};
      if (xhr.status < 300 && body.report) {
        setProgress(100, "Done.");
        reportBox.replaceChildren(success(body.report));
        form.reset();
      } else {
        setProgress(0, "Rejected.");
        reportBox.replaceChildren(failure(body.error || { message: `The server answered ${xhr.status}.` }));
      }
    });
    xhr.addEventListener("error", () => {
      button.disabled = false;
      setProgress(0, "Upload failed.");
      reportBox.replaceChildren(failure({ message: "The upload failed: the server could not be reached." }));
    });
    xhr.send(new FormData(form));
  });
}

function success(report) {
  const rows = report.files.map((f) =>
    h(
      "tr",
      {},
      h("td", {}, f.name),
      h("td", {}, f.format),
      h("td", { class: "num" }, f.num_tasks),
      h("td", { class: "num" }, f.num_annotations),
      h("td", { class: "num" }, f.num_predictions),
      h("td", { class: "num" }, f.num_duplicates),
    ),
  );
  const n = report.task_count;
  return h(
    "div",
    { class: "report ok", role: "status" },
    h("h2", {}, `Imported ${n} task${n === 1 ? "" : "s"}`),
    h(
      "table",
      { class: "table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["File", "Format"].map((name) => h("th", {}, name)),
          ...["Tasks", "Annotations", "Predictions", "Duplicates skipped"].map((name) =>
            h("th", { class: "num" }, name),
          ),
        ),
      ),
      h("tbody", {}, rows),
    ),
    problems(report),
    h(
      "p",
      { style: "margin-top:0.8rem" },
      h(
        "a",
        { class: "btn", href: document.querySelector("[data-import-form]").dataset.managerUrl },
        "Open the data manager",
      ),
    ),
  );
}

// Results kept although they do not fit the labeling config, as Label Studio keeps them.
function problems(report) {
  if (!report.problem_count) return null;
  const n = report.problem_count;
  return h(
    "div",
    { class: "report-problems" },
    h("h3", {}, `${n} result${n === 1 ? "" : "s"} kept that do not fit the labeling config`),
    h(
      "ul",
      { class: "small" },
      report.problems.map((p) => h("li", {}, `${p.source}, row ${p.row}, `, h("code", {}, p.field), `: ${p.message}`)),
    ),
  );
}

function failure(error) {
  const details = h("dl");
  if (error.source) details.append(h("dt", {}, "File"), h("dd", {}, error.source));
  if (error.row) details.append(h("dt", {}, "Row"), h("dd", {}, error.row));
  if (error.field) details.append(h("dt", {}, "Field"), h("dd", {}, h("code", {}, error.field)));
  return h(
    "div",
    { class: "report bad", role: "alert" },
    h("h2", {}, "Nothing was imported"),
    h("p", {}, error.message),
    details.childElementCount ? details : null,
    h(
      "p",
      { class: "small muted", style: "margin:0.6rem 0 0" },
      "Fix the file and upload it again; an import is all or nothing.",
    ),
  );
}
