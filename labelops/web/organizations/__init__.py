"""The organization page: its admins manage its members; every user switches organizations."""
