"""Dataset group: consensus labels as a versioned, content-addressed dataset in the object store."""

import io
from collections import Counter
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.orm import Session

from labelops.assets.agreement import annotator_agreement
from labelops.assets.partitions import project_id_of, project_partitions
from labelops.db.models import DatasetVersionRow, ProjectRow
from labelops.resources.database import DatabaseResource
from labelops.resources.object_store import ObjectStore
from labelops.services.exports import available_formats, export_project
from labelops.services.pipeline import (
    consensus_rows,
    content_version,
    counted_task_count,
    get_dataset_version,
    record_dataset_version,
)
from labelops.services.projects import get_project
from labelops.services.storages import StorageError
from labelops.services.target_storage import TargetWriteError, copy_to_targets

DATASET = "dataset"
HAS_ALL_TASKS = "labeled_dataset_has_all_tasks"
SCHEMA = pa.schema(
    [
        ("task_id", pa.int64()),
        ("data", pa.string()),
        ("label", pa.string()),
        ("result", pa.string()),
        ("method", pa.string()),
        ("num_annotators", pa.int32()),
        ("agreement", pa.float64()),
        ("tie", pa.bool_()),
    ]
)


def dataset_key(project_id: int, version: str, name: str = "dataset.parquet") -> str:
    """Returns the object key of a file of a dataset version."""
    return f"datasets/{project_id}/{version}/{name}"


def parquet_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Returns the rows as one Parquet file (the dataset's fixed schema)."""
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), buffer)
    return buffer.getvalue()


def _preview(rows: list[dict[str, Any]]) -> str:
    lines = ["| task_id | label | method | agreement |", "| --- | --- | --- | --- |"]
    for row in rows[:10]:
        lines.append(
            f"| {row['task_id']} | {row['label']} | {row['method']} | {row['agreement']} |"
        )
    return "\n".join(lines)


class DatasetConfig(dg.Config):
    """Export formats written beside the Parquet file (those the labeling config supports)."""

    export_formats: list[str] = ["JSON", "JSON_MIN", "CSV"]


def write_version(
    session: Session,
    project: ProjectRow,
    rows: list[dict[str, Any]],
    version: str,
    object_store: ObjectStore,
    export_formats: list[str],
) -> DatasetVersionRow:
    """Returns the recorded dataset version after writing its Parquet file and exports."""
    uri = object_store.put_bytes(dataset_key(project.id, version), parquet_bytes(rows))
    wanted = {name.upper() for name in export_formats}
    exports = []
    for fmt in available_formats(project):
        if fmt.name in wanted:
            _, stream = export_project(session, project, fmt.name)
            key = dataset_key(project.id, version, f"export_{fmt.name.lower()}{fmt.extension}")
            object_store.put_bytes(key, b"".join(stream), fmt.media_type)
            exports.append(key)
    details = {
        "label_distribution": _distribution(rows),
        "num_ties": sum(r["tie"] for r in rows),
        "exports": exports,
    }
    return record_dataset_version(
        session, project.id, version=version, uri=uri, num_tasks=len(rows), details=details
    )


def version_keys(session: Session, project_id: int, version: str) -> list[str]:
    """Returns the keys of a recorded dataset version's files: its Parquet file and exports."""
    row = get_dataset_version(session, project_id, version)
    exports = list((row.details or {}).get("exports", [])) if row is not None else []
    return [dataset_key(project_id, version), *exports]


def _distribution(rows: list[dict[str, Any]]) -> dict[str, int]:
    return dict(Counter(r["label"] for r in rows if r["label"] is not None))


@dg.asset(
    group_name=DATASET,
    partitions_def=project_partitions,
    deps=[annotator_agreement],
    kinds={"parquet", "s3"},
    check_specs=[dg.AssetCheckSpec(HAS_ALL_TASKS, asset="labeled_dataset")],
)
def labeled_dataset(
    context: dg.AssetExecutionContext,
    config: DatasetConfig,
    database: DatabaseResource,
    object_store: ObjectStore,
) -> dg.MaterializeResult:
    """Consensus labels of the project as Parquet plus its exports, under a content hash.

    Ground truth wins, then reviewer-accepted annotations, then the majority vote. The version
    is the hash of the rows (also the Dagster data version): unchanged labels make no new version.
    """
    project_id = project_id_of(context)
    with database.session() as session:
        project = get_project(session, project_id)
        rows = consensus_rows(session, project)
        version = content_version(rows)
        is_new = get_dataset_version(session, project_id, version) is None
        if is_new:
            write_version(session, project, rows, version, object_store, config.export_formats)
        # The project's target (export) storages get the version's files too.
        try:
            target_uris = copy_to_targets(
                session, project_id, object_store, version_keys(session, project_id, version)
            )
        except (StorageError, TargetWriteError) as exc:
            raise dg.Failure(description=f"target storage not written: {exc}") from exc
        expected = counted_task_count(session, project_id)
    written = pq.read_table(io.BytesIO(object_store.read_bytes(dataset_key(project_id, version))))
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version),
        metadata={
            "version": version,
            "new_version": is_new,
            "uri": object_store.uri(dataset_key(project_id, version)),
            "num_tasks": len(rows),
            "label_distribution": dg.MetadataValue.json(_distribution(rows)),
            "num_ties": sum(r["tie"] for r in rows),
            "preview": dg.MetadataValue.md(_preview(rows)),
            "target_uris": dg.MetadataValue.json(target_uris),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=HAS_ALL_TASKS,
                passed=written.num_rows == expected,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"num_rows": written.num_rows, "num_labeled_tasks": expected},
            )
        ],
    )
