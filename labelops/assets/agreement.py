"""Agreement group: the annotations people make (an observed source) and how well they agree."""

import inspect
import math
import warnings
from typing import Any

import dagster as dg

from labelops.assets.partitions import project_id_of, project_partitions
from labelops.domain.agreement_report import AgreementReport, agreement_report
from labelops.domain.label_config import parse_label_config
from labelops.resources.database import DatabaseResource
from labelops.services.agreement import (
    annotation_fingerprints,
    controls_of,
    fingerprint_version,
    save_agreement_report,
)
from labelops.services.projects import get_project
from labelops.services.tasks import iter_task_records
from labelops.settings import Settings

AGREEMENT = "agreement"
CODE_VERSION = "1"
OWNERS = ["team:labelops"]
PREVIEW_ROWS = 10
PER_LABEL_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("control", "string", description="The labeling config's control."),
        dg.TableColumn("label", "string", description="One label (category) of the control."),
        dg.TableColumn("count", "int", description="How many times annotators chose it."),
        dg.TableColumn("alpha_nominal", "float", description="Krippendorff's alpha, one vs rest."),
        dg.TableColumn("f1", "float", description="Pair-matched F1 (spans, regions)."),
        dg.TableColumn("precision", "float", description="Pair-matched precision."),
        dg.TableColumn("recall", "float", description="Pair-matched recall."),
    ]
)
MEETS_THRESHOLD = "annotator_agreement_meets_threshold"
NO_CONTRADICTORY_GROUND_TRUTH = "annotator_agreement_has_no_contradictory_ground_truth"


def _observe_annotations(
    context: dg.AssetExecutionContext, database: DatabaseResource
) -> dg.DataVersionsByPartition:
    """Annotations people make in the web app; a project's version changes when any of them does.

    The data version is a hash of the number of the project's annotations and their latest
    update time.
    """
    known = set(context.instance.get_dynamic_partitions(project_partitions.name))
    with database.session() as session:
        prints = annotation_fingerprints(session)
    versions = {
        str(pid): dg.DataVersion(fingerprint_version(*fp))
        for pid, fp in prints.items()
        if str(pid) in known
    }
    with warnings.catch_warnings():  # beta in Dagster 1.13, see below
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        return dg.DataVersionsByPartition(versions)


# Dagster 1.13 still labels observable source assets and DataVersionsByPartition beta (the API is
# unchanged since 1.5); the warning is silenced only where the loop's one observed source is made.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.BetaWarning)
    annotations = dg.observable_source_asset(
        name="annotations",
        partitions_def=project_partitions,
        group_name=AGREEMENT,
        description=inspect.cleandoc(_observe_annotations.__doc__ or ""),
    )(_observe_annotations)


class AgreementConfig(dg.Config):
    """Thresholds of the agreement checks."""

    min_agreement: float = 0.6
    iou_threshold: float = 0.5


def headline_agreement(report: AgreementReport) -> dict[str, float]:
    """Returns one figure per control: nominal alpha for classification, mean pair F1 otherwise.

    Controls where the figure is undefined (too little overlap) are left out.
    """
    out = {}
    for name, control in report.controls.items():
        if control.kind == "classification":
            value = control.alpha_nominal
        else:
            f1s = [p.f1 for p in control.pairs if not math.isnan(p.f1)]
            value = sum(f1s) / len(f1s) if f1s else math.nan
        if not math.isnan(value):
            out[name] = float(value)
    return out


