"""The miner's state file: plain JSON with a versioned schema, written atomically (never pickle).

A reader rejects a file of another schema or a newer version with an error naming the field, so a bad
state file stops the run instead of silently re-numbering every template.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from recoup.analytics.templates_tree import Cluster

SCHEMA = "recoup.templates"
VERSION = 2  # 2 added "family" (absent in version 1: every template its own family)


class StateError(ValueError):
    """A state file that cannot be used; the message names the file and the field."""


def dump_state(path: Path, settings: dict[str, Any], clusters: list[Cluster]) -> None:
    """Write the state to ``path`` atomically: a temporary file in the same folder, fsynced, then renamed."""
    document = {
        "schema": SCHEMA,
        "version": VERSION,
        "settings": settings,
        "templates": [_entry(c) for c in clusters],
    }
    directory = path.resolve().parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, ensure_ascii=False, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _entry(cluster: Cluster) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": cluster.template_id, "tokens": cluster.tokens, "size": cluster.size}
    if cluster.family != cluster.template_id:
        entry["family"] = cluster.family
    return entry


def _field(path: Path, name: str, value: object, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StateError(f"{path}: field {name!r} must be {kind.__name__}, got {type(value).__name__}")
    return value


def load_state(path: Path) -> tuple[dict[str, Any], list[Cluster]]:
    """The settings and clusters saved in ``path``; `StateError` when the file is not a usable state."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise StateError(f"{path}: not valid JSON ({exc})") from exc
    _field(path, "(document)", document, dict)
    if document.get("schema") != SCHEMA:
        raise StateError(f"{path}: field 'schema' must be {SCHEMA!r}, got {document.get('schema')!r}")
    version = _field(path, "version", document.get("version"), int)
    if version > VERSION:
        raise StateError(f"{path}: field 'version' is {version}, newer than this recoup reads ({VERSION})")
    settings = _field(path, "settings", document.get("settings"), dict)
    clusters: list[Cluster] = []
    seen: set[str] = set()
    for i, item in enumerate(_field(path, "templates", document.get("templates"), list)):
        _field(path, f"templates[{i}]", item, dict)
        template_id = _field(path, f"templates[{i}].id", item.get("id"), str)
        tokens = _field(path, f"templates[{i}].tokens", item.get("tokens"), list)
        if not all(isinstance(t, str) for t in tokens):
            raise StateError(f"{path}: field 'templates[{i}].tokens' must hold only strings")
        size = _field(path, f"templates[{i}].size", item.get("size"), int)
        if template_id in seen:
            raise StateError(f"{path}: field 'templates[{i}].id' repeats {template_id!r}")
        family = _field(path, f"templates[{i}].family", item.get("family", template_id), str)
        if family != template_id and family not in seen:
            raise StateError(f"{path}: field 'templates[{i}].family' names no earlier template: {family!r}")
        seen.add(template_id)
        clusters.append(Cluster(template_id, list(tokens), size, family))
    return settings, clusters
