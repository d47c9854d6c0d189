"""Dataset group: consensus labels as a versioned, content-addressed dataset in the object store."""

from typing import Any

import dagster as dg
from pydantic import Field

from labelops.assets.agreement import annotator_agreement
from labelops.assets.partitions import project_id_of, project_partitions
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectStore
from labelops.resources.target_storage import TargetWriteError, copy_to_targets
from labelops.services.datasets import (
    COLUMN_DESCRIPTIONS,
    SCHEMA,
    DatasetBuild,
    DatasetOptions,
    build_dataset,
    dataset_key,
)
from labelops.services.projects import get_project
from labelops.services.storages import StorageError
from labelops.settings import Settings

__all__ = ["LabeledDatasetConfig", "dataset_key", "labeled_dataset"]

DATASET = "dataset"
HAS_ALL_TASKS = "labeled_dataset_has_all_tasks"
CODE_VERSION = "2"
OWNERS = ["team:labelops"]
PREVIEW_COLUMNS = ("task_id", "label", "method", "agreement", "tie", "incomplete")
_ARROW_TYPES = {"int64": "int", "int32": "int", "double": "float", "bool": "bool"}


class LabeledDatasetConfig(dg.Config):
    """Which consensus rows the dataset keeps and which exports it ships."""

    include_ties: bool = Field(
        default=False, description="Keep tasks whose tie was left unlabeled (label null, tie true)."
    )
    include_incomplete: bool = Field(
        default=False, description="Keep tasks with fewer annotations than the project's overlap."
    )
    export_formats: list[str] = Field(
        default=["JSON", "JSON_MIN", "CSV"],
        description="Consensus exports written beside the Parquet file (those the config offers).",
    )


def column_schema() -> dg.TableSchema:
    """Returns the dataset's Parquet columns as a Dagster table schema."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=f.name,
                type=_ARROW_TYPES.get(str(f.type), "string"),
                description=COLUMN_DESCRIPTIONS[f.name],
            )
            for f in SCHEMA
        ]
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "" if value is None else str(value).replace("|", "\\|")


def _preview(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(PREVIEW_COLUMNS) + " |", "|" + " --- |" * len(PREVIEW_COLUMNS)]
    lines += ["| " + " | ".join(_cell(r[c]) for c in PREVIEW_COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def _per_label_table(per_label: dict[str, dict[str, Any]]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {"label": label, "num_tasks": s["num_tasks"], "mean_agreement": s["mean_agreement"]}
            )
            for label, s in per_label.items()
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("label", "string"),
                dg.TableColumn("num_tasks", "int"),
                dg.TableColumn("mean_agreement", "float"),
            ]
        ),
    )


def _metadata(build: DatasetBuild, project_id: int) -> dict[str, Any]:
    counts, agreement = build.manifest["counts"], build.manifest["agreement"]
    web_url = Settings.from_env().web_url.rstrip("/")
    return {
        "dagster/row_count": build.num_rows,
        "dagster/column_schema": column_schema(),
        "dagster/uri": dg.MetadataValue.path(build.uri),
        "version": build.version,
        "new_version": build.is_new,
        "uri": build.uri,
        "manifest": dg.MetadataValue.path(build.manifest_uri),
        "project": dg.MetadataValue.url(f"{web_url}/projects/{project_id}"),
        "num_tasks": build.num_rows,
        "num_ties": counts["num_ties"],
        "num_incomplete": counts["num_incomplete"],
        "excluded_ties": counts["excluded_ties"],
        "excluded_incomplete": counts["excluded_incomplete"],
        "label_distribution": dg.MetadataValue.json(counts["label_distribution"]),
        **(
            {"mean_agreement": dg.MetadataValue.float(agreement["mean"])}
            if agreement["mean"] is not None
            else {}
        ),
        "agreement_by_label": _per_label_table(agreement["per_label"]),
        "tie_rule": build.manifest["tie_rule"],
        "options": dg.MetadataValue.json(build.manifest["options"]),
        "preview": dg.MetadataValue.md(_preview(build.preview)),
    }


def _version_keys(build: DatasetBuild) -> list[str]:
    """Returns the keys of a dataset version's files: Parquet, exports and manifest."""
    files = build.manifest.get("files", {})
    keys = [files.get("dataset"), *files.get("exports", [])]
    manifest = dataset_key(build.manifest["project_id"], build.version, "manifest.json")
    return [k for k in keys if k] + [manifest]


@dg.asset(
    group_name=DATASET,
    partitions_def=project_partitions,
    deps=[annotator_agreement],
    kinds={"parquet", "s3"},
    code_version=CODE_VERSION,
    owners=OWNERS,
    check_specs=[dg.AssetCheckSpec(HAS_ALL_TASKS, asset="labeled_dataset")],
)
def labeled_dataset(
    context: dg.AssetExecutionContext,
    config: LabeledDatasetConfig,
    database: DatabaseResource,
    object_store: ObjectStore,
) -> dg.MaterializeResult:  # type: ignore[type-arg]  # Dagster refuses a subscript with checks
    """Consensus labels of the project as Parquet plus consensus exports and a manifest.

    One row per task: ground truth wins, then reviewer-accepted annotations, then the majority
    vote; a tie takes a reviewer's accepted annotation, else the ground truth, else is left
    unlabeled. Ties left unlabeled and tasks with fewer annotations than the project's overlap
    are left out unless the config includes them. The version is the hash of the options and the
    rows (also the Dagster data version): unchanged labels make no new version.
    """
    project_id = project_id_of(context)
    options = DatasetOptions(
        include_ties=config.include_ties,
        include_incomplete=config.include_incomplete,
        export_formats=tuple(config.export_formats),
    )
    with database.session() as session:
        project = get_project(session, project_id)
        build = build_dataset(session, project, object_store, options)
        # The project's target (export) storages get the version's files too.
        try:
            target_uris = copy_to_targets(session, project_id, object_store, _version_keys(build))
        except (StorageError, TargetWriteError) as exc:
            raise dg.Failure(description=f"target storage not written: {exc}") from exc
    counts = build.manifest["counts"]
    excluded = counts["excluded_ties"] + counts["excluded_incomplete"]
    return dg.MaterializeResult(
        data_version=dg.DataVersion(build.version),
        metadata={
            **_metadata(build, project_id),
            "target_uris": dg.MetadataValue.json(target_uris),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=HAS_ALL_TASKS,
                passed=build.num_consensus_tasks == build.num_counted_tasks
                and build.num_rows + excluded == build.num_consensus_tasks,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={
                    "num_rows": build.num_rows,
                    "num_excluded": excluded,
                    "num_labeled_tasks": build.num_counted_tasks,
                },
            )
        ],
    )
