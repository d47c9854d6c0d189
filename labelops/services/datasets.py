"""Labeled datasets: the project's consensus labels written as a versioned dataset.

A dataset version is a Parquet file of one row per task (the consensus, see
:mod:`labelops.domain.consensus`), exports of the same consensus (one row or item per task) and a
``manifest.json``, all under ``datasets/<project id>/<version>/`` of the object store. The version
is the first 16 hex digits of the SHA-256 of the options and the rows, so unchanged labels make no
new version. Rows stream from the database into a temporary Parquet file in batches; the exports
are written from that file, so the Parquet file and the exports always hold the same rows.
"""

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.orm import Session

from labelops.db.models import AnnotationRow, DatasetVersionRow, ProjectRow, TaskRow
from labelops.domain.consensus import TIE_RULE
from labelops.domain.formats.options import ExportOptions
from labelops.domain.label_config import parse_label_config
from labelops.domain.records import Annotation, Task
from labelops.services.consensus import canonical_json, iter_consensus_rows
from labelops.services.exports import available_formats

MANIFEST_VERSION = 1
BATCH_ROWS = 1000
PREVIEW_ROWS = 10
SPOOL_BYTES = 32 * 1024 * 1024
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
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
        ("tie_break", pa.string()),
        ("incomplete", pa.bool_()),
    ]
)
COLUMN_DESCRIPTIONS = {
    "task_id": "The task's id.",
    "data": "The task's data as canonical JSON.",
    "label": "The first classification control's consensus value as text; null when unlabeled.",
    "result": "The consensus result (Label Studio result items) as JSON.",
    "method": "How the label was reached: ground_truth, reviewed, majority or single.",
    "num_annotators": "How many annotations the consensus was computed over.",
    "agreement": "Share of votes behind the result; null with fewer than two annotations.",
    "tie": "A vote tied and nothing broke it: the tied control is unlabeled.",
    "tie_break": "Which rule decided a tie: reviewed, ground_truth or unlabeled.",
    "incomplete": "Fewer annotations than the project's overlap, and no review or ground truth.",
}


class DatasetStore(Protocol):
    """Where dataset files are written (the pipeline's object store fits)."""

    def put_file(self, key: str, stream: IO[bytes], content_type: str = "") -> str:
        """Writes the object from a binary stream and returns its URI."""
        ...

    def put_json(self, key: str, obj: Any) -> str:
        """Writes the object as JSON and returns its URI."""
        ...

    def uri(self, key: str) -> str:
        """Returns the URI of the object with that key."""
        ...


def dataset_key(project_id: int, version: str, name: str = "dataset.parquet") -> str:
    """Returns the object key of a file of a dataset version."""
    return f"datasets/{project_id}/{version}/{name}"


@dataclass(frozen=True, slots=True)
class DatasetOptions:
    """Which consensus rows a dataset keeps and which exports it ships.

    Attributes:
        include_ties: Keep tasks whose tie was left unlabeled (their label is null).
        include_incomplete: Keep tasks with fewer annotations than the project's overlap.
        export_formats: Export formats written beside the Parquet file; those the labeling
            config does not support are listed in the manifest as skipped.
    """

    include_ties: bool = False
    include_incomplete: bool = False
    export_formats: tuple[str, ...] = ("JSON", "JSON_MIN", "CSV")

    def to_dict(self) -> dict[str, Any]:
        """Returns the options as a JSON-ready dict."""
        out = asdict(self)
        out["export_formats"] = sorted({name.upper() for name in self.export_formats})
        return out


