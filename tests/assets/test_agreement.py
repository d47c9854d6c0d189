import math
from datetime import datetime
from typing import Any

import dagster as dg
import pytest

from labelops.assets.agreement import annotations, annotator_agreement
from labelops.db.models import ProjectRow
from labelops.jobs import annotations_observation_job
from labelops.resources.database import DatabaseResource
from labelops.services.agreement import latest_agreement_report
from labelops.services.annotations import create_annotation
from tests.assets.conftest import materialize, metadata
from tests.factories import add_member, choice_result, make_project, make_tasks, make_user

NOW = datetime(2026, 1, 1)
RATING_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Rating name="rating" toName="text" maxRating="5"/>
</View>"""
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", 4 coders x 12 units.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _rating(value: int) -> list[dict[str, Any]]:
    return [
        {"id": "r", "from_name": "rating", "to_name": "text", "type": "rating",
         "value": {"rating": value}},
    ]  # fmt: skip


def _annotate(
    database: DatabaseResource, project: ProjectRow, table: list[list[Any]], result: Any
) -> None:
    with database.session() as session:
        project = session.get_one(ProjectRow, project.id)
        tasks = make_tasks(session, project, n=len(table[0]))
        for coder, row in enumerate(table):
            user = make_user(session, f"coder{coder}@example.com")
            for task, value in zip(tasks, row, strict=True):
                if value is not None:
                    create_annotation(session, task, user_id=user.id, result=result(value), now=NOW)


def test_agreement_matches_the_published_krippendorff_2011_example(
    database: DatabaseResource, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    with database.session() as session:
        project = make_project(session, label_config=RATING_CONFIG, maximum_annotations=4)
    _annotate(database, project, KRIPPENDORFF_2011, _rating)

    result = materialize([annotator_agreement], resources, instance, project)

    meta = metadata(result, "annotator_agreement")
    assert meta["rating_alpha_nominal"] == pytest.approx(0.743, abs=5e-4)
    assert meta["rating_alpha_interval"] == pytest.approx(0.849, abs=5e-4)
    with database.session() as session:
        stored = latest_agreement_report(session, project.id)
        assert stored is not None
        control = stored.report["controls"]["rating"]
    assert control["krippendorff_alpha_nominal"] == pytest.approx(0.743, abs=5e-4)
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert checks["annotator_agreement_meets_threshold"].passed
    assert checks["annotator_agreement_has_no_contradictory_ground_truth"].passed


def test_low_agreement_warns_and_contradictory_ground_truth_errors(
    database: DatabaseResource, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    with database.session() as session:
        project = make_project(session, maximum_annotations=2)
        tasks = make_tasks(session, project, n=2)
        a, b = make_user(session, "a@example.com"), make_user(session, "b@example.com")
        for manager in (a, b):  # only managers set ground truth
            add_member(session, project, manager, "manager")
        for task in tasks:  # a says Positive, b says Negative, both as ground truth
            for user, label in ((a, "Positive"), (b, "Negative")):
                create_annotation(
                    session, task, user_id=user.id, result=choice_result(label),
                    ground_truth=True, now=NOW,
                )  # fmt: skip

    result = materialize(
        [annotator_agreement],
        resources,
        instance,
        project,
        run_config={"ops": {"annotator_agreement": {"config": {"min_agreement": 0.5}}}},
    )

    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    low = checks["annotator_agreement_meets_threshold"]
    assert not low.passed
    assert low.severity == dg.AssetCheckSeverity.WARN
    assert low.metadata["below_threshold"].value["sentiment"] < 0.5
    truth = checks["annotator_agreement_has_no_contradictory_ground_truth"]
    assert not truth.passed
    assert truth.severity == dg.AssetCheckSeverity.ERROR
    assert truth.metadata["task_ids"].value == [t.id for t in tasks]


def test_annotations_version_changes_when_annotations_change(
    database: DatabaseResource, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    with database.session() as session:
        project = make_project(session)
        task = make_tasks(session, project, n=1)[0]
        user = make_user(session)
    instance.add_dynamic_partitions("projects", [str(project.id)])

    def observed() -> str:
        job = dg.Definitions(
            assets=[annotations], jobs=[annotations_observation_job], resources=resources
        ).resolve_job_def("annotations_observation_job")
        job.execute_in_process(instance=instance, partition_key=str(project.id))
        record = instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("annotations"),
                                  asset_partitions=[str(project.id)]),
            limit=1,
        ).records[0]  # fmt: skip
        return record.asset_observation.data_version or ""

    before = observed()
    with database.session() as session:
        create_annotation(
            session, session.merge(task), user_id=user.id,
            result=choice_result("Positive"), now=NOW,
        )  # fmt: skip
    after = observed()

    assert before and after and before != after
    assert not math.isnan(len(after))
