"""A project's dashboard with charts drawn by the page itself."""
