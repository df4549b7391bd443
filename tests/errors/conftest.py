"""Fixtures for the classifier tests: the corpus provokers and their local servers (all on 127.0.0.1)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CORPUS_SCRIPTS = Path(__file__).resolve().parents[2] / "scripts" / "corpus"
if str(CORPUS_SCRIPTS) not in sys.path:
    sys.path.insert(0, str(CORPUS_SCRIPTS))


@pytest.fixture(scope="session")
def corpus_env() -> Iterator[Any]:
    """Local HTTP server, closed port, resetting/closing/hanging TCP servers and a temp dir."""
    from common import local_env

    with local_env() as env:
        yield env
