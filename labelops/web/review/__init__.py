"""The review stream: reviewers accept, reject (with a comment) or fix annotations."""
