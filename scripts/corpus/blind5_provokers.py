"""Fifth and last batch of held-out provokers, written after the fourth batch had been folded into dev
and after the generic weak rules were added; kept in heldout.jsonl and evaluated once, blind."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import Env, Record, failure_text, git_env, git_failure_records, python_case_records, record, run
from runtime_provokers import go_records, java_records

BLIND5_SOURCES = frozenset({"py-extra3", "libs-extra", "node-extra3", "go-extra3", "java-extra3", "git-extra2",
                            "shell-extra2"})
_GIT_ENV = git_env("blind5")


def _py_cases(env: Env) -> list[tuple[str, str, str, Callable[[], Any]]]:
    def smtp_disconnected() -> None:
        import smtplib

        smtplib.SMTP("127.0.0.1", env.empty_port, timeout=2)

    def imap_refused() -> None:
        import imaplib

        imaplib.IMAP4("127.0.0.1", env.closed_port)

    def wave_bad() -> None:
        import io
        import wave

        with wave.open(io.BytesIO(b"not a wave file at all" * 4)):
            pass

    def lzma_bad() -> None:
        import lzma

        lzma.decompress(b"not xz data")

    def bz2_bad() -> None:
        import bz2

        bz2.decompress(b"not bz2 data")

    def zlib_bad() -> None:
        import zlib

        zlib.decompress(b"not zlib data")

    def b32_bad() -> None:
        import base64

        base64.b32decode("!!!!!!!!")

    def bad_day() -> None:
        import datetime

        datetime.date(2024, 2, 30)

    def bindings() -> None:
        import sqlite3

        sqlite3.connect(":memory:").execute("SELECT ?", (1, 2))

    def format_index() -> None:
        template = "{0} and {1}"
        template.format("only one")

    def sort_mixed() -> None:
        sorted([3, "three"])  # type: ignore[list-item]

    def no_process() -> None:
        import os

        os.kill(2_000_000_000, 0)

    def pydantic_undefined() -> None:
        import pydantic

        class Order(pydantic.BaseModel):
            customer: CustomerRecordBlind5  # type: ignore[name-defined]  # noqa: F821

        Order(customer=1)

    def jsonschema_ref() -> None:
        import jsonschema

        jsonschema.Draft7Validator({"$ref": "#/definitions/missing"}).validate({})

    def yaml_tag() -> None:
        import yaml

        yaml.safe_load("!!python/object:os.system x")

    return [
        ("smtp_disconnected", "network", "py-extra3", smtp_disconnected),
        ("imap_refused", "network", "py-extra3", imap_refused),
        ("wave_bad", "validation", "py-extra3", wave_bad),
        ("lzma_bad", "validation", "py-extra3", lzma_bad),
        ("bz2_bad", "validation", "py-extra3", bz2_bad),
        ("zlib_bad", "validation", "py-extra3", zlib_bad),
        ("b32_bad", "validation", "py-extra3", b32_bad),
        ("bad_day", "validation", "py-extra3", bad_day),
        ("sqlite_bindings", "programming", "py-extra3", bindings),
        ("format_index", "programming", "py-extra3", format_index),
        ("sort_mixed", "programming", "py-extra3", sort_mixed),
        ("no_such_process", "unknown", "py-extra3", no_process),
        ("pydantic_undefined", "programming", "libs-extra", pydantic_undefined),
        ("jsonschema_bad_ref", "programming", "libs-extra", jsonschema_ref),
        ("yaml_unknown_tag", "validation", "libs-extra", yaml_tag),
    ]


NODE: list[tuple[str, str, str]] = [
    ("node_bad_regexp", "programming", "new RegExp('(unclosed')"),
    ("node_bad_digest", "programming", "require('crypto').createHash('md7')"),
    ("node_chdir_missing", "filesystem", "process.chdir('/srv/blind5/missing')"),
    ("node_fetch_504", "service",
     "const r = await fetch('HTTPURL/status/504'); if (!r.ok) throw new Error(`${r.status} ${r.statusText}`)"),
]

GO: dict[str, tuple[str, str]] = {
    "bad_glob": ("programming", '_, err := filepath.Match("[", "x"); fail(err)'),
    "marshal_chan": ("programming", '_, err := json.Marshal(make(chan int)); fail(err)'),
    "bad_duration": ("validation", '_, err := time.ParseDuration("5 minutes"); fail(err)'),
    "status_504": ("service", 'r, err := http.Get("http://127.0.0.1:HTTP/status/504"); fail(err); '
                              'if r.StatusCode >= 400 { log.Fatalf("upstream answered %s", r.Status) }'),
    "symlink_exists": ("filesystem", 'err := os.Symlink("/tmp", "/etc"); fail(err)'),
}
GO_IMPORTS = '\t"path/filepath"\n'

JAVA: dict[str, tuple[str, str]] = {
    "create_under_file": ("filesystem", 'java.nio.file.Files.createDirectories('
                                        'java.nio.file.Path.of("/etc/hostname/x"));'),
    "charset": ("validation", 'java.nio.charset.Charset.forName("no-such-charset");'),
    "empty_iterator": ("programming", 'new java.util.ArrayList<Integer>().iterator().next();'),
    "format_conversion": ("programming", 'String.format("%d", "text");'),
}


def _git(env: Env) -> list[tuple[str, list[str]]]:
    return [
        ("git_nothing_to_amend", ["commit", "--amend", "-m", "x"]),
        ("git_no_merge_to_abort", ["merge", "--abort"]),
        ("git_no_cherry_pick", ["cherry-pick", "--continue"]),
        ("git_worktree_checked_out", ["worktree", "add", str(env.tmp / "blind5-wt"), "main"]),
    ]


SHELL: list[tuple[str, str, str]] = [
    ("shell_hard_link_xdev", "filesystem", "ln /dev/shm /tmp/blind5-link-dir"),
    ("shell_kill_missing", "unknown", "kill -9 2000000000"),
    ("shell_seq_bad", "validation", "seq abc"),
    ("shell_head_bad", "validation", "head -n lots /etc/hostname"),
    ("shell_numfmt_bad", "validation", "numfmt --from=iec 12Q"),
    ("shell_cp_into_missing", "filesystem", "cp /etc/hostname /srv/blind5/missing/dir/"),
]


def blind5_records(env: Env) -> list[Record]:
    out: list[Record] = python_case_records(_py_cases(env))
    for name, category, script in NODE:
        flags = ["--input-type=module"] if "await" in script else []
        text = failure_text(run(["node", *flags, "-e", script.replace("HTTPURL", env.http)], cwd=env.tmp))
        out.append(record(text, category, "node-extra3", "stderr", name))
    out.extend(go_records(env, {k: (c, b.replace("HTTP", str(env.http_port))) for k, (c, b) in GO.items()},
                          "go-extra3", GO_IMPORTS))
    out.extend(java_records(env, JAVA, "java-extra3"))
    repo = env.tmp / "blind5-repo"
    repo.mkdir()
    run(["git", "init", "-q", "-b", "main"], cwd=repo, env=_GIT_ENV)

    def set_up(name: str) -> None:
        if name == "git_worktree_checked_out":
            run(["git", "commit", "-q", "--allow-empty", "-m", "one"], cwd=repo, env=_GIT_ENV)

    out.extend(git_failure_records(_git(env), repo, "git-extra2", _GIT_ENV, before=set_up))
    for name, category, script in SHELL:
        try:
            text = failure_text(run(["bash", "-c", script], cwd=env.tmp))
        except RuntimeError:
            print(f"problem: {name}: no failure", file=sys.stderr)
            continue
        if text:
            out.append(record(text, category, "shell-extra2", "stderr", name))
    Path(env.tmp / "blind5-link-dir").unlink(missing_ok=True)
    return out


__all__ = ["BLIND5_SOURCES", "blind5_records"]
