"""Provokers of real failures of command-line tools and other runtimes (git, curl, bash, node, java, go,
psql, redis-cli, mariadb). Each returns the text the tool printed when it failed (stderr, else stdout)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import Env, failure_text, run


@dataclass(frozen=True)
class ToolProvoker:
    name: str
    source: str
    category: str
    fn: Callable[[Env], str]
    needs: str = ""  # an executable that must exist, else the provoker is skipped


TOOL_PROVOKERS: list[ToolProvoker] = []


def tool(source: str, category: str, needs: str = "") -> Callable[[Callable[[Env], str]], Callable[[Env], str]]:
    def wrap(fn: Callable[[Env], str]) -> Callable[[Env], str]:
        TOOL_PROVOKERS.append(ToolProvoker(fn.__name__, source, category, fn, needs))
        return fn

    return wrap


def available(p: ToolProvoker) -> bool:
    return not p.needs or shutil.which(p.needs) is not None


# --------------------------------------------------------------------------- git: local repository state


def _git(cwd: Path, *args: str) -> str:
    """Run git and return its failure text (raises if git unexpectedly succeeded)."""
    return failure_text(run(["git", *args], cwd=cwd, env=_GIT_ENV))


def _ok(cwd: Path, *args: str) -> None:
    proc = run(["git", *args], cwd=cwd, env=_GIT_ENV)
    if proc.returncode != 0:
        raise RuntimeError(f"git {args} failed: {proc.stderr}")


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Corpus", "GIT_AUTHOR_EMAIL": "corpus@example.org",
    "GIT_COMMITTER_NAME": "Corpus", "GIT_COMMITTER_EMAIL": "corpus@example.org",
    "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent-home-corpus",
}


def _repo(env: Env, name: str) -> Path:
    d = env.tmp / "git" / name
    d.mkdir(parents=True)
    _ok(d, "init", "-q", "-b", "main")
    (d / "file.txt").write_text("line one\n")
    _ok(d, "add", "file.txt")
    _ok(d, "commit", "-q", "-m", "first")
    return d


@tool("git", "git", "git")
def git_not_a_repo(env: Env) -> str:
    d = env.tmp / "git-plain"
    d.mkdir(parents=True, exist_ok=True)
    return failure_text(run(["git", "status"], cwd=d, env={**_GIT_ENV, "GIT_CEILING_DIRECTORIES": str(env.tmp)}))


@tool("git", "git", "git")
def git_index_lock(env: Env) -> str:
    d = _repo(env, "lock")
    (d / ".git" / "index.lock").write_text("")
    (d / "file.txt").write_text("changed\n")
    return _git(d, "add", "file.txt")


@tool("git", "git", "git")
def git_index_lock_commit(env: Env) -> str:
    d = _repo(env, "lock2")
    (d / ".git" / "index.lock").write_text("")
    return _git(d, "commit", "-am", "x", "--allow-empty")


def _conflicted(env: Env, name: str) -> Path:
    d = _repo(env, name)
    _ok(d, "checkout", "-q", "-b", "feature")
    (d / "file.txt").write_text("feature line\n")
    _ok(d, "commit", "-qam", "feature")
    _ok(d, "checkout", "-q", "main")
    (d / "file.txt").write_text("main line\n")
    _ok(d, "commit", "-qam", "main")
    return d


@tool("git", "git", "git")
def git_merge_conflict(env: Env) -> str:
    return _git(_conflicted(env, "conflict"), "merge", "feature")


@tool("git", "git", "git")
def git_merge_in_progress(env: Env) -> str:
    d = _conflicted(env, "conflict2")
    run(["git", "merge", "feature"], cwd=d, env=_GIT_ENV)
    return _git(d, "merge", "feature")


@tool("git", "git", "git")
def git_commit_unmerged(env: Env) -> str:
    d = _conflicted(env, "conflict3")
    run(["git", "merge", "feature"], cwd=d, env=_GIT_ENV)
    return _git(d, "commit", "-m", "x")


@tool("git", "git", "git")
def git_rebase_conflict(env: Env) -> str:
    return _git(_conflicted(env, "rebase"), "rebase", "feature")


@tool("git", "git", "git")
def git_rebase_in_progress(env: Env) -> str:
    d = _conflicted(env, "rebase2")
    run(["git", "rebase", "feature"], cwd=d, env=_GIT_ENV)
    return _git(d, "rebase", "feature")


@tool("git", "git", "git")
def git_cherry_pick_conflict(env: Env) -> str:
    return _git(_conflicted(env, "pick"), "cherry-pick", "feature")


@tool("git", "git", "git")
def git_local_changes_overwritten(env: Env) -> str:
    d = _conflicted(env, "overwrite")
    (d / "file.txt").write_text("uncommitted\n")
    return _git(d, "checkout", "feature")


@tool("git", "git", "git")
def git_untracked_overwritten(env: Env) -> str:
    d = _repo(env, "untracked")
    _ok(d, "checkout", "-q", "-b", "feature")
    (d / "new.txt").write_text("tracked on feature\n")
    _ok(d, "add", "new.txt")
    _ok(d, "commit", "-qm", "add new")
    _ok(d, "checkout", "-q", "main")
    (d / "new.txt").write_text("untracked here\n")
    return _git(d, "checkout", "feature")


@tool("git", "git", "git")
def git_unknown_revision(env: Env) -> str:
    return _git(_repo(env, "rev"), "log", "no-such-branch-corpus")


@tool("git", "git", "git")
def git_bad_object(env: Env) -> str:
    return _git(_repo(env, "badobj"), "show", "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef")


@tool("git", "git", "git")
def git_pathspec(env: Env) -> str:
    return _git(_repo(env, "pathspec"), "checkout", "--", "no/such/file.py")


@tool("git", "git", "git")
def git_pathspec_add(env: Env) -> str:
    return _git(_repo(env, "pathspec2"), "add", "missing.txt")


@tool("git", "git", "git")
def git_unrelated_histories(env: Env) -> str:
    d = _repo(env, "unrelated")
    _ok(d, "checkout", "-q", "--orphan", "other")
    (d / "other.txt").write_text("o\n")
    _ok(d, "add", "other.txt")
    _ok(d, "commit", "-qm", "orphan")
    return _git(d, "merge", "main")


@tool("git", "git", "git")
def git_branch_exists(env: Env) -> str:
    return _git(_repo(env, "branch"), "branch", "main")


@tool("git", "git", "git")
def git_nothing_to_commit(env: Env) -> str:
    return _git(_repo(env, "clean"), "commit", "-m", "nothing")


@tool("git", "git", "git")
def git_stash_pop_conflict(env: Env) -> str:
    d = _repo(env, "stash")
    (d / "file.txt").write_text("stashed\n")
    _ok(d, "stash")
    (d / "file.txt").write_text("committed\n")
    _ok(d, "commit", "-qam", "c")
    return _git(d, "stash", "pop")


@tool("git", "git", "git")
def git_detached_pull(env: Env) -> str:
    d = _repo(env, "detached")
    _ok(d, "checkout", "-q", "--detach")
    return _git(d, "pull")


@tool("git", "git", "git")
def git_no_upstream_push(env: Env) -> str:
    return _git(_repo(env, "noremote"), "push")


@tool("git", "filesystem", "git")
def git_add_eisdir_outside(env: Env) -> str:
    return _git(_repo(env, "outside"), "add", "/etc/hostname")


# --------------------------------------------------------------------------- git against remotes (held out)


def _bare(env: Env, name: str) -> Path:
    d = env.tmp / "git" / f"{name}.git"
    d.mkdir(parents=True)
    _ok(d, "init", "-q", "--bare", "-b", "main")
    return d


@tool("git-remote", "git", "git")
def git_push_non_fast_forward(env: Env) -> str:
    bare = _bare(env, "nff")
    a = _repo(env, "nff-a")
    _ok(a, "push", "-q", str(bare), "main")
    b = env.tmp / "git" / "nff-b"
    _ok(env.tmp, "clone", "-q", str(bare), str(b))
    (b / "file.txt").write_text("b\n")
    _ok(b, "commit", "-qam", "b")
    _ok(b, "push", "-q", "origin", "main")
    (a / "file.txt").write_text("a\n")
    _ok(a, "commit", "-qam", "a")
    return _git(a, "push", str(bare), "main")


@tool("git-remote", "git", "git")
def git_pull_diverged(env: Env) -> str:
    bare = _bare(env, "div")
    a = _repo(env, "div-a")
    _ok(a, "push", "-q", str(bare), "main")
    b = env.tmp / "git" / "div-b"
    _ok(env.tmp, "clone", "-q", str(bare), str(b))
    (b / "file.txt").write_text("b\n")
    _ok(b, "commit", "-qam", "b")
    _ok(b, "push", "-q", "origin", "main")
    _ok(a, "remote", "add", "origin", str(bare))
    (a / "file.txt").write_text("a\n")
    _ok(a, "commit", "-qam", "a")
    return _git(a, "pull", "--ff-only", "origin", "main")


@tool("git-remote", "git", "git")
def git_clone_not_a_repo(env: Env) -> str:
    d = env.tmp / "git" / "empty-dir"
    d.mkdir(parents=True)
    return _git(env.tmp, "clone", str(d), str(env.tmp / "git" / "clone-target"))


@tool("git-remote", "git", "git")
def git_remote_missing_ref(env: Env) -> str:
    bare = _bare(env, "refs")
    a = _repo(env, "refs-a")
    _ok(a, "push", "-q", str(bare), "main")
    return _git(a, "fetch", str(bare), "no-such-branch")


@tool("git-remote", "network", "git")
def git_fetch_unresolvable(env: Env) -> str:
    return _git(_repo(env, "dns"), "fetch", "https://git.recoup-corpus.invalid/org/repo.git")


@tool("git-remote", "network", "git")
def git_clone_refused(env: Env) -> str:
    return _git(env.tmp, "clone", f"http://127.0.0.1:{env.closed_port}/org/repo.git", str(env.tmp / "r1"))


@tool("git-remote", "network", "git")
def git_clone_ssh_refused(env: Env) -> str:
    return _git(env.tmp, "clone", f"ssh://git@127.0.0.1:{env.closed_port}/org/repo.git", str(env.tmp / "r2"))


@tool("git-remote", "network", "git")
def git_clone_ssh_unresolvable(env: Env) -> str:
    return _git(env.tmp, "clone", "git@gitlab.recoup-corpus.invalid:org/repo.git", str(env.tmp / "r3"))


@tool("git-remote", "network", "git")
def git_clone_reset(env: Env) -> str:
    return _git(env.tmp, "clone", f"http://127.0.0.1:{env.empty_port}/org/repo.git", str(env.tmp / "r4"))


@tool("git-remote", "auth", "git")
def git_clone_401(env: Env) -> str:
    return _git(env.tmp, "clone", f"{env.url(401)}/repo.git", str(env.tmp / "r5"))


@tool("git-remote", "auth", "git")
def git_clone_403(env: Env) -> str:
    return _git(env.tmp, "clone", f"{env.url(403)}/repo.git", str(env.tmp / "r6"))


@tool("git-remote", "service", "git")
def git_clone_503(env: Env) -> str:
    return _git(env.tmp, "clone", f"{env.url(503)}/repo.git", str(env.tmp / "r7"))


@tool("git-remote", "service", "git")
def git_clone_500(env: Env) -> str:
    return _git(env.tmp, "clone", f"{env.url(500)}/repo.git", str(env.tmp / "r8"))


@tool("git-remote", "network", "git")
def git_clone_timeout(env: Env) -> str:
    return failure_text(run(["git", "-c", "http.lowSpeedLimit=1000", "-c", "http.lowSpeedTime=1", "clone",
                             f"http://127.0.0.1:{env.hang_port}/org/repo.git", str(env.tmp / "r9")],
                            cwd=env.tmp, env=_GIT_ENV))


# --------------------------------------------------------------------------- curl (held out)


def _curl(*args: str) -> str:
    return failure_text(run(["curl", "-sS", "--fail", "--max-time", "2", *args]))


@tool("curl", "network", "curl")
def curl_refused(env: Env) -> str:
    return _curl(f"http://127.0.0.1:{env.closed_port}/health")


@tool("curl", "network", "curl")
def curl_dns(env: Env) -> str:
    return _curl("https://api.recoup-corpus.invalid/v1/items")


@tool("curl", "network", "curl")
def curl_timeout(env: Env) -> str:
    return failure_text(run(["curl", "-sS", "--max-time", "0.5", f"http://127.0.0.1:{env.hang_port}/"]))


@tool("curl", "network", "curl")
def curl_empty_reply(env: Env) -> str:
    return _curl(f"http://127.0.0.1:{env.empty_port}/")


@tool("curl", "network", "curl")
def curl_reset(env: Env) -> str:
    return _curl(f"http://127.0.0.1:{env.reset_port}/")


@tool("curl", "network", "curl")
def curl_partial(env: Env) -> str:
    return _curl(f"http://127.0.0.1:{env.close_port}/")


@tool("curl", "network", "curl")
def curl_tls_to_plain(env: Env) -> str:
    return _curl(f"https://127.0.0.1:{env.http_port}/")


@tool("curl", "validation", "curl")
def curl_bad_url(env: Env) -> str:
    return _curl("http://[::1/broken")


@tool("curl", "filesystem", "curl")
def curl_upload_missing(env: Env) -> str:
    return _curl("-T", str(env.tmp / "missing-upload.bin"), env.url(200))


@tool("curl", "filesystem", "curl")
def curl_write_missing_dir(env: Env) -> str:
    return _curl("-o", str(env.tmp / "no" / "dir" / "out.json"), f"{env.http}/ok")


for _status, _cat in ((400, "validation"), (401, "auth"), (403, "auth"), (422, "validation"), (429, "resource"),
                      (500, "service"), (502, "service"), (503, "service"), (504, "service")):
    TOOL_PROVOKERS.append(ToolProvoker(f"curl_http_{_status}", "curl", _cat,
                                       (lambda s: lambda env: _curl(env.url(s)))(_status), "curl"))


# --------------------------------------------------------------------------- bash / coreutils (dev)


def _sh(env: Env, script: str) -> str:
    return failure_text(run(["bash", "-c", script], cwd=env.tmp))


_SHELL: list[tuple[str, str, str]] = [
    ("bash_command_not_found", "filesystem", "deploy-tool-corpus --version"),
    ("bash_cat_missing", "filesystem", "cat /etc/recoup/corpus-missing.conf"),
    ("bash_cd_missing", "filesystem", "cd /srv/no-such-dir-corpus"),
    ("bash_cat_directory", "filesystem", "cat /etc"),
    ("bash_not_executable", "filesystem", "printf 'echo hi' > s.sh; chmod 644 s.sh; ./s.sh"),
    ("bash_mkdir_exists", "filesystem", "mkdir -p d1 && mkdir d1"),
    ("bash_rmdir_not_empty", "filesystem", "mkdir -p d2 && touch d2/f && rmdir d2"),
    ("bash_rm_directory", "filesystem", "mkdir -p d3 && rm d3"),
    ("bash_touch_missing_dir", "filesystem", "touch no/such/dir/file"),
    ("bash_cp_same", "filesystem", "touch same && cp same same"),
    ("bash_ln_exists", "filesystem", "touch a b && ln -s a b"),
    ("bash_redirect_dir", "filesystem", "mkdir -p d4 && echo x > d4"),
    ("bash_name_too_long", "filesystem", "touch " + "x" * 300),
    ("bash_dev_full", "resource", "echo data > /dev/full"),
    ("bash_syntax", "programming", "if then fi"),
    ("bash_unbound", "programming", "set -u; echo \"$UNDEFINED_CORPUS_VAR\""),
    ("bash_bad_substitution", "programming", "echo ${x/"),
    ("bash_expr_div_zero", "programming", "expr 4 / 0"),
    ("bash_arith_div_zero", "programming", "echo $((4 / 0))"),
    ("bash_date_invalid", "validation", "date -d 'the day after never'"),
    ("bash_gzip_not_gzip", "validation", "echo plain > p.gz && gzip -d p.gz"),
    ("bash_tar_not_tar", "validation", "echo plain > p.tar && tar -xf p.tar"),
    ("bash_ls_bad_option", "validation", "ls --no-such-option"),
    ("bash_sort_bad_key", "validation", "sort -k abc /etc/hostname"),
    ("bash_python_json_tool", "validation", "echo '{bad json' | python3 -m json.tool"),
    ("bash_ulimit_files", "resource", "ulimit -n 16; python3 -c 'fs=[open(\"/dev/null\") for _ in range(64)]'"),
    ("bash_ulimit_memory", "resource", "ulimit -v 200000; python3 -c 'x = bytearray(400*1024*1024)'"),
    ("bash_nobody_eacces", "filesystem",
     "touch root-only && chmod 600 root-only && chmod 755 . && setpriv --reuid=65534 --regid=65534 "
     "--clear-groups cat root-only"),
]
for _name, _cat, _script in _SHELL:
    TOOL_PROVOKERS.append(ToolProvoker(_name, "bash", _cat, (lambda s: lambda env: _sh(env, s))(_script), "bash"))


# --------------------------------------------------------------------------- node (dev)


def _node(env: Env, script: str, *flags: str) -> str:
    return failure_text(run(["node", *flags, "-e", script], cwd=env.tmp, timeout=60))


_NODE: list[tuple[str, str, str]] = [
    ("node_fetch_refused", "network", "await fetch('http://127.0.0.1:{closed}/api')"),
    ("node_http_refused", "network",
     "require('http').get('http://127.0.0.1:{closed}/', r => {{}}).on('error', e => {{ throw e }})"),
    ("node_fetch_dns", "network", "await fetch('https://api.recoup-corpus.invalid/v1')"),
    ("node_dns_lookup", "network",
     "require('dns').lookup('db.recoup-corpus.invalid', (e) => {{ if (e) throw e }})"),
    ("node_fetch_reset", "network", "await fetch('http://127.0.0.1:{reset}/')"),
    ("node_fetch_empty", "network", "await fetch('http://127.0.0.1:{empty}/')"),
    ("node_http_hangup", "network",
     "require('http').get('http://127.0.0.1:{empty}/', r => {{}}).on('error', e => {{ throw e }})"),
    ("node_fetch_timeout", "network",
     "await fetch('http://127.0.0.1:{hang}/', {{signal: AbortSignal.timeout(300)}})"),
    ("node_net_timeout", "network",
     "const s = require('net').connect({hang}, '127.0.0.1'); s.setTimeout(300, () => "
     "s.destroy(Object.assign(new Error('socket timeout'), {{code: 'ETIMEDOUT'}}))); "
     "s.on('error', e => {{ throw e }})"),
    ("node_tls_plain", "network",
     "require('https').get('https://127.0.0.1:{http}/', r => {{}}).on('error', e => {{ throw e }})"),
    ("node_fs_enoent", "filesystem", "require('fs').readFileSync('/etc/recoup/corpus.json')"),
    ("node_fs_eisdir", "filesystem", "require('fs').readFileSync('/etc')"),
    ("node_fs_eexist", "filesystem", "require('fs').mkdirSync('/tmp')"),
    ("node_fs_enotdir", "filesystem", "require('fs').readdirSync('/etc/hostname')"),
    ("node_fs_enotempty", "filesystem", "require('fs').rmdirSync('/etc')"),
    ("node_fs_promises_enoent", "filesystem",
     "const fsp = await import('fs/promises'); await fsp.readFile('./missing/settings.json', 'utf8')"),
    ("node_fs_eacces", "filesystem",
     "const fs=require('fs'); fs.writeFileSync('ro.txt','x'); fs.chmodSync('ro.txt', 0o600); "
     "process.setuid(65534); fs.readFileSync('ro.txt')"),
    ("node_fs_enospc", "resource", "require('fs').writeFileSync('/dev/full', 'data')"),
    ("node_type_undefined", "programming", "const cfg = {{}}; console.log(cfg.db.host)"),
    ("node_type_not_function", "programming", "const api = {{}}; api.fetchUsers()"),
    ("node_type_null", "programming", "const user = null; user.name"),
    ("node_reference", "programming", "console.log(undefinedHelper(3))"),
    ("node_range_stack", "programming", "function f(n) {{ return f(n + 1) + 1 }} f(0)"),
    ("node_range_array", "programming", "new Array(-1)"),
    ("node_syntax", "programming", "function ( {{"),
    ("node_module_not_found", "programming", "require('recoup-corpus-missing-module')"),
    ("node_assert", "programming", "require('assert').strictEqual(1, 2)"),
    ("node_json_parse", "validation", "JSON.parse('{{\"name\": \"x\",}}')"),
    ("node_json_parse_empty", "validation", "JSON.parse('')"),
    ("node_url_invalid", "validation", "new URL('not a url')"),
    ("node_bigint_invalid", "validation", "BigInt('12abc')"),
    ("node_heap_oom", "resource",
     "const a = []; for (;;) a.push(new Array(1e6).fill(1.5))"),
]


def _node_fmt(script: str, env: Env) -> str:
    return script.format(closed=env.closed_port, reset=env.reset_port, empty=env.empty_port,
                         hang=env.hang_port, http=env.http_port)


for _name, _cat, _script in _NODE:
    _flags: tuple[str, ...] = ("--max-old-space-size=24",) if _name == "node_heap_oom" else ()
    _flags += ("--input-type=module",) if "await" in _script else ()
    TOOL_PROVOKERS.append(ToolProvoker(
        _name, "node", _cat, (lambda s, f: lambda env: _node(env, _node_fmt(s, env), *f))(_script, _flags), "node"))


# --------------------------------------------------------------------------- psql, redis-cli, mariadb CLIs


@tool("psql", "network", "psql")
def psql_refused(env: Env) -> str:
    return failure_text(run(["psql", f"postgresql://postgres@127.0.0.1:{env.closed_port}/test", "-c", "select 1"]))


@tool("psql", "validation", "psql")
def psql_bad_database(env: Env) -> str:
    return failure_text(run(["psql", "postgresql://postgres@127.0.0.1:5432/nodb_corpus", "-c", "select 1"]))


@tool("psql", "auth", "psql")
def psql_bad_role(env: Env) -> str:
    return failure_text(run(["psql", "postgresql://ghost_corpus@127.0.0.1:5432/test", "-c", "select 1"]))


@tool("psql", "programming", "psql")
def psql_syntax(env: Env) -> str:
    return failure_text(run(["psql", "-v", "ON_ERROR_STOP=1", "postgresql://postgres@127.0.0.1:5432/test",
                             "-c", "SELEC 1"]))


@tool("psql", "network", "psql")
def psql_statement_timeout(env: Env) -> str:
    return failure_text(run(["psql", "-v", "ON_ERROR_STOP=1", "postgresql://postgres@127.0.0.1:5432/test",
                             "-c", "SET statement_timeout = 100", "-c", "SELECT pg_sleep(2)"]))


@tool("psql", "resource", "psql")
def psql_too_many_for_role(env: Env) -> str:
    run(["psql", "postgresql://postgres@127.0.0.1:5432/test", "-c",
         "DO $$BEGIN CREATE ROLE corpus_limited LOGIN CONNECTION LIMIT 0; EXCEPTION WHEN duplicate_object "
         "THEN NULL; END$$"])
    return failure_text(run(["psql", "postgresql://corpus_limited@127.0.0.1:5432/test", "-c", "select 1"]))


@tool("redis-cli", "network", "redis-cli")
def redis_cli_refused(env: Env) -> str:
    return failure_text(run(["redis-cli", "-p", str(env.closed_port), "ping"]))


@tool("redis-cli", "programming", "redis-cli")
def redis_cli_wrongtype(env: Env) -> str:
    run(["redis-cli", "set", "recoup:corpus:cli", "x"])
    proc = run(["redis-cli", "lpush", "recoup:corpus:cli", "y"])
    return (proc.stdout + proc.stderr).strip()


@tool("redis-cli", "auth", "redis-cli")
def redis_cli_wrongpass(env: Env) -> str:
    run(["redis-cli", "ACL", "SETUSER", "corpus_user", "on", ">right-password", "~*", "+@all"])
    proc = run(["redis-cli", "--user", "corpus_user", "--pass", "nope", "--no-auth-warning", "ping"])
    return (proc.stdout + proc.stderr).strip()


@tool("mariadb-cli", "auth", "mariadb")
def mariadb_cli_access_denied(env: Env) -> str:
    return failure_text(run(["mariadb", "-h", "127.0.0.1", "-u", "ghost_corpus", "-e", "select 1"]))


@tool("mariadb-cli", "network", "mariadb")
def mariadb_cli_refused(env: Env) -> str:
    return failure_text(run(["mariadb", "-h", "127.0.0.1", "-P", str(env.closed_port), "-u", "root", "-e", "select 1"]))


@tool("mariadb-cli", "programming", "mariadb")
def mariadb_cli_syntax(env: Env) -> str:
    return failure_text(run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-e", "SELEC 1"]))


@tool("mariadb-cli", "validation", "mariadb")
def mariadb_cli_unknown_db(env: Env) -> str:
    return failure_text(run(["mariadb", "-h", "127.0.0.1", "-u", "root", "nodb_corpus", "-e", "select 1"]))


@tool("mariadb-cli", "network", "mariadb")
def mariadb_cli_socket_missing(env: Env) -> str:
    return failure_text(run(["mariadb", "-S", str(env.tmp / "no" / "mysqld.sock"), "-u", "root", "-e", "select 1"]))


__all__ = ["TOOL_PROVOKERS", "ToolProvoker", "available"]