def _figures(report: AgreementReport) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, c in report.controls.items():
        kappas = [p.kappa for p in c.pairs if not math.isnan(p.kappa)]
        values = {
            "mean_pair_kappa": sum(kappas) / len(kappas) if kappas else math.nan,
            "fleiss_kappa": c.fleiss_kappa,
            "alpha_nominal": c.alpha_nominal,
            "alpha_interval": c.alpha_interval,
            "mean_iou": c.mean_iou,
        }
        out.update({f"{name}_{k}": float(v) for k, v in values.items() if not math.isnan(v)})
    return out


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def per_label_records(report: AgreementReport) -> list[dict[str, Any]]:
    """Returns one row per control and label: its count and per-label agreement figures."""
    rows = []
    for name, control in report.controls.items():
        for label, stats in control.per_label.items():
            count = stats.get("count")
            rows.append(
                {
                    "control": name,
                    "label": label,
                    "count": int(count) if count is not None and not math.isnan(count) else None,
                    **{
                        k: _number(stats.get(k))
                        for k in ("alpha_nominal", "f1", "precision", "recall")
                    },
                }
            )
    return rows


def _per_task_preview(report: AgreementReport) -> str:
    lines = ["| task_id | control | agreement |", "| --- | --- | --- |"]
    shown = 0
    for name, control in report.controls.items():
        for task_id, value in sorted(control.task_agreement.items()):
            if shown == PREVIEW_ROWS:
                break
            text = "" if math.isnan(value) else f"{value:.3f}"
            lines.append(f"| {task_id} | {name} | {text} |")
            shown += 1
    return "\n".join(lines)


def _metadata(report: AgreementReport, project_id: int) -> dict[str, Any]:
    records = per_label_records(report)
    web_url = Settings.from_env().web_url.rstrip("/")
    return {
        "dagster/row_count": report.num_tasks,
        "dagster/column_schema": PER_LABEL_SCHEMA,
        "num_tasks": report.num_tasks,
        **_figures(report),
        "agreement_by_label": dg.MetadataValue.table(
            records=[dg.TableRecord(r) for r in records], schema=PER_LABEL_SCHEMA
        ),
        "preview": dg.MetadataValue.md(_per_task_preview(report)),
        "project": dg.MetadataValue.url(f"{web_url}/projects/{project_id}"),
    }


@dg.asset(
    group_name=AGREEMENT,
    partitions_def=project_partitions,
    deps=[annotations],
    kinds={"python"},
    code_version=CODE_VERSION,
    owners=OWNERS,
    check_specs=[
        dg.AssetCheckSpec(MEETS_THRESHOLD, asset="annotator_agreement"),
        dg.AssetCheckSpec(NO_CONTRADICTORY_GROUND_TRUTH, asset="annotator_agreement"),
    ],
)
def annotator_agreement(
    context: dg.AssetExecutionContext, config: AgreementConfig, database: DatabaseResource
) -> dg.MaterializeResult:  # type: ignore[type-arg]  # Dagster refuses a subscript with checks
    """Inter-annotator agreement of the project, stored for the web dashboard.

    Per control: Cohen's kappa per annotator pair, Fleiss' kappa, Krippendorff's alpha (nominal,
    interval), percent agreement per task, IoU-matched F1 for boxes and polygons, span F1 for
    NER, per label and per annotator. Low agreement warns; contradictory ground truth errors.
    """
    project_id = project_id_of(context)
    with database.session() as session:
        project = get_project(session, project_id)
        controls = controls_of(parse_label_config(project.label_config))
        tasks = iter_task_records(session, project_id, only_annotated=True)
        report = agreement_report(tasks, controls, iou_threshold=config.iou_threshold)
        save_agreement_report(session, project_id, report.to_dict())
    headline = headline_agreement(report)
    low = {name: v for name, v in headline.items() if v < config.min_agreement}
    contradictory = list(report.contradictory_ground_truth)
    return dg.MaterializeResult(
        metadata=_metadata(report, project_id),
        check_results=[
            dg.AssetCheckResult(
                check_name=MEETS_THRESHOLD,
                passed=not low,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "min_agreement": config.min_agreement,
                    "agreement": dg.MetadataValue.json(headline),
                    "below_threshold": dg.MetadataValue.json(low),
                },
            ),
            dg.AssetCheckResult(
                check_name=NO_CONTRADICTORY_GROUND_TRUTH,
                passed=not contradictory,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"task_ids": dg.MetadataValue.json(contradictory[:100])},
            ),
        ],
    )
