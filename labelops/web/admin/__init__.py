"""Administration pages: feature flags and users."""
