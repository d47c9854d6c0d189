"""Model registries: versions found by the dataset version they were trained on, tags kept."""

from pathlib import Path

import pandas as pd
import pytest

from labelops.resources.model_registry import (
    MlflowModelRegistry,
    ModelRegistry,
    ModelRegistryError,
    StaticModelRegistry,
    TrainingRecord,
)
from labelops.services.training import evaluate, train_baseline

TEXTS = ["good great", "great fun", "good fun", "bad awful", "awful dull", "bad dull"]
LABELS = ["Positive"] * 3 + ["Negative"] * 3


def _record(digest: str) -> TrainingRecord:
    trained = train_baseline(TEXTS, LABELS)
    frame = pd.DataFrame({"task_id": range(len(TEXTS)), "text": TEXTS, "label": LABELS})
    return TrainingRecord(
        model=trained.model,
        params={"C": 10.0},
        metrics=trained.metrics,
        dataset=frame,
        dataset_name="project-1-labeled",
        dataset_digest=digest,
        dataset_uri="s3://bucket/datasets/1/dataset.parquet",
        evaluation=frame.iloc[list(trained.test_rows)],
        input_example=pd.DataFrame({"text": TEXTS[:2]}),
        run_name="project-1-dataset",
        run_tags={"dagster.partition": "1"},
        version_tags={"agreement": "0.9000"},
    )


@pytest.fixture(params=["static", "mlflow"])
def any_registry(request: pytest.FixtureRequest, tmp_path: Path) -> ModelRegistry:
    if request.param == "static":
        return StaticModelRegistry(root=str(tmp_path / "models"))
    return MlflowModelRegistry(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_location=(tmp_path / "mlartifacts").as_uri(),
    )


def test_a_version_is_found_by_its_exact_dataset_version(any_registry: ModelRegistry) -> None:
    first = any_registry.log_training("labelops-project-1", _record("abc"))
    second = any_registry.log_training("labelops-project-1", _record("it's-new"))

    found = any_registry.version_for_dataset("labelops-project-1", "abc")
    assert found is not None and found.version == first.version
    assert found.tags["dataset_version"] == "abc" and found.tags["agreement"] == "0.9000"
    quoted = any_registry.version_for_dataset("labelops-project-1", "it's-new")
    assert quoted is not None and quoted.version == second.version
    assert any_registry.version_for_dataset("labelops-project-1", "ab") is None
    assert any_registry.version_for_dataset("labelops-project-2", "abc") is None


def test_the_baseline_takes_a_text_column_as_well_as_a_list_of_texts() -> None:
    trained = train_baseline(TEXTS, LABELS)
    table = pd.DataFrame({"text": ["good great", "awful bad"]})

    assert list(trained.model.predict(table)) == list(trained.model.predict(list(table["text"])))
    assert list(trained.model.predict(table)) == ["Positive", "Negative"]
    assert len(trained.test_rows) == trained.num_test == 2
    held_out = [TEXTS[i] for i in trained.test_rows]
    assert evaluate(trained.model, held_out, [LABELS[i] for i in trained.test_rows]) == {
        "accuracy": 1.0,
        "f1_macro": 1.0,
    }


def test_the_champion_is_none_only_when_mlflow_says_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = MlflowModelRegistry(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        artifact_location=(tmp_path / "mlartifacts").as_uri(),
    )
    assert registry.champion("labelops-project-1") is None  # no such model
    registry.log_training("labelops-project-1", _record("abc"))
    assert registry.champion("labelops-project-1") is None  # a model without the alias

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    down = MlflowModelRegistry(tracking_uri="http://127.0.0.1:9")
    with pytest.raises(ModelRegistryError, match=r"127\.0\.0\.1:9"):
        down.champion("labelops-project-1")
