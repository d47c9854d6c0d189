"""labeled_dataset: one consensus row per task, explicit ties and overlap, manifest and exports."""

import csv
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from labelops.assets.agreement import annotator_agreement
from labelops.assets.dataset import dataset_key, labeled_dataset
from labelops.db.models import DatasetVersionRow, ProjectRow, TaskRow
from labelops.domain.consensus import TIE_RULE
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import LocalObjectStore, S3ObjectStore
from labelops.services import datasets
from labelops.services.annotations import create_annotation
from labelops.services.reviews import review_annotation
from tests.assets.conftest import materialize, metadata
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1)
LABELS = ("Positive", "Negative", "Neutral")


def _config(**options: Any) -> dict[str, Any]:
    return {"ops": {"labeled_dataset": {"config": options}}}


def _rows(store: S3ObjectStore, project_id: int, version: str) -> dict[int, dict[str, Any]]:
    table = pq.read_table(io.BytesIO(store.read_bytes(dataset_key(project_id, version))))
    return {r["task_id"]: r for r in table.to_pylist()}


def _vote(database: DatabaseResource, project: ProjectRow, votes: list[tuple[str, ...]]) -> list:
    """Creates one task per entry, annotated by one annotator per label in the entry."""
    with database.session() as session:
        project = session.get_one(ProjectRow, project.id)
        users = [make_user(session, f"voter{i}@example.com") for i in range(3)]
        tasks = make_tasks(session, project, n=len(votes))
        for task, labels in zip(tasks, votes, strict=True):
            for user, label in zip(users, labels, strict=False):
                create_annotation(
                    session, task, user_id=user.id, result=choice_result(label), now=NOW
                )
        return [t.id for t in tasks]


def test_dataset_is_content_addressed_with_a_manifest_and_one_export_row_per_task(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
) -> None:
    with database.session() as session:
        project = make_project(session, maximum_annotations=2)
        tasks = make_tasks(session, project, n=3)
        a, b = make_user(session, "a@example.com"), make_user(session, "b@example.com")
        # task 0: two votes Positive; task 1: Negative (a) vs Neutral (b) accepted -> Neutral;
        # task 2: only a skip -> not in the dataset.
        for user in (a, b):
            create_annotation(
                session, tasks[0], user_id=user.id, result=choice_result("Positive"), now=NOW
            )
        create_annotation(
            session, tasks[1], user_id=a.id, result=choice_result("Negative"), now=NOW
        )
        accepted = create_annotation(
            session, tasks[1], user_id=b.id, result=choice_result("Neutral"), now=NOW
        )
        add_member(session, project, a, "reviewer")
        review_annotation(session, accepted, reviewer_id=a.id, decision="accepted", now=NOW)
        create_annotation(session, tasks[2], user_id=a.id, result=[], was_cancelled=True, now=NOW)

    first = materialize([labeled_dataset], resources, instance, project)
    second = materialize([labeled_dataset], resources, instance, project)

    meta = metadata(first, "labeled_dataset")
    version = meta["version"]
    assert meta["new_version"] is True and meta["num_tasks"] == 2
    assert meta["label_distribution"] == {"Positive": 1, "Neutral": 1}
    assert metadata(second, "labeled_dataset")["version"] == version
    assert metadata(second, "labeled_dataset")["new_version"] is False
    event = first.asset_materializations_for_node("labeled_dataset")[0]
    assert event.tags["dagster/data_version"] == version
    rows = _rows(s3_store, project.id, version)
    assert rows[tasks[0].id]["method"] == "majority" and rows[tasks[0].id]["agreement"] == 1.0
    assert rows[tasks[1].id]["label"] == "Neutral" and rows[tasks[1].id]["method"] == "reviewed"

    # The exports carry the consensus: one item (one row) per task, not one per annotation.
    export = json.loads(s3_store.read_bytes(dataset_key(project.id, version, "export_json.json")))
    assert sorted(t["id"] for t in export) == [tasks[0].id, tasks[1].id]
    assert [len(t["annotations"]) for t in export] == [1, 1]
    by_id = {t["id"]: t["annotations"][0]["result"][0]["value"]["choices"] for t in export}
    assert by_id == {tasks[0].id: ["Positive"], tasks[1].id: ["Neutral"]}
    minimal = json.loads(
        s3_store.read_bytes(dataset_key(project.id, version, "export_json_min.json"))
    )
    assert sorted((r["id"], r["sentiment"]) for r in minimal) == [
        (tasks[0].id, "Positive"),
        (tasks[1].id, "Neutral"),
    ]
    raw_csv = s3_store.read_bytes(dataset_key(project.id, version, "export_csv.csv")).decode()
    csv_rows = list(csv.DictReader(io.StringIO(raw_csv)))
    assert sorted((int(r["id"]), r["sentiment"]) for r in csv_rows) == [
        (tasks[0].id, "Positive"),
        (tasks[1].id, "Neutral"),
    ]

    manifest = json.loads(s3_store.read_bytes(dataset_key(project.id, version, "manifest.json")))
    assert manifest["version"] == version and manifest["project_id"] == project.id
    assert manifest["options"] == {
        "include_ties": False,
        "include_incomplete": False,
        "export_formats": ["CSV", "JSON", "JSON_MIN"],
    }
    assert manifest["tie_rule"] == TIE_RULE and manifest["overlap"] == 2
    assert manifest["counts"] == {
        "num_rows": 2,
        "num_consensus_tasks": 2,
        "num_ties": 0,
        "num_incomplete": 0,
        "excluded_ties": 0,
        "excluded_incomplete": 0,
        "label_distribution": {"Neutral": 1, "Positive": 1},
    }
    assert manifest["agreement"]["per_label"]["Positive"] == {
        "num_tasks": 1,
        "mean_agreement": 1.0,
    }
    assert manifest["files"]["dataset"] == dataset_key(project.id, version)
    assert len(manifest["files"]["exports"]) == 3

    checks = first.get_asset_check_evaluations()
    assert [c.check_name for c in checks] == ["labeled_dataset_has_all_tasks"] and checks[0].passed
    with database.session() as session:
        stored = session.scalars(sa.select(DatasetVersionRow)).all()
    assert [(r.version, r.num_tasks) for r in stored] == [(version, 2)]
    assert (
        stored[0].uri == f"s3://{s3_store.bucket}/datasets/{project.id}/{version}/dataset.parquet"
    )
    assert stored[0].details["manifest"] == s3_store.uri(
        dataset_key(project.id, version, "manifest.json")
    )


