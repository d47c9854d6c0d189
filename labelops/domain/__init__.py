"""Pure labeling logic: no web, pipeline, database, storage or tracking imports live here."""
