"""Admin tokens: shown once, stored only as a sha256 and a display prefix, verified in constant time."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import text

from recoup.store import InvalidInput, Store


def _stored_values(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM admin_tokens")).all()
    return [str(value) for row in rows for value in row]


def test_plaintext_is_never_stored(store: Store) -> None:
    token, record = store.create_admin_token("ops")
    assert token.startswith("rcp_") and len(token) >= 40
    assert record.prefix == token[:8]
    values = _stored_values(store)
    assert hashlib.sha256(token.encode()).hexdigest() in values
    assert not any(token in v or token[8:] in v for v in values)
    assert store.list_admin_tokens() == [record]


def test_plaintext_is_not_in_the_sqlite_file(tmp_path: Path) -> None:
    from recoup.store import open_store

    path = tmp_path / "t.db"
    with open_store(f"sqlite:///{path}") as store:
        token, _ = store.create_admin_token()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("t.db"))
    assert token[8:].encode() not in raw


def test_verify_accepts_only_live_tokens(store: Store) -> None:
    token, record = store.create_admin_token("ci")
    other, _ = store.create_admin_token("other")
    assert store.verify_admin_token(token)
    assert store.verify_admin_token(other)
    assert not store.verify_admin_token(token + "x")
    assert not store.verify_admin_token(token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert not store.verify_admin_token("")
    assert not store.verify_admin_token("rcp_")
    assert store.revoke_admin_token(record.id)
    assert not store.revoke_admin_token(record.id)
    assert not store.verify_admin_token(token)
    assert store.verify_admin_token(other)


def test_supplied_token_is_registered_once(store: Store) -> None:
    supplied = "env-token-0123456789abcdefghij"
    plaintext, first = store.create_admin_token("env", token=supplied)
    assert plaintext == supplied
    _, again = store.create_admin_token("env", token=supplied)
    assert again.id == first.id
    assert store.verify_admin_token(supplied)
    with pytest.raises(InvalidInput, match="at least 24 characters") as info:
        store.create_admin_token(token="short")
    assert info.value.field == "token"
