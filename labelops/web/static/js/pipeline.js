// Pipeline page: launch jobs through the REST API without a page load, and poll the runs every
// 2 s while one is queued or running. Without JavaScript the forms post to the page instead.

import { h } from "../labeling/dom.js";
import { fetchJSON, postJSON, problem } from "./http.js";

const POLL_MS = 2000;
const NO_MODEL = "no champion model yet";
const ACTIVE = new Set(["queued", "running"]);
const NO_STORAGE =
  "This project has no storage connection yet: add one under “Storage connections” " + "before syncing storage.";

const root = document.querySelector("[data-pipeline-actions]");
const runsBody = document.querySelector("[data-runs]");
const datasetsBody = document.querySelector("[data-datasets]");
const polling = document.querySelector("[data-polling]");
const message = document.querySelector("[data-pipeline-message]");
const runsProblem = document.querySelector("[data-runs-problem]");
const api = root ? root.dataset.api : "";
const dagsterUrl = root ? root.dataset.dagsterUrl : "";
const jobLabels = {};
let timer = null;
let lastStatuses = new Map();

function say(text, kind) {
  if (!message) return;
  message.hidden = false;
  message.textContent = text;
  message.className = `pipeline-message flash ${kind}`;
  message.setAttribute("role", kind === "error" ? "alert" : "status");
}

function stamp(iso) {
  return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

function runKey(run) {
  return String(run.run_id || run.id);
}

function errorOrOutcome(run) {
  if (run.error) return [h("span", { class: "error-text" }, run.error)];
  if (!run.outcome) return [h("span", { class: "muted" }, "–")];
  const cell = [h("span", { class: "run-outcome" }, run.outcome)];
  if (run.outcome.includes(NO_MODEL)) {
    cell.push(
      " ",
      h("button", { class: "btn btn-small", type: "submit", form: "train-form", "data-train": "" }, "Train model"),
    );
  }
  return cell;
}

function runRow(run) {
  const label = jobLabels[run.job_name] || run.job_name;
  return h(
    "tr",
    { "data-run-id": runKey(run), "data-status": run.status, "data-job": run.job_name },
    h("td", {}, label, h("br"), h("code", { class: "muted small" }, run.job_name)),
    h("td", {}, h("span", { class: `badge badge-run-${run.status}` }, run.status)),
    h("td", { class: "small run-source" }, run.source),
    h("td", { class: "run-error" }, ...errorOrOutcome(run)),
    h("td", { class: "nowrap" }, h("time", {}, stamp(run.created_at))),
    h("td", { class: "nowrap" }, h("time", {}, stamp(run.updated_at))),
    h(
      "td",
      { class: "nowrap" },
      run.run_id
        ? h(
            "a",
            {
              href: run.dagster_url || `${dagsterUrl}/runs/${run.run_id}`,
              target: "_blank",
              rel: "noopener",
              title: `Dagster run ${run.run_id}`,
            },
            "Open in Dagster",
          )
        : h("span", { class: "muted" }, "not launched"),
    ),
  );
}

function datasetRow(d) {
  return h(
    "tr",
    {},
    h("td", {}, h("code", { title: d.version }, d.version.slice(0, 12))),
    h("td", { class: "num" }, d.num_tasks),
    h("td", { class: "truncate small" }, h("code", { title: d.uri }, d.uri)),
    h("td", { class: "nowrap" }, stamp(d.created_at).slice(0, 16)),
  );
}

async function refreshDatasets() {
  if (!datasetsBody) return;
  const data = await fetchJSON("GET", `${api}/datasets`);
  if (!data.results.length) return;
  datasetsBody.replaceChildren(...data.results.map(datasetRow));
}

async function refreshRuns() {
  const data = await fetchJSON("GET", `${api}/pipeline/runs`);
  const runs = data.results;
  if (runsProblem) {
    runsProblem.hidden = !data.problem;
    runsProblem.textContent = data.problem || "";
  }
  if (runs.length) runsBody.replaceChildren(...runs.map(runRow));
  let datasetsChanged = false;
  for (const run of runs) {
    const before = lastStatuses.get(runKey(run));
    if (before && ACTIVE.has(before) && run.status === "succeeded" && run.job_name === "dataset_job") {
      datasetsChanged = true;
    }
  }
  lastStatuses = new Map(runs.map((r) => [runKey(r), r.status]));
  if (datasetsChanged) await refreshDatasets();
  return runs.some((r) => ACTIVE.has(r.status));
}

function schedule() {
  clearTimeout(timer);
  if (polling) polling.hidden = false;
  timer = setTimeout(poll, POLL_MS);
}

async function poll() {
  try {
    const active = await refreshRuns();
    if (active) schedule();
    else if (polling) polling.hidden = true;
  } catch (error) {
    say(`Could not refresh the runs: ${error.message}. Retrying…`, "error");
    schedule();
  }
}

async function launch(form) {
  const { action, label } = form.dataset;
  const button = form.querySelector("button");
  button.disabled = true;
  say(`Starting ${label}…`, "info");
  try {
    if (action === "sync-storage") {
      const storages = await fetchJSON("GET", `${api}/storages`);
      if (!storages.results.length) {
        say(`${label} was not started. ${NO_STORAGE}`, "error");
        return;
      }
    }
    const { ok, status, data } = await postJSON(`${api}/pipeline/${action}`, {});
    if (!ok) {
      say(`${label} could not start: ${problem(status, data)}`, "error");
    } else if (data.status === "failed") {
      say(`${label} could not start: ${data.error}`, "error");
    } else {
      say(`${label} started: Dagster run ${data.run_id}.`, "success");
    }
    await refreshRuns();
    schedule();
  } catch (error) {
    say(`${label} could not start: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

function toggleS3Fields(form) {
  const kind = form.querySelector("select[name=kind]");
  const apply = () => {
    for (const field of form.querySelectorAll(".s3-only")) {
      const hasError = field.querySelector(".error");
      field.hidden = kind.value === "local" && !hasError;
    }
  };
  kind.addEventListener("change", apply);
  apply();
}

if (root && runsBody) {
  for (const form of root.querySelectorAll("form[data-job]")) {
    jobLabels[form.dataset.job] = form.dataset.label;
  }
  for (const form of root.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      launch(form);
    });
  }
  for (const row of runsBody.querySelectorAll("tr[data-run-id]")) {
    lastStatuses.set(row.dataset.runId, row.dataset.status);
  }
  if ([...lastStatuses.values()].some((s) => ACTIVE.has(s))) schedule();
}

const storageForm = document.querySelector("[data-storage-form]");
if (storageForm) toggleS3Fields(storageForm);
