"""Sixty-sixth batch of blind provokers: git as automation meets it on the server side, against remotes served on
127.0.0.1 by this batch (blind66_support): `git daemon` over git:// (a repository not exported, push not enabled,
a closed port, a peer that resets, a missing branch or commit, an unshallow of a complete clone, clone targets
that are full, read-only or already there), `git http-backend` behind a small HTTP forge (wrong or missing basic
auth, a 403 on push, a crashing backend, 503/502/429 fronts, a closed port, an empty reply, a stalled server,
non-fast-forward pushes, pre-receive and update hooks declining, receive.denyNonFastForwards, a shallow push,
a remote on a full disk, a URL with a bad port), submodules whose URL points at a closed port, an unexported or
password-protected repository, a 503, or a repository that lacks the recorded commit, worktrees and bundles
(a branch already checked out, truncated or foreign bundle files, missing prerequisites, a full disk), and the
same remotes through GitPython and dulwich. Only 127.0.0.1."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from blind66_support import GIT_ENV66, PASSWORD, USER, Forge, serve_forge
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND66_SOURCES = frozenset({"git-daemon66", "git-http66", "git-submodule66", "git-worktree66", "git-bundle66",
                             "gitpython66", "dulwich66"})

#: every tool case starts in a fresh directory and stops at the first failing command
_START = "set -e; cd \"$(mktemp -d -p TMP)\"; "
_COMMIT = "echo change-$RANDOM >> deploy.yml && git commit -qam change; "

DAEMON: list[ToolCase] = [
    ("daemon_clone_not_exported", "auth", "not exported|access denied", "git clone -q D/private.git"),
    ("daemon_push_not_enabled", "auth", "not exported|access denied",
     "git clone -q D/app.git && cd app && " + _COMMIT + "git push -q origin main"),
    ("daemon_clone_closed_port", "network", "refused|unable to connect", "git clone -q git://127.0.0.1:CLOSED/app.git"),
    ("daemon_ls_remote_reset", "network", "reset|hung up", "git ls-remote git://127.0.0.1:RESET/app.git"),
    ("daemon_clone_missing_branch", "git", "not found", "git clone -q -b release/2.0 D/app.git"),
    ("daemon_fetch_unknown_commit", "git", "not our ref|couldn't find|not found",
     "git init -q -b main . && git fetch -q D/app.git 4f2c0a9d1e8b7c6a5f4e3d2c1b0a9f8e7d6c5b4a"),
    ("daemon_unshallow_complete", "git", "unshallow", "git clone -q D/app.git && cd app && git fetch --unshallow"),
    ("daemon_clone_full_disk", "resource", "No space left", "git clone -q D/app.git DISK/app-$RANDOM"),
    ("daemon_clone_read_only", "filesystem", "Read-only", "git clone -q D/app.git RO/app"),
    ("daemon_clone_target_exists", "filesystem", "already exists",
     "mkdir app && echo keep > app/notes.txt && git clone -q D/app.git app"),
]

HTTP: list[ToolCase] = [
    ("http_clone_wrong_password", "auth", "Authentication failed|401", "git clone -q H/auth/app.git",
     ),
    ("http_clone_no_credentials", "auth", "Username|Authentication|401", "git clone -q HPLAIN/auth/app.git"),
    ("http_push_forbidden", "auth", "403", "git clone -q HPLAIN/ro/app.git && cd app && " + _COMMIT +
     "git push -q origin main"),
    ("http_backend_crash", "service", "500", "git clone -q HPLAIN/broken/app.git"),
    ("http_maintenance", "service", "503", "git ls-remote HPLAIN/maint/app.git"),
    ("http_bad_gateway", "service", "502", "git init -q -b main . && git fetch -q HPLAIN/gateway/app.git main"),
    ("http_rate_limited", "resource", "429", "git clone -q HPLAIN/limit/app.git"),
    ("http_clone_closed_port", "network", "Failed to connect|refused", "git clone -q http://127.0.0.1:CLOSED/app.git"),
    ("http_clone_empty_reply", "network", "Empty reply", "git clone -q http://127.0.0.1:EMPTY/app.git"),
    ("http_ls_remote_stalled", "network", "too slow|timed out|timeout",
     "GIT_HTTP_LOW_SPEED_LIMIT=1000 GIT_HTTP_LOW_SPEED_TIME=2 git ls-remote http://127.0.0.1:HANG/app.git"),
    ("http_push_non_fast_forward", "git", "rejected",
     "git clone -q HPLAIN/open/app.git a && git clone -q HPLAIN/open/app.git b && cd a && " + _COMMIT +
     "git push -q origin main && cd ../b && " + _COMMIT + "git push -q origin main"),
    ("http_pre_receive_declined", "git", "declined",
     "git clone -q HPLAIN/open/hooked.git && cd hooked && " + _COMMIT + "git push -q origin main"),
    ("http_protected_branch", "git", "declined",
     "git clone -q HPLAIN/open/protected.git && cd protected && " + _COMMIT + "git push -q origin main"),
    ("http_force_push_denied", "git", "non-fast-forward",
     "git clone -q HPLAIN/open/strict.git && cd strict && git commit -q --amend -m rewritten && "
     "git push -q --force origin main"),
    ("http_shallow_push", "git", "shallow",
     "git clone -q --depth 1 HPLAIN/open/app.git && cd app && git push -q HPLAIN/open/empty.git main"),
    ("http_push_remote_disk_full", "resource", "No space left",
     "git clone -q HPLAIN/open/full.git && cd full && head -c 400000 /dev/urandom > artifact.bin && "
     "git add artifact.bin && git commit -qm artifact && git push -q origin main"),
    ("http_clone_bad_port", "validation", "illegal format|bad port", "git clone -q http://127.0.0.1:99999/app.git"),
]

#: a superproject whose submodule `lib` is recorded, cloned without it, its URL then set to URL
_SUPER = ("git init -q -b main super && cd super && git -c protocol.file.allow=always submodule add -q ROOT/lib.git "
          "lib >/dev/null 2>&1 && git commit -qm 'add lib' && cd .. && git clone -q super work && cd work && ")
SUBMODULE: list[ToolCase] = [
    ("submodule_closed_port", "network", "refused|unable to connect",
     _SUPER + "git config -f .gitmodules submodule.lib.url git://127.0.0.1:CLOSED/lib.git && "
     "git submodule update --init"),
    ("submodule_not_exported", "auth", "not exported|access denied",
     _SUPER + "git config -f .gitmodules submodule.lib.url D/private.git && git submodule update --init"),
    ("submodule_wrong_password", "auth", "Authentication failed|401",
     _SUPER + "git config -f .gitmodules submodule.lib.url H/auth/lib.git && git submodule update --init"),
    ("submodule_maintenance", "service", "503",
     _SUPER + "git config -f .gitmodules submodule.lib.url HPLAIN/maint/lib.git && git submodule update --init"),
    ("submodule_missing_commit", "git", "not our ref|did not contain",
     "git init -q -b main super && cd super && git -c protocol.file.allow=always submodule add -q ROOT/lib.git "
     "lib >/dev/null 2>&1 && cd lib && echo local >> deploy.yml && git commit -qam 'never pushed' && cd .. && "
     "git add lib && git commit -qm 'bump lib' && cd .. && git clone -q super work && cd work && "
     "git config -f .gitmodules submodule.lib.url HPLAIN/open/lib.git && git submodule update --init"),
    ("submodule_bad_gitmodules", "validation", "bad config",
     _SUPER + "printf '[submodule \"lib\"\\n\\tpath = lib\\n\\turl = D/lib.git\\n' > .gitmodules && "
     "git submodule update --init"),
    ("submodule_already_in_index", "git", "already exists in the index",
     _SUPER + "git submodule add -q D/lib.git lib"),
]

WORKTREE: list[ToolCase] = [
    ("worktree_branch_checked_out", "git", "already checked out|already used",
     "git clone -q D/app.git && cd app && git worktree add -q ../wt main"),
    ("worktree_path_exists", "filesystem", "already exists",
     "git clone -q D/app.git && mkdir wt && echo x > wt/f && cd app && git worktree add -q ../wt -b hotfix"),
    ("worktree_read_only", "filesystem", "Read-only",
     "git clone -q D/app.git && cd app && git worktree add -q RO/wt -b hotfix"),
    ("worktree_remove_dirty", "git", "modified or untracked",
     "git clone -q D/app.git && cd app && git worktree add -q ../wt -b hotfix && echo x > ../wt/new.txt && "
     "git worktree remove ../wt"),
]

BUNDLE: list[ToolCase] = [
    ("bundle_fetch_truncated", "validation", "EOF|truncat|bundle|pack",
     "git clone -q D/app.git && cd app && git bundle create -q ../full.bundle --all && cd .. && "
     "head -c $(( $(stat -c %s full.bundle) * 2 / 3 )) full.bundle > cut.bundle && git init -q -b main mirror && "
     "cd mirror && git fetch -q ../cut.bundle 'refs/heads/*:refs/remotes/bundle/*'"),
    ("bundle_clone_truncated", "validation", "EOF|truncat|bundle|pack",
     "git clone -q D/app.git && cd app && git bundle create -q ../full.bundle --all && cd .. && "
     "head -c $(( $(stat -c %s full.bundle) * 2 / 3 )) full.bundle > cut.bundle && git clone -q cut.bundle out"),
    ("bundle_verify_foreign_file", "validation", "bundle",
     "git init -q -b main . && echo '{\"ref\": \"main\"}' > release.bundle && git bundle verify release.bundle"),
    ("bundle_missing_prerequisite", "git", "prerequisite",
     "git clone -q D/app.git && cd app && git bundle create -q ../inc.bundle HEAD~1..main && cd .. && "
     "git init -q -b main fresh && cd fresh && git bundle verify ../inc.bundle"),
    ("bundle_create_missing_dir", "filesystem", "No such file|cannot create|unable",
     "git clone -q D/app.git && cd app && git bundle create -q TMP/nowhere66/deep/app.bundle --all"),
    ("bundle_create_full_disk", "resource", "No space left",
     "git clone -q D/app.git && cd app && head -c 400000 /dev/urandom > blob.bin && git add blob.bin && "
     "git commit -qm blob && git bundle create -q DISK/app-$RANDOM.bundle --all"),
]


def _py_cases(forge: Forge, env: Env) -> list[PyCase]:
    def scratch(name: str) -> Path:
        path = env.tmp / "py66" / name
        path.mkdir(parents=True)
        return path

    def gp_clone(url: str, name: str) -> Any:
        import git

        return git.Repo.clone_from(url, scratch(name) / "repo", env=GIT_ENV66)

    def gp_push_hook() -> None:
        repo = gp_clone(forge.http("open", "hooked.git"), "gp_hook")
        target = Path(repo.working_tree_dir) / "deploy.yml"
        target.write_text(target.read_text() + "replicas: 3\n")
        repo.git.add("deploy.yml")
        repo.git.commit("-m", "scale up", env=GIT_ENV66)
        repo.git.push("origin", "main", env=GIT_ENV66)

    def gp_no_path() -> None:
        import git

        git.Repo(env.tmp / "py66" / "checkouts" / "api")

    def gp_missing_target() -> None:
        import git

        clone_from: Any = git.Repo.clone_from
        clone_from(forge.http("open", "app.git"))

    def dw_clone(url: str, name: str) -> None:
        import urllib3
        from dulwich import porcelain

        # no urllib3 retries: the 503/429 fronts say Retry-After: 30
        transport: dict[str, Any] = {"pool_manager": urllib3.PoolManager(retries=False)}
        porcelain.clone(url, str(scratch(name) / "repo"), errstream=io.BytesIO(), **transport)

    def dw_not_repo() -> None:
        from dulwich import porcelain

        porcelain.open_repo(str(scratch("dw_plain")))

    def dw_missing_ref() -> None:
        from dulwich import porcelain

        refs: Any = porcelain.ls_remote(forge.http("open", "app.git"))
        table = dict(getattr(refs, "refs", refs))
        print(table[b"refs/heads/release"])

    def expect(token: str, fn: Callable[[], Any]) -> Callable[[], Any]:
        """Let the real exception through only when it carries the provoked cause's token (else a harness error,
        which the type check drops)."""

        def checked_fn() -> Any:
            try:
                return fn()
            except Exception as exc:
                if not any(t.lower() in str(exc).lower() for t in token.split("|")):
                    raise RuntimeError("not the provoked cause") from None
                raise

        return checked_fn

    wrong = f"{USER}:not-{PASSWORD}"
    return [
        ("gitpython_clone_wrong_password", "auth", "gitpython66", "GitCommandError",
         expect("Authentication failed|401", lambda: gp_clone(forge.http("auth", "app.git", wrong), "gp_auth"))),
        ("gitpython_clone_refused", "network", "gitpython66", "GitCommandError",
         expect("refused|unable to connect",
                lambda: gp_clone(f"git://127.0.0.1:{forge.closed_port}/app.git", "gp_refused"))),
        ("gitpython_clone_503", "service", "gitpython66", "GitCommandError",
         expect("503", lambda: gp_clone(forge.http("maint", "app.git"), "gp_503"))),
        ("gitpython_push_hook_declined", "git", "gitpython66", "GitCommandError",
         expect("declined", gp_push_hook)),
        ("gitpython_no_such_path", "filesystem", "gitpython66", "NoSuchPathError", gp_no_path),
        ("gitpython_clone_missing_arg", "programming", "gitpython66", "TypeError", gp_missing_target),
        ("dulwich_clone_unauthorized", "auth", "dulwich66", "HTTPUnauthorized",
         lambda: dw_clone(forge.http("auth", "app.git"), "dw_auth")),
        ("dulwich_clone_503", "service", "dulwich66", "GitProtocolError",
         expect("503", lambda: dw_clone(forge.http("maint", "app.git"), "dw_503"))),
        ("dulwich_clone_429", "resource", "dulwich66", "GitProtocolError",
         expect("429", lambda: dw_clone(forge.http("limit", "app.git"), "dw_429"))),
        ("dulwich_clone_refused", "network", "dulwich66", "ConnectionRefusedError|ConnectionError|OSError",
         lambda: dw_clone(f"git://127.0.0.1:{forge.closed_port}/app.git", "dw_refused")),
        ("dulwich_open_not_repo", "git", "dulwich66", "NotGitRepository", dw_not_repo),
        ("dulwich_ls_remote_key", "programming", "dulwich66", "KeyError", dw_missing_ref),
    ]


def blind66_records(env: Env) -> list[Record]:
    forge = serve_forge(env)
    ro = mount_tmpfs(env, "ro66", "size=64k,ro")
    wrong = f"{USER}:not-{PASSWORD}"

    def fill(text: str) -> str:
        text = (text.replace("CLOSED", str(env.closed_port)).replace("RESET", str(env.reset_port))
                .replace("EMPTY", str(env.empty_port)).replace("HANG", str(env.hang_port)))
        return (text.replace("HPLAIN", f"http://127.0.0.1:{forge.http_port}")
                .replace("H/", f"http://{wrong}@127.0.0.1:{forge.http_port}/")
                .replace("D/", f"git://127.0.0.1:{forge.daemon_port}/")
                .replace("ROOT", str(forge.root)).replace("DISK", str(forge.disk)).replace("RO/", f"{ro}/")
                .replace("TMP", str(env.tmp)))

    def cases(group: list[ToolCase]) -> list[ToolCase]:
        return [(name, category, token, _START + script) for name, category, token, script in group
                if isinstance(script, str)]

    os.environ.update(GIT_ENV66)
    out: list[Record] = []
    for group, source in ((DAEMON, "git-daemon66"), (HTTP, "git-http66"), (SUBMODULE, "git-submodule66"),
                          (WORKTREE, "git-worktree66"), (BUNDLE, "git-bundle66")):
        out += tool_records(cases(group), source, env.tmp, fill, timeout=30)
    out += python_records(_py_cases(forge, env))
    return out


if __name__ == "__main__":
    write_batch(blind66_records)


__all__ = ["BLIND66_SOURCES", "blind66_records"]
