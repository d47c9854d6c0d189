"""Target storage: the dataset asset writes each version's files to the project's export bucket."""

import io
from datetime import datetime
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
import pytest

from labelops.assets.dataset import dataset_key, labeled_dataset
from labelops.resources.database import DatabaseResource
from labelops.services.annotations import create_annotation
from labelops.services.projects import get_project
from labelops.services.storages import create_storage
from tests.assets.conftest import materialize, metadata
from tests.factories import choice_result, make_project, make_tasks, make_user
from tests.resources.conftest import Bucket

NOW = datetime(2026, 1, 1)


def _annotated_project(database: DatabaseResource, **storage: Any) -> int:
    with database.session() as session:
        project = make_project(session)
        user = make_user(session)
        for text, label in (("good", "Positive"), ("bad", "Negative")):
            task = make_tasks(session, project, n=1, text=text)[0]
            create_annotation(session, task, user_id=user.id, result=choice_result(label), now=NOW)
        if storage:
            create_storage(session, project, **storage)
        return project.id


def test_the_dataset_version_is_written_to_the_projects_target_bucket(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    bucket: Bucket,
) -> None:
    project_id = _annotated_project(
        database, kind=bucket.kind, prefix="labeled", direction="export", **bucket.fields
    )
    with database.session() as session:
        project = get_project(session, project_id)

    result = materialize([labeled_dataset], resources, instance, project)

    meta = metadata(result, "labeled_dataset")
    key = dataset_key(project_id, meta["version"])
    target = bucket.store.read_bytes(f"labeled/{key}")
    assert pq.read_table(io.BytesIO(target)).num_rows == 2
    assert bucket.store.exists(
        f"labeled/{dataset_key(project_id, meta['version'], 'export_json.json')}"
    )
    assert len(meta["target_uris"]) >= 2
    assert all(uri.startswith(bucket.store.uri("labeled/")) for uri in meta["target_uris"])


def test_a_target_that_breaks_a_rule_fails_the_run_naming_it(
    database: DatabaseResource,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    bucket: Bucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project_id = _annotated_project(
        database, kind=bucket.kind, prefix="labeled", direction="export", **bucket.fields
    )
    monkeypatch.setenv("LABELOPS_STORAGE_ENDPOINT_ALLOWLIST", "")  # the administrator withdraws it
    with database.session() as session:
        project = get_project(session, project_id)

    with pytest.raises(dg.Failure, match=r"target storage not written: .*endpoint_url"):
        materialize([labeled_dataset], resources, instance, project)