def test_ties_and_incomplete_tasks_are_flagged_and_left_out_unless_the_config_includes_them(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
) -> None:
    with database.session() as session:
        project = make_project(session, maximum_annotations=2)
    tie, short, full = _vote(
        database,
        project,
        [("Positive", "Negative"), ("Negative",), ("Neutral", "Neutral")],
    )

    default = metadata(
        materialize([labeled_dataset], resources, instance, project), "labeled_dataset"
    )
    everything = metadata(
        materialize(
            [labeled_dataset],
            resources,
            instance,
            project,
            _config(include_ties=True, include_incomplete=True),
        ),
        "labeled_dataset",
    )

    assert default["num_tasks"] == 1 and default["dagster/row_count"] == 1
    assert default["num_ties"] == 1 and default["excluded_ties"] == 1
    assert default["num_incomplete"] == 1 and default["excluded_incomplete"] == 1
    assert list(_rows(s3_store, project.id, default["version"])) == [full]
    assert everything["num_tasks"] == 3 and everything["version"] != default["version"]
    rows = _rows(s3_store, project.id, everything["version"])
    assert rows[tie]["label"] is None and rows[tie]["tie"] is True
    assert rows[tie]["tie_break"] == "unlabeled" and json.loads(rows[tie]["result"]) == []
    assert rows[short]["label"] == "Negative" and rows[short]["incomplete"] is True
    assert rows[short]["agreement"] is None  # one annotation: nothing to agree with
    assert rows[full]["incomplete"] is False and rows[full]["tie"] is False
    export = json.loads(
        s3_store.read_bytes(dataset_key(project.id, everything["version"], "export_json.json"))
    )
    assert sorted(t["id"] for t in export) == sorted([tie, short, full])


