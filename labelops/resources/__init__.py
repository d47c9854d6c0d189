"""Dagster resources, one per external system: an interface, a real and a local implementation."""
