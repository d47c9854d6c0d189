"""Sample data shipped with labelops for the demo project."""
