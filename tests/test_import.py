"""`import recoup` must stay cheap: stdlib only, public names resolvable lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import recoup


def test_import_recoup_loads_only_stdlib_modules() -> None:
    code = (
        "import sys, json; before = set(sys.modules); import recoup; "
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    added = json.loads(out)
    foreign = [
        name
        for name in added
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "recoup"
    ]
    assert foreign == []


def test_public_names_resolve() -> None:
    for name in recoup.__all__:
        assert getattr(recoup, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        recoup.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
