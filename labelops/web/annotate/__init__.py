"""The labeling view: the annotator's stream of tasks and the tools that label them."""
