"""Training the built-in baseline text classifier: TF-IDF features and a logistic regression.

It lets the loop run with no external model: trained on the consensus labels of a project's
labeled dataset, logged to MLflow as a scikit-learn model, served by the registry predictor.

scikit-learn is imported inside the functions that use it, so importing the code location does
not load it.
"""

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

BASELINE_PARAMS: dict[str, Any] = {
    "ngram_range": "1-2",
    "min_df": 1,
    "C": 10.0,
    "max_iter": 1000,
    "test_fraction": 0.25,
    "seed": 0,
}
# Types the pipeline holds beyond scikit-learn's own, trusted when MLflow saves it with skops.
SKOPS_TRUSTED_TYPES = ["numpy.ravel"]


@dataclass(frozen=True)
class TrainedBaseline:
    """A fitted pipeline, its held-out figures and the held-out rows they were measured on.

    ``metrics`` score a pipeline fitted on the training rows only, on the rows of ``test_rows``
    (indexes into the training call's texts); ``model`` is then refitted on every row.
    """

    model: Any
    metrics: dict[str, float]
    num_train: int
    num_test: int
    test_rows: tuple[int, ...] = ()


def build_pipeline(params: dict[str, Any] = BASELINE_PARAMS) -> Any:
    """Returns an unfitted TF-IDF + logistic regression pipeline.

    Its first step flattens its input, so it takes a list of texts as well as a one-column
    table (MLflow's ``pyfunc`` flavour and serving send a DataFrame with a ``text`` column).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    low, high = (int(x) for x in str(params["ngram_range"]).split("-"))
    return Pipeline(
        [
            ("text", FunctionTransformer(np.ravel)),
            ("tfidf", TfidfVectorizer(ngram_range=(low, high), min_df=params["min_df"])),
            (
                "clf",
                LogisticRegression(
                    C=params["C"], max_iter=params["max_iter"], random_state=params["seed"]
                ),
            ),
        ]
    )


def split_holdout(
    labels: Sequence[str], test_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Returns (train, test) row indexes: a seeded, per-label split keeping each label in train.

    Every label with two or more rows gives ``max(1, round(n * test_fraction))`` rows to the test
    set; a label seen once stays in training.
    """
    rng = random.Random(seed)
    by_label: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_label.setdefault(label, []).append(index)
    train: list[int] = []
    test: list[int] = []
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        n_test = max(1, round(len(rows) * test_fraction)) if len(rows) >= 2 else 0
        test.extend(rows[:n_test])
        train.extend(rows[n_test:])
    return sorted(train), sorted(test)


def train_baseline(
    texts: Sequence[str], labels: Sequence[str], params: dict[str, Any] = BASELINE_PARAMS
) -> TrainedBaseline:
    """Returns the baseline fitted on a seeded training split, with held-out accuracy and F1.

    After scoring, the model is refitted on every row, so the served model sees all labels.

    Raises:
        ValueError: Fewer than two labels, or too few rows to hold any out.
    """
    counts = Counter(labels)
    if len(counts) < 2:
        raise ValueError(f"training needs at least two labels, got {sorted(counts)}")
    train, test = split_holdout(labels, params["test_fraction"], params["seed"])
    if not test:
        raise ValueError("training needs at least two rows of some label to hold one out")
    model = build_pipeline(params)
    model.fit([texts[i] for i in train], [labels[i] for i in train])
    metrics = evaluate(model, [texts[i] for i in test], [labels[i] for i in test])
    final = build_pipeline(params).fit(list(texts), list(labels))
    return TrainedBaseline(final, metrics, len(train), len(test), tuple(test))


def evaluate(model: Any, texts: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Returns a fitted classifier's accuracy and macro F1 on the given labeled texts."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = [str(p) for p in model.predict(list(texts))]
    truth = list(labels)
    return {
        "accuracy": float(accuracy_score(truth, predicted)),
        "f1_macro": float(f1_score(truth, predicted, average="macro", zero_division=0)),
    }


def class_probabilities(model: Any, texts: Sequence[str]) -> list[dict[str, float]]:
    """Returns one ``{label: probability}`` per text from a fitted classifier."""
    classes = [str(c) for c in model.classes_]
    return [
        {label: float(p) for label, p in zip(classes, row, strict=True)}
        for row in model.predict_proba(list(texts))
    ]
