"""Repository-wide pytest setup: a fixed pandas display for the docstring examples, and
every matplotlib figure closed after each test (docstring examples of ``retailcrm.plotting``
draw with pyplot, which keeps figures open until closed).

(The library itself never changes pandas options; only the test run does, so that
doctest output does not depend on the terminal.)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pandas as pd
import pytest


@pytest.fixture(autouse=True)
def _doctest_display() -> Iterator[None]:
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        yield


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    if "matplotlib.pyplot" in sys.modules:  # never import matplotlib for tests that did not
        sys.modules["matplotlib.pyplot"].close("all")
