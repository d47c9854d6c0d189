"""Administration pages: feature flags."""
