"""The labeling database: SQLAlchemy 2.0 models on one declarative base, engines and migrations."""
