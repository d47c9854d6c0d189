import random
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy.orm import Session

from labelops.db.models import TaskRow
from labelops.resources.object_store import LocalObjectStore
from labelops.services.agreement import annotation_fingerprints, fingerprint_version
from labelops.services.annotations import create_annotation
from labelops.services.datasets import DatasetOptions, build_dataset, list_dataset_versions
from labelops.services.errors import NotFoundError
from labelops.services.predictions import create_predictions
from labelops.services.queue import compute_queue_priorities, write_priorities
from labelops.services.runs import job_for_action
from labelops.services.storages import (
    SECRET_KEY_ENV,
    StorageError,
    StoragePolicy,
    create_storage,
    storage_credentials,
)
from tests.factories import choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1)


def test_secret_round_trips_through_encryption_and_env_references(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    monkeypatch.setenv(SECRET_KEY_ENV, key)
    project = make_project(session)
    policy = StoragePolicy(secret_env_allowlist=frozenset({"MY_KEY_ID", "MY_SECRET"}))

    encrypted = create_storage(
        session,
        project,
        policy=policy,
        bucket="raw",
        secret="s3cr3t",
        access_key_id_env="MY_KEY_ID",
    )
    literal = create_storage(
        session, project, policy=policy, bucket="raw", access_key_id="AKIA2", secret="typed"
    )
    referenced = create_storage(
        session,
        project,
        policy=policy,
        bucket="raw",
        access_key_id_env="MY_KEY_ID",
        secret_env="MY_SECRET",
    )

    env = {SECRET_KEY_ENV: key, "MY_KEY_ID": "AKIA1", "MY_SECRET": "from-env"}
    assert "s3cr3t" not in encrypted.secret_encrypted
    assert "AKIA2" not in literal.secret_encrypted + literal.access_key_id_env
    assert storage_credentials(encrypted, policy, env) == ("AKIA1", "s3cr3t")
    assert storage_credentials(literal, policy, env) == ("AKIA2", "typed")
    assert storage_credentials(referenced, policy, env) == ("AKIA1", "from-env")
    other_key = {SECRET_KEY_ENV: Fernet.generate_key().decode(), "MY_KEY_ID": "x"}
    with pytest.raises(StorageError, match="does not decrypt") as refused:
        storage_credentials(encrypted, policy, other_key)
    assert refused.value.field == "secret"


def test_a_secret_without_an_encryption_key_is_refused(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    project = make_project(session)
    with pytest.raises(StorageError, match=SECRET_KEY_ENV) as refused:
        create_storage(session, project, bucket="raw", access_key_id="AKIA1", secret="plain")
    assert refused.value.field == "secret"


def test_annotation_fingerprint_changes_with_annotations(session: Session) -> None:
    project = make_project(session)
    task = make_tasks(session, project, n=1)[0]
    before = fingerprint_version(*annotation_fingerprints(session)[project.id])
    create_annotation(
        session, task, user_id=make_user(session).id, result=choice_result("Positive"), now=NOW
    )
    after = fingerprint_version(*annotation_fingerprints(session)[project.id])
    assert before != after


def test_dataset_version_is_the_content_hash_and_is_recorded_once(
    session: Session, tmp_path: Path
) -> None:
    project = make_project(session)
    task = make_tasks(session, project, n=1)[0]
    annotation = create_annotation(
        session, task, user_id=make_user(session).id, result=choice_result("Negative"), now=NOW
    )
    store = LocalObjectStore(root=str(tmp_path))

    builds = [build_dataset(session, project, store, DatasetOptions()) for _ in range(2)]
    annotation.result = choice_result("Positive")
    session.flush()
    relabeled = build_dataset(session, project, store, DatasetOptions())

    assert [b.is_new for b in builds] == [True, False]
    assert builds[0].version == builds[1].version != relabeled.version
    assert [r["label"] for r in builds[0].preview] == ["Negative"]
    assert [v.version for v in list_dataset_versions(session, project.id)] == [
        relabeled.version,
        builds[0].version,
    ]


def test_uncertainty_queue_puts_unpredicted_tasks_first_then_least_confident(
    session: Session,
) -> None:
    project = make_project(session, model_version="m/v1")
    tasks = make_tasks(session, project, n=3)
    create_predictions(
        session,
        project,
        [
            {
                "task": tasks[0].id,
                "result": choice_result("Positive"),
                "score": 0.9,
                "probabilities": {"Positive": 0.9, "Negative": 0.1},
            },
            {
                "task": tasks[1].id,
                "result": choice_result("Positive"),
                "score": 0.6,
                "probabilities": {"Positive": 0.6, "Negative": 0.4},
            },
        ],
        now=NOW,
    )

    priorities, scored = compute_queue_priorities(
        session, project, "least_confidence", random.Random(0)
    )
    write_priorities(session, priorities)

    assert scored == 2
    assert priorities[tasks[0].id] == pytest.approx(0.1)
    assert priorities[tasks[1].id] == pytest.approx(0.4)
    assert priorities[tasks[2].id] > priorities[tasks[1].id]
    assert session.get_one(TaskRow, tasks[1].id).priority == pytest.approx(0.4)


def test_unknown_pipeline_action_names_the_known_ones() -> None:
    assert job_for_action("export-dataset") == "dataset_job"
    with pytest.raises(
        NotFoundError, match="sync-storage, preannotate, agreement, export-dataset, train"
    ):
        job_for_action("retrain-everything")
