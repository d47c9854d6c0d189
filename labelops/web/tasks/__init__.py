"""The data manager (a keyset-paged table of a project's tasks) and the task page."""