def test_ties_on_a_balanced_gold_set_favour_no_label(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
) -> None:
    """Gold is 10/10/10; 4 tasks of each label are two-way ties with the next label.

    Breaking ties by label order turned this into 12/8/10 (or 14/8/8); no label may gain.
    """
    votes = []
    for i in range(30):
        gold, other = LABELS[i % 3], LABELS[(i + 1) % 3]
        votes.append((gold, other) if i < 12 else (gold, gold, other))
    with database.session() as session:
        project = make_project(session, maximum_annotations=3)
    _vote(database, project, votes)

    meta = metadata(
        materialize(
            [labeled_dataset],
            resources,
            instance,
            project,
            _config(include_ties=True, include_incomplete=True),
        ),
        "labeled_dataset",
    )

    assert meta["label_distribution"] == {"Positive": 6, "Negative": 6, "Neutral": 6}
    assert meta["num_ties"] == 12 and meta["num_tasks"] == 30
    rows = _rows(s3_store, project.id, meta["version"])
    assert sum(r["label"] is None for r in rows.values()) == 12


def test_rows_stream_to_parquet_in_batches(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    s3_store: S3ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(datasets, "BATCH_ROWS", 2)
    with database.session() as session:
        project = make_project(session)
    ids = _vote(database, project, [(LABELS[i % 3],) for i in range(5)])

    meta = metadata(materialize([labeled_dataset], resources, instance, project), "labeled_dataset")

    parquet = pq.ParquetFile(
        io.BytesIO(s3_store.read_bytes(dataset_key(project.id, meta["version"])))
    )
    assert parquet.metadata.num_row_groups == 3  # 2 + 2 + 1 rows, never one in-memory table
    assert [r["task_id"] for r in parquet.read().to_pylist()] == ids
    assert meta["dagster/row_count"] == 5


def test_dataset_and_agreement_metadata_a_dagster_user_expects(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABELOPS_WEB_URL", "https://label.example.com/")
    with database.session() as session:
        project = make_project(session, maximum_annotations=2)
    _vote(database, project, [("Positive", "Positive")] * 12 + [("Negative", "Positive")])

    result = materialize(
        [annotator_agreement, labeled_dataset],
        resources,
        instance,
        project,
        _config(include_ties=True),
    )

    meta = metadata(result, "labeled_dataset")
    assert meta["dagster/row_count"] == 13
    schema = meta["dagster/column_schema"]
    assert [c.name for c in schema.columns][:3] == ["task_id", "data", "label"]
    assert {c.name: c.type for c in schema.columns}["agreement"] == "float"
    preview = meta["preview"].splitlines()
    assert preview[0].startswith("| task_id | label |") and len(preview) == 2 + 10
    by_label = {r.data["label"]: r.data for r in meta["agreement_by_label"].records}
    assert by_label == {"Positive": {"label": "Positive", "num_tasks": 12, "mean_agreement": 1.0}}
    assert meta["project"] == f"https://label.example.com/projects/{project.id}"
    assert meta["dagster/uri"] == meta["uri"] and meta["uri"].startswith("s3://")
    assert meta["manifest"].endswith("/manifest.json")

    agreement = metadata(result, "annotator_agreement")
    assert agreement["dagster/row_count"] == 13
    assert [c.name for c in agreement["dagster/column_schema"].columns][:3] == [
        "control",
        "label",
        "count",
    ]
    records = {r.data["label"]: r.data for r in agreement["agreement_by_label"].records}
    assert set(records) == {"Positive", "Negative"} and records["Negative"]["count"] == 1
    assert len(agreement["preview"].splitlines()) == 2 + 10
    assert agreement["project"] == f"https://label.example.com/projects/{project.id}"

    for asset in (labeled_dataset, annotator_agreement):
        (spec,) = asset.specs
        assert spec.code_version and spec.owners == ["team:labelops"]
    with database.session() as session:
        assert session.scalar(sa.select(sa.func.count(TaskRow.id))) == 13


def test_a_local_object_store_gets_the_same_files(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    tmp_path: Path,
) -> None:
    store = LocalObjectStore(root=str(tmp_path / "objects"))
    with database.session() as session:
        project = make_project(session)
    ids = _vote(database, project, [("Positive",), ("Negative",)])

    result = materialize([labeled_dataset], {**resources, "object_store": store}, instance, project)

    version = metadata(result, "labeled_dataset")["version"]
    folder = tmp_path / "objects" / "datasets" / str(project.id) / version
    assert sorted(p.name for p in folder.iterdir()) == [
        "dataset.parquet",
        "export_csv.csv",
        "export_json.json",
        "export_json_min.json",
        "manifest.json",
    ]
    assert pq.read_table(folder / "dataset.parquet").column("task_id").to_pylist() == ids
    assert json.loads((folder / "manifest.json").read_text())["counts"]["num_rows"] == 2
