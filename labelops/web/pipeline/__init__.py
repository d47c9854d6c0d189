"""The pipeline page: storage connections, Dagster runs and dataset versions of a project."""
