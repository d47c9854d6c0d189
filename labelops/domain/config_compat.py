"""Whether a new labeling config still fits the results already stored, as Label Studio checks.

Label Studio refuses a config change (and answers 400 to validating it for the project) when
annotations or drafts use a control, object, result type or label the new config no longer has.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from labelops.domain.errors import LabelConfigError
from labelops.domain.label_config import LabelConfig
from labelops.domain.label_config_validation import result_fit_problems

MAX_LISTED = 20


def check_results_fit(config: LabelConfig, results: Iterable[Any]) -> None:
    """Returns None when every stored result item still fits the new config.

    Args:
        config: The new config.
        results: The stored results (each a list of result items), streamed.

    Raises:
        LabelConfigError: Some do not; the message counts them per control, object, type and
            label, as Label Studio's does.
    """
    found: Counter[str] = Counter()
    for result in results:
        if not isinstance(result, list):
            continue
        for item in result:
            if isinstance(item, Mapping):
                found.update(result_fit_problems(config, item))
    if not found:
        return
    listed = [f"{count} with {what}" for what, count in sorted(found.items())[:MAX_LISTED]]
    more = f"\n... and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    raise LabelConfigError(
        "Created annotations are incompatible with provided labeling schema, we found:\n"
        + "\n".join(listed)
        + more
    )
