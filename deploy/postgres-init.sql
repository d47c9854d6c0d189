-- Runs once, when the PostgreSQL volume is created: the Dagster instance and MLflow get their
-- own databases next to labelops.
CREATE DATABASE dagster OWNER labelops;
CREATE DATABASE mlflow OWNER labelops;
