"""Each injected fault is provoked for real and fails with the exception its category predicts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import urllib.error
from collections.abc import Iterator

import pytest

from recoup.assess.faults import (
    PERMANENT_FAULTS,
    TRANSIENT_FAULTS,
    FaultContext,
    FaultKind,
    real_work,
    scratch_dir,
)
from recoup.assess.fixtures import LocalHTTPServer, closed_port

EXPECTED: dict[str, type[BaseException]] = {
    "connection-refused": ConnectionRefusedError,
    "http-503": urllib.error.HTTPError,
    "http-502": urllib.error.HTTPError,
    "http-429": urllib.error.HTTPError,
    "memory-error": MemoryError,
    "missing-file": FileNotFoundError,
    "not-a-git-repository": subprocess.CalledProcessError,
    "bad-json": ValueError,
    "http-401": urllib.error.HTTPError,
    "attribute-error": AttributeError,
}


@pytest.fixture(scope="module")
def ctx() -> Iterator[FaultContext]:
    folder = scratch_dir()
    try:
        with LocalHTTPServer() as server:
            yield FaultContext(server.base_url, closed_port(), folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("fault", TRANSIENT_FAULTS + PERMANENT_FAULTS, ids=lambda f: f.name)
def test_fault_raises_real_exception(fault: FaultKind, ctx: FaultContext) -> None:
    with pytest.raises(EXPECTED[fault.name]):
        asyncio.run(fault.provoke(ctx))


def test_real_work_succeeds(ctx: FaultContext) -> None:
    asyncio.run(real_work(ctx))