@dataclass(slots=True)
class _Tally:
    """Counts over the rows as they stream past."""

    num_consensus_tasks: int = 0
    num_rows: int = 0
    num_ties: int = 0
    num_incomplete: int = 0
    excluded_ties: int = 0
    excluded_incomplete: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    agreement_sum: dict[str, float] = field(default_factory=dict)
    agreement_n: Counter[str] = field(default_factory=Counter)
    agreement_total: float = 0.0
    agreement_count: int = 0
    agreement_min: float | None = None
    agreement_max: float | None = None
    preview: list[dict[str, Any]] = field(default_factory=list)

    def keep(self, row: dict[str, Any], options: DatasetOptions) -> bool:
        """Returns whether the options keep the row, counting it either way."""
        self.num_consensus_tasks += 1
        self.num_ties += row["tie"]
        self.num_incomplete += row["incomplete"]
        if row["tie"] and not options.include_ties:
            self.excluded_ties += 1
            return False
        if row["incomplete"] and not options.include_incomplete:
            self.excluded_incomplete += 1
            return False
        self.num_rows += 1
        label = row["label"]
        if label is not None:
            self.labels[label] += 1
        value = row["agreement"]
        if value is not None:
            self.agreement_total += value
            self.agreement_count += 1
            self.agreement_min = (
                value if self.agreement_min is None else min(self.agreement_min, value)
            )
            self.agreement_max = (
                value if self.agreement_max is None else max(self.agreement_max, value)
            )
            if label is not None:
                self.agreement_sum[label] = self.agreement_sum.get(label, 0.0) + value
                self.agreement_n[label] += 1
        if len(self.preview) < PREVIEW_ROWS:
            self.preview.append(row)
        return True

    def agreement_summary(self) -> dict[str, Any]:
        """Returns the mean, min and max consensus agreement of the kept rows that have one."""
        count = self.agreement_count
        return {
            "num_tasks_with_agreement": count,
            "mean": self.agreement_total / count if count else None,
            "min": self.agreement_min,
            "max": self.agreement_max,
        }

    def per_label(self) -> dict[str, dict[str, Any]]:
        """Returns ``{label: {num_tasks, mean_agreement}}`` over the kept rows, by label."""
        return {
            label: {
                "num_tasks": count,
                "mean_agreement": (
                    self.agreement_sum[label] / self.agreement_n[label]
                    if self.agreement_n[label]
                    else None
                ),
            }
            for label, count in sorted(self.labels.items())
        }


@dataclass(frozen=True, slots=True)
class DatasetBuild:
    """The dataset version a build produced (or found already written) and its figures."""

    version: str
    uri: str
    manifest_uri: str
    is_new: bool
    num_rows: int
    num_consensus_tasks: int
    num_counted_tasks: int
    manifest: dict[str, Any]
    preview: list[dict[str, Any]]


def _write_rows(
    rows: Iterator[dict[str, Any]], options: DatasetOptions, out: IO[bytes], tally: _Tally
) -> str:
    """Returns the version after streaming the kept rows into ``out`` as Parquet, in batches."""
    digest = hashlib.sha256(canonical_json(options.to_dict()).encode())
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(out, SCHEMA) as writer:
        for row in rows:
            if not tally.keep(row, options):
                continue
            digest.update(canonical_json(row).encode())
            digest.update(b"\n")
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCHEMA))
                batch = []
        if batch:
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=SCHEMA))
    return digest.hexdigest()[:16]


def _consensus_tasks(parquet: IO[bytes]) -> Iterator[Task]:
    """Yields each row of the Parquet file as a task holding one annotation: its consensus."""
    for batch in pq.ParquetFile(parquet).iter_batches(
        batch_size=BATCH_ROWS, columns=["task_id", "data", "result"]
    ):
        for row in batch.to_pylist():
            consensus = Annotation(result=json.loads(row["result"]))
            yield Task(data=json.loads(row["data"]), id=row["task_id"], annotations=(consensus,))


def _write_exports(
    project: ProjectRow, version: str, parquet: IO[bytes], store: DatasetStore, wanted: set[str]
) -> tuple[list[str], list[str]]:
    """Returns the keys of the consensus exports written and the wanted formats left out."""
    config = parse_label_config(project.label_config)
    options = ExportOptions(include_predictions=False, download_all_tasks=False)
    written, offered = [], set()
    for fmt in available_formats(project):
        offered.add(fmt.name)
        if fmt.name not in wanted:
            continue
        parquet.seek(0)
        key = dataset_key(project.id, version, f"export_{fmt.name.lower()}{fmt.extension}")
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as out:
            for chunk in fmt.stream(_consensus_tasks(parquet), config, options):
                out.write(chunk)
            out.seek(0)
            store.put_file(key, out, fmt.media_type)
        written.append(key)
    return written, sorted(wanted - offered)


