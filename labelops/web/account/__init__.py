"""The signed-in user's own pages: the personal API token."""
