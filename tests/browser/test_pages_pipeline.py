"""The pipeline page in the browser: add a local folder, sync it through Dagster, see the tasks."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from labelops.templates_gallery import get_template
from tests.browser.conftest import LiveServer, screenshot, sign_in
from tests.browser.pages_helpers import annotate, choice, make_project

TEXT_CONFIG = get_template("text_classification").label_config  # type: ignore[union-attr]
REVIEWS = [
    "The battery lasts all day and charges fast.",
    "Arrived broken, and support never answered.",
    "It is a phone. It makes calls.",
]


@pytest.fixture
def pipeline_env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str, tmp_path: Path) -> Path:
    """What the in-process Dagster runs read (the live server's database and home); the bucket."""
    bucket = tmp_path / "bucket"
    monkeypatch.setenv("LABELOPS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LABELOPS_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LABELOPS_ENV", "local")
    monkeypatch.setenv("LABELOPS_OBJECT_STORE_ROOT", str(bucket))
    for name in ("DAGSTER_HOME", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    # Nothing listens here, so launches take the in-process path.
    monkeypatch.setenv("LABELOPS_DAGSTER_UI_URL", "http://127.0.0.1:9")
    incoming = bucket / "incoming"
    incoming.mkdir(parents=True)
    (incoming / "reviews.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in REVIEWS)
    )
    return bucket


def test_sync_storage_from_the_pipeline_page(
    pipeline_env: Path, live_server: LiveServer, page: Page
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    project = make_project(live_server, "Product reviews", TEXT_CONFIG)
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/projects/{project}/data")
    page.get_by_role("link", name="Pipeline").click()
    expect(page.get_by_role("heading", name="Run the pipeline")).to_be_visible()
    primary = page.locator("[data-pipeline-actions] .btn-primary")
    expect(primary).to_have_count(1)
    expect(primary).to_have_text("Connect storage")
    primary.click()
    expect(page.locator("#add-storage")).to_be_in_viewport()

    page.get_by_label("Kind").select_option("local")
    expect(page.get_by_label("Bucket")).to_be_hidden()
    expect(page.get_by_label("Secret access key")).to_be_hidden()
    page.get_by_label("Prefix").fill("incoming")
    page.get_by_label("File pattern").fill("*.jsonl")
    page.get_by_role("button", name="Add connection").click()
    expect(page.locator(".flash.success")).to_contain_text("Storage connection added")
    expect(page.locator("[data-storage-id]")).to_contain_text("incoming")
    expect(primary).to_have_text("Sync storage")

    page.get_by_role("button", name="Sync storage").click()
    expect(page.locator("[data-pipeline-message]")).to_contain_text(
        "Sync storage started", timeout=30_000
    )
    sync = page.locator("[data-runs] tr").first
    expect(sync.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    expect(sync).to_contain_text("Sync storage")
    link = sync.get_by_role("link", name="Open in Dagster")
    expect(link).to_have_attribute(
        "href",
        "http://127.0.0.1:9/runs/"
        + (link.get_attribute("title") or "").removeprefix("Dagster run "),
    )
    expect(page.locator("[data-polling]")).to_be_hidden()

    page.get_by_role("link", name="Data manager").click()
    rows = page.locator("tr[data-task-id]")
    expect(rows).to_have_count(3)
    for text in REVIEWS:
        expect(page.locator("table")).to_contain_text(text)

    task_ids = [int(r.get_attribute("data-task-id") or 0) for r in rows.all()]
    for task_id, label in zip(task_ids, ("Positive", "Negative", "Neutral"), strict=True):
        annotate(live_server, task_id, choice(label), live_server.admin_token)
    page.get_by_role("link", name="Pipeline").click()
    expect(primary).to_have_text("Export dataset")
    page.get_by_role("button", name="Export dataset").click()
    export = page.locator("[data-runs] tr").first
    expect(export).to_contain_text("Export dataset", timeout=30_000)
    expect(export.locator(".badge")).to_have_text("succeeded", timeout=60_000)
    expect(page.locator("[data-datasets] tr").first.locator("td.num")).to_have_text("3")
    screenshot(page, "pipeline")
    page.reload()
    expect(primary).to_have_text("Train model")
    assert errors == []
