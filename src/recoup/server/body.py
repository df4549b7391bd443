"""Reading request bodies within limits: the bytes sent (413 past ``max_request_bytes``) and what they
decompress to (413 past ``max_decompressed_bytes``, so a gzip bomb costs us nothing).

Encodings: identity, gzip, deflate, and br (brotli) — sentry-sdk switches to brotli by itself whenever the
``brotli`` package is installed in the application, so refusing it would lose those apps' events."""

from __future__ import annotations

import zlib

from fastapi import HTTPException
from starlette.requests import Request

from recoup.server.settings import ServerSettings

_DECODERS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def too_large(what: str, limit: int) -> HTTPException:
    return HTTPException(413, f"{what} exceeds the limit of {limit} bytes")


async def read_raw(request: Request, settings: ServerSettings) -> bytes:
    """The body as sent, refusing early on a declared or streamed size over the limit."""
    limit = settings.max_request_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, "Content-Length must be a non-negative integer")
        if int(declared) > limit:
            raise too_large("request body", limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large("request body", limit)
        chunks.append(chunk)
    return b"".join(chunks)


def decompress(data: bytes, encoding: str, limit: int) -> bytes:
    """``data`` decoded per Content-Encoding (identity, gzip, deflate), at most ``limit`` bytes out."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(data) > limit:
            raise too_large("decompressed body", limit)
        return data
    if encoding == "br":
        return _unbrotli(data, limit)
    wbits = _DECODERS.get(encoding)
    if wbits is None:
        raise HTTPException(415, f"unsupported Content-Encoding {encoding!r}; use gzip, deflate, br or identity")
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(data, limit + 1)
        if len(out) > limit or decoder.unconsumed_tail:
            raise too_large("decompressed body", limit)
        out += decoder.flush()
    except zlib.error as exc:
        raise HTTPException(400, f"body is not valid {encoding}: {exc}") from None
    if len(out) > limit:
        raise too_large("decompressed body", limit)
    if not decoder.eof:
        raise HTTPException(400, f"body is truncated {encoding} data")
    return out


def _unbrotli(data: bytes, limit: int) -> bytes:
    """Brotli, decoded in bounded steps so a bomb stops at ``limit``."""
    import brotli  # type: ignore[import-untyped]  # server extra; imported here, only brotli bodies pay

    decoder = brotli.Decompressor()
    try:
        out = decoder.process(data, output_buffer_limit=limit + 1)
        while len(out) <= limit and not decoder.is_finished() and not decoder.can_accept_more_data():
            out += decoder.process(b"", output_buffer_limit=limit + 1 - len(out))
    except brotli.error as exc:
        raise HTTPException(400, f"body is not valid br: {exc}") from None
    if len(out) > limit:
        raise too_large("decompressed body", limit)
    if not decoder.is_finished():
        raise HTTPException(400, "body is truncated br data")
    return bytes(out)


async def read_body(request: Request, settings: ServerSettings) -> bytes:
    """The decompressed body, within both limits."""
    raw = await read_raw(request, settings)
    return decompress(raw, request.headers.get("content-encoding", ""), settings.max_decompressed_bytes)
