"""Who may review: managers, reviewers and administrators (annotators get 403)."""

from labelops.web.projects.policies import can_review

__all__ = ["can_review"]
