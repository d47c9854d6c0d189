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
    }


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("task_predictions", "raw_tasks"),
        ("labeling_queue", "task_predictions"),
        ("annotator_agreement", "annotations"),
        ("labeled_dataset", "annotator_agreement"),
        ("trained_model", "labeled_dataset"),
    ],
)
def test_asset_graph_has_the_lineage_of_the_loop(child: str, parent: str) -> None:
    graph = defs.get_repository_def().asset_graph
    assert dg.AssetKey(parent) in graph.get(dg.AssetKey(child)).parent_keys


def test_the_loop_has_no_cycle_through_the_model() -> None:
    graph = defs.get_repository_def().asset_graph
    upstream_of_predictions = graph.get(dg.AssetKey("task_predictions")).parent_keys
    assert dg.AssetKey("trained_model") not in upstream_of_predictions


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
