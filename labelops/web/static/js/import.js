// The import page: drag and drop, an XHR upload with a progress bar, and the server's report.

import { el } from "./http.js";

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
    el(
      "tr",
      {},
      el("td", {}, f.name),
      el("td", {}, f.format),
      el("td", { class: "num" }, f.num_tasks),
      el("td", { class: "num" }, f.num_annotations),
      el("td", { class: "num" }, f.num_predictions),
      el("td", { class: "num" }, f.num_duplicates),
    ),
  );
  const n = report.task_count;
  return el(
    "div",
    { class: "report ok", role: "status" },
    el("h2", {}, `Imported ${n} task${n === 1 ? "" : "s"}`),
    el(
      "table",
      { class: "table" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ...["File", "Format"].map((h) => el("th", {}, h)),
          ...["Tasks", "Annotations", "Predictions", "Duplicates skipped"].map((h) => el("th", { class: "num" }, h)),
        ),
      ),
      el("tbody", {}, rows),
    ),
    problems(report),
    el("p", { style: "margin-top:0.8rem" }, el("a", { class: "btn", href: document.querySelector("[data-import-form]").dataset.managerUrl }, "Open the data manager")),
  );
}

// Results kept although they do not fit the labeling config, as Label Studio keeps them.
function problems(report) {
  if (!report.problem_count) return null;
  const n = report.problem_count;
  return el(
    "div",
    { class: "report-problems" },
    el("h3", {}, `${n} result${n === 1 ? "" : "s"} kept that do not fit the labeling config`),
    el(
      "ul",
      { class: "small" },
      report.problems.map((p) => el("li", {}, `${p.source}, row ${p.row}, `, el("code", {}, p.field), `: ${p.message}`)),
    ),
  );
}

function failure(error) {
  const details = el("dl");
  if (error.source) details.append(el("dt", {}, "File"), el("dd", {}, error.source));
  if (error.row) details.append(el("dt", {}, "Row"), el("dd", {}, error.row));
  if (error.field) details.append(el("dt", {}, "Field"), el("dd", {}, el("code", {}, error.field)));
  return el(
    "div",
    { class: "report bad", role: "alert" },
    el("h2", {}, "Nothing was imported"),
    el("p", {}, error.message),
    details.childElementCount ? details : null,
    el("p", { class: "small muted", style: "margin:0.6rem 0 0" }, "Fix the file and upload it again; an import is all or nothing."),
  );
}
