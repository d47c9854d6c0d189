import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from labelops.definitions import RESOURCES_BY_ENV, defs

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_hold_the_jobs_sensors_schedule_and_assets_of_the_loop() -> None:
    repo = defs.get_repository_def()
    jobs = {job.name for job in repo.get_all_jobs()}
    assert {
        "ingest_job",
        "preannotation_job",
        "sampling_job",
        "agreement_job",
        "dataset_job",
        "training_job",
        "model_refresh_job",
        "labeling_loop_job",
    } <= jobs
    assert {s.name for s in repo.sensor_defs} == {
        "new_object_sensor",
        "annotation_progress_sensor",
        "new_champion_sensor",
        "deleted_projects_sensor",
    }
    assert {s.name for s in repo.schedule_defs} == {
        "nightly_dataset_schedule",
        "annotations_observation_schedule",
    }
    graph = repo.asset_graph
    assert {k.to_user_string() for k in graph.get_all_asset_keys()} >= {
        "raw_tasks",
        "task_predictions",
        "labeling_queue",
        "annotations",
        "annotator_agreement",
        "labeled_dataset",
        "trained_model",
    }
    checks = {key.name for key in graph.asset_check_keys}
    assert checks == {
        "annotator_agreement_meets_threshold",
        "annotator_agreement_has_no_contradictory_ground_truth",
        "labeled_dataset_has_all_tasks",
        "raw_tasks_has_no_rejected_files",
    }


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("task_predictions", "raw_tasks"),
        ("labeling_queue", "task_predictions"),
        ("annotator_agreement", "annotations"),
        ("labeled_dataset", "annotator_agreement"),
        ("trained_model", "labeled_dataset"),
        ("task_predictions", "trained_model"),
    ],
)
def test_asset_graph_has_the_lineage_of_the_loop(child: str, parent: str) -> None:
    graph = defs.get_repository_def().asset_graph
    assert dg.AssetKey(parent) in graph.get(dg.AssetKey(child)).parent_keys


def test_the_loop_goes_through_the_model_and_stays_acyclic() -> None:
    graph = defs.get_repository_def().asset_graph
    model, predictions = dg.AssetKey("trained_model"), dg.AssetKey("task_predictions")
    assert model in graph.get(predictions).parent_keys
    # The loop closes through people labeling: `annotations` is an observable source, so nothing
    # the model feeds is upstream of it, and a topological order of every asset exists.
    annotations = graph.get(dg.AssetKey("annotations"))
    assert annotations.is_observable and not annotations.is_materializable
    assert not annotations.parent_keys
    order = [key for level in graph.toposorted_asset_keys_by_level for key in level]
    assert len(order) == len(set(order)) == len(graph.get_all_asset_keys())
    position = {key.to_user_string(): i for i, key in enumerate(order)}
    chain = ["annotations", "annotator_agreement", "labeled_dataset", "trained_model"]
    chain += ["task_predictions", "labeling_queue"]
    assert [position[name] for name in chain] == sorted(position[name] for name in chain)


def test_importing_the_code_location_loads_neither_mlflow_nor_sklearn(tmp_path: Path) -> None:
    probe = (
        "import json, sys, time\n"
        "start = time.perf_counter()\n"
        "import labelops.definitions\n"
        "seconds = time.perf_counter() - start\n"
        "loaded = sorted(m for m in ('mlflow', 'sklearn') if m in sys.modules)\n"
        "start = time.perf_counter()\n"
        "import mlflow.sklearn, sklearn.linear_model\n"
        "deferred = time.perf_counter() - start\n"
        "print(json.dumps({'seconds': seconds, 'loaded': loaded, 'deferred': deferred}))\n"
    )
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "LABELOPS_HOME": str(tmp_path / "home"),
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["loaded"] == [], report
    # The import budget of a step process (generous: this machine is shared); "deferred" is what
    # mlflow and scikit-learn cost when a step first uses them instead.
    assert report["seconds"] < 30.0, report


def test_every_environment_provides_the_same_resource_keys() -> None:
    keys = {env: set(resources) for env, resources in RESOURCES_BY_ENV.items()}
    assert (
        keys["local"]
        == keys["production"]
        == {
            "database",
            "object_store",
            "model_registry",
            "predictor",
        }
    )


def test_code_location_loads_in_a_fresh_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "LABELOPS_HOME": str(tmp_path / "home"),
    }
    (tmp_path / "dagster").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Validation successful" in done.stdout + done.stderr
