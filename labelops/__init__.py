"""labelops: a data labeling platform that speaks Label Studio and runs its loop in Dagster."""

__version__ = "0.1.0"
