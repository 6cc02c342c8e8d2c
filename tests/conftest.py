"""Shared fixtures: one test, every engine (see ``helpers.py`` for the builders)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
import pandas as pd
import pytest

from helpers import ENGINES, SHARED_DATA, make_native

hypothesis.settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.register_profile(
    "dev",
    max_examples=30,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
hypothesis.settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The name of one engine; use with :func:`make_native`."""
    return str(request.param)


@pytest.fixture
def constructor(engine: str) -> Callable[[pd.DataFrame], Any]:
    """Function turning a pandas reference frame into this engine's native frame."""
    return lambda data: make_native(engine, data)


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    """The shared CDNOW data folder; tests using it skip, saying why, if it is absent."""
    path = SHARED_DATA / "cdnow"
    if not (path / "CDNOW_master.txt").exists():
        why = f"CDNOW data not found at {path} (expected ../shared/data/cdnow beside the repo)"
        pytest.skip(reason=why)
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist (``-n``), every Spark test goes to one worker (``--dist loadgroup``),
    so a run starts one Spark session however many workers it has."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
