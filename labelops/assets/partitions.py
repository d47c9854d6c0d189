"""Partitions of the pipeline: one dynamic partition per labeling project (key = project id)."""

import dagster as dg

from labelops.domain.pipeline_jobs import PROJECT_PARTITIONS

project_partitions = dg.DynamicPartitionsDefinition(name=PROJECT_PARTITIONS)


def project_id_of(context: dg.AssetExecutionContext) -> int:
    """Returns the project id that the run's partition key names."""
    return int(context.partition_key)
