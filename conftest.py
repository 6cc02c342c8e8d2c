"""Repository-wide pytest setup: a fixed pandas display for the docstring examples.

(The library itself never changes pandas options; only the test run does, so that
doctest output does not depend on the terminal.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _doctest_display() -> Iterator[None]:
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        yield