def build_dataset(
    session: Session, project: ProjectRow, store: DatasetStore, options: DatasetOptions
) -> DatasetBuild:
    """Returns the project's dataset version for the options, writing it when it is new.

    A new version writes, in order, the Parquet file, the consensus exports and
    ``manifest.json``, then records the version in the database (so a failed write leaves no
    recorded version). An existing version is not written again.

    Args:
        session: An open session (the rows stream from it).
        project: The project.
        store: Where dataset files go.
        options: Which rows to keep and which exports to write.
    """
    tally = _Tally()
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as parquet:
        version = _write_rows(iter_consensus_rows(session, project), options, parquet, tally)
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "project_id": project.id,
            "version": version,
            "options": options.to_dict(),
            "overlap": project.maximum_annotations,
            "tie_rule": TIE_RULE,
            "counts": {
                "num_rows": tally.num_rows,
                "num_consensus_tasks": tally.num_consensus_tasks,
                "num_ties": tally.num_ties,
                "num_incomplete": tally.num_incomplete,
                "excluded_ties": tally.excluded_ties,
                "excluded_incomplete": tally.excluded_incomplete,
                "label_distribution": dict(sorted(tally.labels.items())),
            },
            "agreement": {**tally.agreement_summary(), "per_label": tally.per_label()},
            "columns": COLUMN_DESCRIPTIONS,
        }
        key = dataset_key(project.id, version)
        manifest_key = dataset_key(project.id, version, "manifest.json")
        existing = get_dataset_version(session, project.id, version)
        if existing is None:
            parquet.seek(0)
            uri = store.put_file(key, parquet, PARQUET_MEDIA_TYPE)
            wanted = {name.upper() for name in options.export_formats}
            exports, skipped = _write_exports(project, version, parquet, store, wanted)
            manifest["files"] = {"dataset": key, "exports": exports, "skipped_exports": skipped}
            store.put_json(manifest_key, manifest)
            _record_dataset_version(
                session,
                project.id,
                version=version,
                uri=uri,
                num_tasks=tally.num_rows,
                details={
                    "label_distribution": dict(sorted(tally.labels.items())),
                    "num_ties": tally.num_ties,
                    "exports": exports,
                    "manifest": store.uri(manifest_key),
                },
            )
        else:
            uri = existing.uri
            manifest["files"] = {
                "dataset": key,
                "exports": list(existing.details.get("exports", [])),
            }
    return DatasetBuild(
        version=version,
        uri=uri,
        manifest_uri=store.uri(manifest_key),
        is_new=existing is None,
        num_rows=tally.num_rows,
        num_consensus_tasks=tally.num_consensus_tasks,
        num_counted_tasks=counted_task_count(session, project.id),
        manifest=manifest,
        preview=tally.preview,
    )


def counted_task_count(session: Session, project_id: int) -> int:
    """Returns how many tasks have an annotation that counts (finished and not rejected)."""
    counts = sa.exists().where(
        AnnotationRow.task_id == TaskRow.id,
        AnnotationRow.was_cancelled.is_(False),
        sa.or_(AnnotationRow.review_state.is_(None), AnnotationRow.review_state != "rejected"),
    )
    query = sa.select(sa.func.count(TaskRow.id)).where(TaskRow.project_id == project_id, counts)
    return int(session.scalar(query) or 0)


def get_dataset_version(
    session: Session, project_id: int, version: str
) -> DatasetVersionRow | None:
    """Returns the project's dataset version row, or None."""
    return session.scalar(
        sa.select(DatasetVersionRow).where(
            DatasetVersionRow.project_id == project_id, DatasetVersionRow.version == version
        )
    )


def _record_dataset_version(
    session: Session,
    project_id: int,
    *,
    version: str,
    uri: str,
    num_tasks: int,
    details: dict[str, Any],
) -> DatasetVersionRow:
    """Returns the stored dataset version (the existing row when that version exists)."""
    existing = get_dataset_version(session, project_id, version)
    if existing is not None:
        return existing
    row = DatasetVersionRow(
        project_id=project_id, version=version, uri=uri, num_tasks=num_tasks, details=details
    )
    session.add(row)
    session.flush()
    return row


def list_dataset_versions(session: Session, project_id: int) -> list[DatasetVersionRow]:
    """Returns the project's dataset versions, newest first."""
    return list(
        session.scalars(
            sa.select(DatasetVersionRow)
            .where(DatasetVersionRow.project_id == project_id)
            .order_by(DatasetVersionRow.id.desc())
        )
    )
