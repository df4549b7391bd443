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
    TIMEOUT_FAULTS,
    TRANSIENT_FAULTS,
    FaultContext,
    FaultKind,
    StallingPeer,
    real_work,
    scratch_dir,
)
from recoup.assess.fixtures import LocalHTTPServer, closed_port
from recoup.policies.errors import DeadlineExceeded
from recoup.policies.timeout import Timeout

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
    "unexplained-exit": subprocess.CalledProcessError,
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


@pytest.mark.parametrize("fault", TIMEOUT_FAULTS, ids=lambda f: f.name)
def test_hung_upstream_is_ended_by_a_timeout(fault: FaultKind, ctx: FaultContext) -> None:
    with StallingPeer() as peer:
        stalled = FaultContext(ctx.base_url, ctx.closed_port, ctx.scratch_dir, peer.port)
        with pytest.raises(DeadlineExceeded):
            asyncio.run(Timeout(0.2).wrap_async(fault.provoke)(stalled))


def test_hang_fault_without_a_stalling_peer_says_so(ctx: FaultContext) -> None:
    with pytest.raises(RuntimeError, match="stall_port"):
        asyncio.run(TIMEOUT_FAULTS[0].provoke(ctx))


HTTP_FAULTS = {"http-503": (503, "service", 0.0), "http-502": (502, "service", None),
               "http-429": (429, "resource", 0.0), "http-401": (401, "auth", None)}


def test_http_faults_through_aiohttp_against_the_upstream_process_are_real_client_errors() -> None:
    """Through the load phase's client, each HTTP fault is aiohttp's own error, with the status and the server's
    Retry-After that classification and backoff read."""
    aiohttp = pytest.importorskip("aiohttp")
    from recoup.assess.faults import AiohttpGet
    from recoup.assess.fixtures import UpstreamProcess
    from recoup.errors.classifier import classify, retry_after_of

    faults = {f.name: f for f in TRANSIENT_FAULTS + PERMANENT_FAULTS if f.name in HTTP_FAULTS}
    seen: dict[str, tuple[int, str, float | None]] = {}

    async def provoke_all(base_url: str) -> None:
        async with aiohttp.ClientSession() as session:
            ctx = FaultContext(base_url, closed_port(), "/nonexistent", http=AiohttpGet(base_url, session))
            await real_work(ctx)
            for name, fault in faults.items():
                with pytest.raises(aiohttp.ClientResponseError) as caught:
                    await fault.provoke(ctx)
                err = caught.value
                seen[name] = (err.status, classify(err).category.value, retry_after_of(err))

    with UpstreamProcess() as upstream:
        asyncio.run(provoke_all(upstream.base_url))
    assert seen == HTTP_FAULTS
