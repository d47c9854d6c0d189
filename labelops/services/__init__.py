"""Use cases: the only code that reads or writes the labeling database (explicit sessions)."""
