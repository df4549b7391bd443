"""Who may do what, on both databases: ingest keys write only to their own project, admin tokens (from the
environment or issued by the store) read and manage, and every other credential is turned away."""

from __future__ import annotations

from typing import Any

import httpx
from server_support import LiveServer

from recoup.telemetry.events import ErrorEvent


def _batch() -> dict[str, Any]:
    return {"events": [ErrorEvent(exception_type="OSError", message="disk full", fingerprint="fp-disk").to_dict()]}


# -- ingest keys --------------------------------------------------------------------------------------


def test_ingest_refuses_missing_unknown_revoked_and_foreign_keys(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:

        def ingest(headers: dict[str, str], path: str = "/api/v1/events") -> httpx.Response:
            return client.post(path, json=_batch(), headers=headers)

        missing = ingest({})
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert "missing" in missing.json()["detail"]
        assert ingest({"Authorization": "Basic abc"}).status_code == 401

        unknown = ingest({"Authorization": "Bearer " + "0" * 32})
        assert unknown.status_code == 401
        assert "unknown" in unknown.json()["detail"]
        assert ingest({"X-Recoup-Key": "f" * 500}).status_code == 401

        _other, other_key = server.store.create_project("Billing")
        foreign = ingest(
            {"Authorization": f"Bearer {other_key.public_key}"}, f"/api/v1/projects/{server.project.id}/events"
        )
        assert foreign.status_code == 403
        assert f"project {server.project.id}" in foreign.json()["detail"]
        assert server.store.count_events() == 0

        # revocation takes effect at once, although the server had the key cached
        key = server.store.create_key(server.project.id)
        headers = {"Authorization": f"Bearer {key.public_key}"}
        assert ingest(headers).status_code == 200
        revoked = client.delete(f"/api/v1/projects/{server.project.id}/keys/{key.id}", headers=server.admin_headers)
        assert revoked.status_code == 200 and revoked.json()["active"] is False
        before = server.store.count_events()
        refused = ingest(headers)
        # a revoked key is told apart from an unknown one
        assert refused.status_code == 403 and "revoked" in refused.json()["detail"], refused.text
        assert server.store.count_events() == before
        assert ingest(server.ingest_headers).status_code == 200  # the project's other key still works


# -- admin tokens -------------------------------------------------------------------------------------

ADMIN_ROUTES = [
    ("GET", "/api/v1/projects", None),
    ("POST", "/api/v1/projects", {"name": "Sneaky"}),
    ("GET", "/api/v1/projects/{pid}", None),
    ("GET", "/api/v1/projects/{pid}/groups", None),
    ("GET", "/api/v1/projects/{pid}/events", None),
    ("GET", "/api/v1/projects/{pid}/events/abc", None),
    ("GET", "/api/v1/projects/{pid}/keys", None),
    ("POST", "/api/v1/projects/{pid}/keys", None),
    ("DELETE", "/api/v1/projects/{pid}/keys/{kid}", None),
    ("GET", "/api/v1/groups/1", None),
    ("GET", "/api/v1/groups/1/events", None),
    ("PATCH", "/api/v1/groups/1", {"status": "resolved"}),
    ("GET", "/api/v1/alerts", None),
]


def test_admin_credentials(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:

        def call(method: str, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
            return client.request(
                method, path.format(pid=server.project.id, kid=server.key.id), json=body, headers=headers
            )

        for method, path, body in ADMIN_ROUTES:
            missing = call(method, path, body, {})
            assert missing.status_code == 401, (method, path, missing.text)
            wrong = call(method, path, body, {"Authorization": "Bearer not-the-admin-token-at-all"})
            assert wrong.status_code == 403, (method, path, wrong.text)
            ingest = call(method, path, body, server.ingest_headers)
            assert ingest.status_code == 403, (method, path, ingest.text)
        # nothing was changed by the refused writes
        assert [p.name for p in server.store.list_projects()] == ["Checkout API"]
        (key,) = server.store.list_keys(server.project.id)
        assert key.active

        # the token from the environment (any case of "Bearer")
        for scheme in ("Bearer", "bearer"):
            assert client.get(
                "/api/v1/projects", headers={"Authorization": f"{scheme} {server.admin_token}"}
            ).is_success

        # a token issued by the store works until it is revoked
        token, record = server.store.create_admin_token("ci")
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/projects", headers=headers).status_code == 200
        assert server.store.revoke_admin_token(record.id)
        assert client.get("/api/v1/projects", headers=headers).status_code == 403

        # probes need no token, and reveal no data
        for path in ("/healthz", "/readyz", "/metrics"):
            assert client.get(path).status_code == 200
        assert server.key.public_key not in client.get("/metrics").text
