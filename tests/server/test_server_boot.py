"""The server starts on both databases and publishes its OpenAPI document."""

from __future__ import annotations

import httpx
from server_support import LiveServer


def test_openapi_is_served(server: LiveServer) -> None:
    answer = httpx.get(f"{server.url}/openapi.json", timeout=10)
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "recoup"
