"""Seventy-fourth batch of blind provokers: apt, dpkg and OS administration commands as provisioning scripts and CI
images print them. apt-get runs with every state path (sources, lists, cache, status) pointed into the batch's temp
directory and only against a flat repository served here on 127.0.0.1 (answering 401/403/429/5xx, with a Release
whose hash does not match, a malformed Packages file, .debs whose checksum is wrong or whose download is refused),
a closed port, or servers that reset, close or never answer; malformed sources.list, deb822 and apt.conf input;
lists directories that are missing, read-only, full or locked. dpkg and dpkg-deb run with `--root`/`--admindir` in
temp trees only: a missing or corrupt .deb, a held database lock, a corrupt status file, bad control data, a
read-only or full target. logrotate with its own state file: configs that do not parse, missing logs and
directories, a read-only or full mount, a locked state file. useradd/groupadd input checks, mount of a missing
device or mountpoint, update-alternatives with its own admin directory, chroot into a missing tree. The system's
apt and dpkg state is never touched. Only 127.0.0.1."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from checked import ToolCase, tool_records
from common import Env, Record, run, write_batch
from servers import mount_tmpfs

BLIND74_SOURCES = frozenset({"apt74", "dpkg74", "logrotate74", "admin74"})

_STATUS_REPOS = {"s401": 401, "s403": 403, "s429": 429, "s500": 500, "s502": 502, "s503": 503}


def _control(package: str, version: str = "1.0", extra: str = "") -> str:
    return (f"Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: Corpus <c@example.org>\n"
            f"Description: corpus package {package}\n{extra}")


def _build_deb(work: Path, package: str, payload: bytes) -> Path:
    root = work / f"build-{package}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(_control(package))
    (root / "opt" / package).mkdir(parents=True)
    (root / "opt" / package / "data.bin").write_bytes(payload)
    deb = work / f"{package}.deb"
    subprocess.run(["dpkg-deb", "-Znone", "--root-owner-group", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    return deb


def _stanza(package: str, filename: str, deb: bytes, sha256: str | None = None) -> str:
    digest = sha256 or hashlib.sha256(deb).hexdigest()
    return (f"Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: Corpus <c@example.org>\n"
            f"Filename: {filename}\nSize: {len(deb)}\nSHA256: {digest}\nDescription: corpus package\n\n")


def _release(packages: bytes, sha256: str | None = None) -> bytes:
    digest = sha256 or hashlib.sha256(packages).hexdigest()
    return (f"Origin: corpus74\nLabel: corpus74\nSuite: stable\nDate: Sat, 01 Jan 2026 00:00:00 UTC\n"
            f"SHA256:\n {digest} {len(packages)} Packages\n").encode()


def _repository(work: Path) -> dict[tuple[str, str], bytes]:
    """The files of the flat repositories the handler serves, keyed by (repository, file name)."""
    good = _build_deb(work, "good74", b"corpus" * 100).read_bytes()
    big = _build_deb(work, "big74", os.urandom(300_000)).read_bytes()
    ok = (_stanza("good74", "./good74.deb", good) + _stanza("big74", "./big74.deb", big)
          + _stanza("tampered74", "./good74.deb", good, sha256="0" * 64)
          + _stanza("deny74", "./fail403/deny74.deb", good) + _stanza("down74", "./fail503/down74.deb", good)).encode()
    bad_packages = b"Package: broken74\nVersion 1.0\nArchitecture: all\n Depends: (((\nFilename\n\n\x00\x01garbage\n"
    many = "".join(_stanza(f"filler74-{i}", f"./filler{i}.deb", good) for i in range(3000)).encode()
    files = {
        ("ok", "good74.deb"): good, ("ok", "big74.deb"): big, ("ok", "Packages"): ok, ("ok", "Release"): _release(ok),
        ("badhash", "Packages"): ok, ("badhash", "Release"): _release(ok, sha256="f" * 64),
        ("garbage", "Packages"): bad_packages, ("garbage", "Release"): _release(bad_packages),
        ("many", "Packages"): many, ("many", "Release"): _release(many),
    }
    return files


class _RepoHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    files: ClassVar[dict[tuple[str, str], bytes]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        parts = self.path.lstrip("/").split("/")
        repo, name = parts[0], parts[-1]
        status, body = 404, b"Not Found\n"
        if repo in _STATUS_REPOS:
            status, body = _STATUS_REPOS[repo], b"denied or unavailable\n"
        elif "fail403" in parts:
            status, body = 403, b"Forbidden\n"
        elif "fail503" in parts:
            status, body = 503, b"Service Unavailable\n"
        elif (repo, name) in self.files:
            status, body = 200, self.files[(repo, name)]
        self.send_response(status)
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="corpus74"')
        if status in (429, 503):
            self.send_header("Retry-After", "30")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # apt hanging up on a refused answer is expected


def _repo_server(env: Env) -> str:
    handler = type("Handler74", (_RepoHandler,), {"files": _repository(env.tmp)})
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.shutdown)
    env._closers.append(server.server_close)
    return f"http://127.0.0.1:{server.server_address[1]}"


def _apt(case: str, lists: str = "", extra: str = "") -> str:
    """The apt-get options of one case: all state under TMP/apt-CASE (lists elsewhere when given)."""
    base = f"TMP/apt-{case}"
    lists = lists or f"{base}/lists"
    return (f"apt-get -q -o Dir::Etc::SourceList={base}/sources.list -o Dir::Etc::SourceParts={base}/parts "
            f"-o Dir::State::Lists={lists} -o Dir::Cache={base}/cache -o Dir::State::status={base}/status "
            f"-o Dir::State::extended_states={base}/extended_states -o APT::Sandbox::User=root "
            f"-o Acquire::Retries=0 -o Acquire::http::Timeout=3 -o APT::Update::Error-Mode=any {extra} ")


def _prepare(case: str, line: str, lists: bool = True) -> str:
    base = f"TMP/apt-{case}"
    mk = f"{base}/lists/partial " if lists else ""
    return (f"mkdir -p {mk}{base}/cache {base}/parts && touch {base}/status && "
            f"printf '%s\\n' '{line}' > {base}/sources.list && ")


def _update(case: str, url: str, category: str, token: str) -> ToolCase:
    return (case, category, token, _prepare(case, f"deb [trusted=yes] {url} ./") + _apt(case) + "update")


APT_UPDATE: list[ToolCase] = [
    _update("apt_update_refused", "http://127.0.0.1:CLOSED/debian/", "network", "refused|Could not connect"),
    _update("apt_update_reset", "http://127.0.0.1:RESET/debian/", "network", "reset|Connection|Error reading"),
    _update("apt_update_timeout", "http://127.0.0.1:HANG/debian/", "network", "timed out|timeout|Connection failed"),
    _update("apt_update_empty_reply", "http://127.0.0.1:EMPTY/debian/", "network",
            "Connection|closed|Error reading|Bad header"),
    ("apt_update_proxy_refused", "network", "refused|Could not connect|proxy",
     _prepare("apt_update_proxy_refused", "deb [trusted=yes] REPO/ok/ ./")
     + _apt("apt_update_proxy_refused", extra="-o Acquire::http::Proxy=http://127.0.0.1:CLOSED/") + "update"),
    _update("apt_update_401", "REPO/s401/", "auth", "401"),
    ("apt_update_wrong_credentials", "auth", "401|Unauthorized",
     _prepare("apt_update_wrong_credentials", "deb [trusted=yes] REPO/s401/ ./") + "printf 'machine 127.0.0.1 "
     "login ci-mirror password expired-token\\n' > TMP/auth74.conf && chmod 600 TMP/auth74.conf && "
     + _apt("apt_update_wrong_credentials", extra="-o Dir::Etc::netrc=TMP/auth74.conf") + "update"),
    _update("apt_update_403", "REPO/s403/", "auth", "403"),
    _update("apt_update_429", "REPO/s429/", "resource", "429"),
    _update("apt_update_500", "REPO/s500/", "service", "500"),
    _update("apt_update_502", "REPO/s502/", "service", "502"),
    _update("apt_update_503", "REPO/s503/", "service", "503"),
    _update("apt_update_hash_mismatch", "REPO/badhash/", "validation", "Hash Sum|hash|mismatch"),
    _update("apt_update_packages_malformed", "REPO/garbage/", "validation", "parse|Encountered|malformed|Problem"),
    ("apt_sources_malformed", "validation", "Malformed|sources.list",
     _prepare("apt_sources_malformed", "deb [trusted=yes REPO/ok/") + _apt("apt_sources_malformed") + "update"),
    ("apt_sources_unknown_type", "validation", "not known|Type",
     _prepare("apt_sources_unknown_type", "dep [trusted=yes] REPO/ok/ ./") + _apt("apt_sources_unknown_type")
     + "update"),
    ("apt_deb822_missing_uris", "validation", "Malformed|URIs|Suites|missing",
     _prepare("apt_deb822_missing_uris", "") + "printf 'Types: deb\\nSuites: ./\\nTrusted: yes\\n' > "
     "TMP/apt-apt_deb822_missing_uris/parts/corpus.sources && " + _apt("apt_deb822_missing_uris") + "update"),
    ("apt_conf_syntax", "validation", "Syntax error|syntax",
     _prepare("apt_conf_syntax", "deb [trusted=yes] REPO/ok/ ./") + "printf 'Acquire::http {\\n  Timeout \"3\";\\n"
     "  Proxy \"none\"\\n' > TMP/apt-apt_conf_syntax/apt.conf && APT_CONFIG=TMP/apt-apt_conf_syntax/apt.conf "
     + _apt("apt_conf_syntax") + "update"),
    ("apt_lists_read_only", "filesystem", "Read-only|Permission denied",
     _prepare("apt_lists_read_only", "deb [trusted=yes] REPO/ok/ ./", lists=False)
     + _apt("apt_lists_read_only", lists="ROLISTS") + "update"),
    ("apt_lists_missing", "filesystem", "missing|No such file",
     _prepare("apt_lists_missing", "deb [trusted=yes] REPO/ok/ ./", lists=False)
     + _apt("apt_lists_missing", lists="TMP/apt-apt_lists_missing/nonexistent/lists") + "update"),
    ("apt_lists_disk_full", "resource", "No space left|space",
     _prepare("apt_lists_disk_full", "deb [trusted=yes] REPO/many/ ./", lists=False)
     + "mkdir -p SMALL/lists/partial && " + _apt("apt_lists_disk_full", lists="SMALL/lists") + "update"),
]

APT_LOCKED: list[ToolCase] = [
    ("apt_lists_locked", "resource", "lock",
     _prepare("apt_lists_locked", "deb [trusted=yes] REPO/ok/ ./") + _apt("apt_lists_locked") + "update"),
]


def _download(case: str, package: str, category: str, token: str, cwd: str = "") -> ToolCase:
    base = f"TMP/apt-{case}"
    into = cwd or f"{base}/dl"
    return (case, category, token,
            _prepare(case, "deb [trusted=yes] REPO/ok/ ./") + _apt(case) + f"update >/dev/null 2>&1 && mkdir -p {into} "
            f"&& cd {into} && " + _apt(case) + f"download {package}")


APT_DOWNLOAD: list[ToolCase] = [
    _download("apt_download_hash_mismatch", "tampered74", "validation", "Hash Sum|hash|mismatch"),
    _download("apt_download_403", "deny74", "auth", "403"),
    _download("apt_download_503", "down74", "service", "503"),
    _download("apt_download_read_only_dir", "good74", "filesystem", "Read-only|Permission denied", cwd="RODIR"),
    _download("apt_download_disk_full", "big74", "resource", "No space left|space", cwd="SMALL2"),
]

_DPKG_ROOT = "mkdir -p TMP/R/var/lib/dpkg/updates TMP/R/var/lib/dpkg/info && touch TMP/R/var/lib/dpkg/status && "
_FLAGS = "--force-not-root --force-bad-path --force-script-chrootless"

DPKG: list[ToolCase] = [
    ("dpkg_missing_deb", "filesystem", "No such file|cannot access",
     _DPKG_ROOT.replace("TMP/R", "TMP/root-missing") + f"dpkg --root TMP/root-missing {_FLAGS} -i "
     "TMP/artifacts/webapp_2.4.1_all.deb"),
    ("dpkg_corrupt_deb", "validation", "not a Debian format archive|format|archive",
     _DPKG_ROOT.replace("TMP/R", "TMP/root-corrupt") + "mkdir -p TMP/artifacts && head -c 4096 /dev/urandom > "
     f"TMP/artifacts/agent_1.2_all.deb && dpkg --root TMP/root-corrupt {_FLAGS} -i TMP/artifacts/agent_1.2_all.deb"),
    ("dpkg_truncated_deb", "validation", "end of file|short read|truncated|corrupt|unexpected|premature",
     _DPKG_ROOT.replace("TMP/R", "TMP/root-trunc") + "mkdir -p TMP/artifacts && head -c 2000 TMP/big74.deb > "
     f"TMP/artifacts/big74_1.0_all.deb && dpkg --root TMP/root-trunc {_FLAGS} -i TMP/artifacts/big74_1.0_all.deb"),
    ("dpkg_install_directory", "filesystem", "regular file|directory",
     _DPKG_ROOT.replace("TMP/R", "TMP/root-dir") + "mkdir -p TMP/dist/app_1.0_all.deb && "
     f"dpkg --root TMP/root-dir {_FLAGS} -i TMP/dist/app_1.0_all.deb"),
    ("dpkg_status_corrupt", "validation", "parsing file|parse",
     _DPKG_ROOT.replace("TMP/R", "TMP/root-status") + "printf 'Package: libfoo\\nStatus install ok installed\\n"
     "Version: 1.0\\n\\n' > TMP/root-status/var/lib/dpkg/status && "
     f"dpkg --root TMP/root-status {_FLAGS} -i TMP/good74.deb"),
    ("dpkg_deb_missing_version", "validation", "Version|missing",
     "mkdir -p TMP/pkg-nover/DEBIAN && printf 'Package: nover\\nArchitecture: all\\nMaintainer: C <c@example.org>\\n"
     "Description: x\\n' > TMP/pkg-nover/DEBIAN/control && dpkg-deb --build TMP/pkg-nover TMP/nover.deb"),
    ("dpkg_deb_bad_version", "validation", "version|invalid|syntax",
     "mkdir -p TMP/pkg-badver/DEBIAN && printf 'Package: badver\\nVersion: release one\\nArchitecture: all\\n"
     "Maintainer: C <c@example.org>\\nDescription: x\\n' > TMP/pkg-badver/DEBIAN/control && "
     "dpkg-deb --build TMP/pkg-badver TMP/badver.deb"),
    ("dpkg_deb_bad_depends", "validation", "Depends|version|syntax",
     "mkdir -p TMP/pkg-baddep/DEBIAN && printf 'Package: baddep\\nVersion: 1.0\\nArchitecture: all\\n"
     "Maintainer: C <c@example.org>\\nDepends: libssl3 (>> )\\nDescription: x\\n' > TMP/pkg-baddep/DEBIAN/control && "
     "dpkg-deb --build TMP/pkg-baddep TMP/baddep.deb"),
    ("dpkg_deb_no_control", "filesystem", "No such file",
     "mkdir -p TMP/pkg-nocontrol/opt/app && dpkg-deb --build TMP/pkg-nocontrol TMP/nocontrol.deb"),
    ("dpkg_deb_info_garbage", "validation", "not a Debian format archive|format|archive",
     "head -c 3000 /dev/urandom > TMP/download.deb && dpkg-deb --info TMP/download.deb"),
    ("dpkg_deb_extract_read_only", "filesystem", "Read-only|Permission denied",
     "dpkg-deb -x TMP/good74.deb RODIR/extract"),
    ("dpkg_install_disk_full", "resource", "No space left|space",
     _DPKG_ROOT.replace("TMP/R", "FULLROOT") + f"dpkg --root FULLROOT {_FLAGS} -i TMP/big74.deb"),
    ("dpkg_admindir_read_only", "filesystem", "Read-only|Permission denied",
     f"dpkg --root ROROOT {_FLAGS} -i TMP/good74.deb"),
    ("dpkg_compare_bad_version", "validation", "bad syntax|version",
     "dpkg --compare-versions '2.0 beta' gt '1.9'"),
]

DPKG_LOCKED: list[ToolCase] = [
    ("dpkg_database_locked", "resource", "lock", f"dpkg --root TMP/root-lock {_FLAGS} -i TMP/good74.deb"),
    ("dpkg_frontend_locked", "resource", "lock", f"dpkg --root TMP/root-flock {_FLAGS} -i TMP/good74.deb"),
]


def _logrotate(case: str, config: str, state: str = "") -> str:
    conf = f"TMP/lr-{case}.conf"
    return (f"mkdir -p TMP/logs && printf '{config}' > {conf} && chmod 644 {conf} && "
            f"logrotate -f -s {state or f'TMP/lr-{case}.state'} {conf}")


LOGROTATE: list[ToolCase] = [
    ("logrotate_bad_size", "validation", "size|unit|error",
     "echo line > TMP/logs/api.log && " + _logrotate("size", "TMP/logs/api.log {\\n  size 10ZB\\n}\\n")),
    ("logrotate_bad_rotate_count", "validation", "rotate|error|number",
     "echo line > TMP/logs/jobs.log && " + _logrotate("count", "TMP/logs/jobs.log {\\n  rotate many\\n}\\n")),
    ("logrotate_config_missing", "filesystem", "No such file",
     "logrotate -s TMP/lr-nocfg.state TMP/logrotate.d/nonexistent.conf"),
    ("logrotate_include_missing", "filesystem", "No such file|include",
     _logrotate("include", "include TMP/logrotate.d\\n")),
    ("logrotate_log_missing", "filesystem", "No such file|stat",
     _logrotate("nolog", "TMP/logs/worker.log {\\n  rotate 3\\n}\\n")),
    ("logrotate_olddir_missing", "filesystem", "olddir|No such file",
     "echo line > TMP/logs/queue.log && " + _logrotate("olddir", "TMP/logs/queue.log {\\n  olddir "
                                                          "TMP/archive/old\\n  rotate 3\\n}\\n")),
    ("logrotate_read_only_log", "filesystem", "Read-only|Permission denied",
     _logrotate("rolog", "ROLOG/service.log {\\n  rotate 3\\n  create\\n}\\n")),
    ("logrotate_state_read_only", "filesystem", "Read-only|Permission denied",
     "echo line > TMP/logs/state.log && " + _logrotate("rostate", "TMP/logs/state.log {\\n  rotate 3\\n}\\n",
                                                       state="RODIR/logrotate.status")),
    ("logrotate_disk_full", "resource", "No space left|space",
     _logrotate("full", "LRFULL/audit.log {\\n  rotate 3\\n  copytruncate\\n}\\n")),
]

LOGROTATE_LOCKED: list[ToolCase] = [
    ("logrotate_state_locked", "resource", "lock",
     "echo line > TMP/logs/locked.log && " + _logrotate("locked", "TMP/logs/locked.log {\\n  rotate 3\\n}\\n",
                                                        state="TMP/lr-held.state")),
]

ADMIN: list[ToolCase] = [
    ("mount_missing_device", "filesystem", "does not exist|No such",
     "mkdir -p TMP/mnt-data && mount -t ext4 /dev/corpus74-volume TMP/mnt-data"),
    ("mount_missing_mountpoint", "filesystem", "does not exist|No such|mount point",
     "mount -t tmpfs -o size=64k tmpfs TMP/mnt/cache74"),
    ("useradd_bad_name", "validation", "invalid user name|invalid",
     "useradd --root TMP/chroot --no-create-home 'Deploy Bot'"),
    ("useradd_bad_uid", "validation", "invalid user ID|invalid",
     "useradd --root TMP/chroot --no-create-home --uid twelve deploy74"),
    ("groupadd_bad_name", "validation", "invalid group name|not a valid",
     "groupadd --root TMP/chroot 'ops team!'"),
    ("useradd_chroot_missing", "filesystem", "No such file|cannot chroot",
     "useradd --root TMP/no-such-chroot --no-create-home deploy74"),
    ("alternatives_missing_target", "filesystem", "exist|No such",
     "mkdir -p TMP/alt/etc TMP/alt/admin && update-alternatives --altdir TMP/alt/etc --admindir TMP/alt/admin "
     "--install TMP/alt/bin-java java TMP/jdk-21/bin/java 100"),
    ("alternatives_bad_priority", "validation", "priority|integer",
     "mkdir -p TMP/alt2/etc TMP/alt2/admin && touch TMP/alt2/java && update-alternatives --altdir TMP/alt2/etc "
     "--admindir TMP/alt2/admin --install TMP/alt2/bin-java java TMP/alt2/java high"),
    ("sysctl_conf_missing", "filesystem", "No such file|cannot open",
     "sysctl -p TMP/sysctl.d/99-tuning.conf"),
    ("debconf_preseed_garbage", "validation", "line|parse|type|error",
     "printf 'locales=en_US.UTF-8\\n' > TMP/preseed2.cfg && debconf-set-selections -c TMP/preseed2.cfg"),
    ("chroot_missing_tree", "filesystem", "No such file|cannot",
     "chroot TMP/buildroot-bookworm /bin/sh -c 'apt-get update'"),
]


@contextlib.contextmanager
def _held_locks(paths: list[Path], flock: bool = False) -> Iterator[None]:
    """Hold each lock file as another process would (fcntl for apt and dpkg, flock for logrotate)."""
    handles = []
    try:
        for path in paths:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = path.open("a+")
            if flock:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            handles.append(handle)
        yield
    finally:
        for handle in handles:
            handle.close()


def _read_only_copy(env: Env, name: str, populate: str) -> Path:
    """A tmpfs filled by the bash `populate` (with DIR for it), then remounted read-only."""
    target = mount_tmpfs(env, name, "size=2m,mode=0755")
    subprocess.run(["bash", "-c", populate.replace("DIR", str(target))], check=True, capture_output=True)
    subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True, capture_output=True)
    return target


def blind74_records(env: Env) -> list[Record]:
    repo = _repo_server(env)
    ro = mount_tmpfs(env, "ro74", "size=64k,ro")
    small = mount_tmpfs(env, "small74", "size=96k")
    small2 = mount_tmpfs(env, "small74b", "size=128k")
    full_root = mount_tmpfs(env, "fullroot74", "size=160k")
    lr_full = mount_tmpfs(env, "lrfull74", "size=256k,mode=0755")
    subprocess.run(["head", "-c", "180000", "/dev/urandom"], stdout=(lr_full / "audit.log").open("wb"), check=True)
    ro_root = _read_only_copy(env, "roroot74", "mkdir -p DIR/var/lib/dpkg/updates DIR/var/lib/dpkg/info && "
                                               "touch DIR/var/lib/dpkg/status")
    ro_lists = _read_only_copy(env, "rolists74", "mkdir -p DIR/partial")
    ro_log = _read_only_copy(env, "rolog74", "head -c 2000 /dev/urandom | base64 > DIR/service.log")
    (env.tmp / "logs").mkdir()
    (env.tmp / "chroot" / "etc").mkdir(parents=True)
    for name, line in (("passwd", "root:x:0:0:root:/root:/bin/sh\n"), ("group", "root:x:0:\n"),
                       ("shadow", "root:*:19000:0:99999:7:::\n"), ("gshadow", "root:*::\n")):
        (env.tmp / "chroot" / "etc" / name).write_text(line)
    (env.tmp / "chroot" / "etc" / "login.defs").write_text("UID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n")

    def fill(text: str) -> str:
        return (text.replace("REPO", repo).replace("CLOSED", str(env.closed_port)).replace("RESET", str(env.reset_port))
                .replace("HANG", str(env.hang_port)).replace("EMPTY", str(env.empty_port))
                .replace("RODIR", str(ro)).replace("SMALL2", str(small2)).replace("SMALL", str(small))
                .replace("FULLROOT", str(full_root)).replace("ROROOT", str(ro_root)).replace("ROLOG", str(ro_log))
                .replace("LRFULL", str(lr_full)).replace("ROLISTS", str(ro_lists)).replace("TMP", str(env.tmp)))

    out = tool_records(APT_UPDATE, "apt74", env.tmp, fill)
    with _held_locks([env.tmp / "apt-apt_lists_locked" / "lists" / "lock"]):
        out += tool_records(APT_LOCKED, "apt74", env.tmp, fill)
    out += tool_records(APT_DOWNLOAD, "apt74", env.tmp, fill)
    out += tool_records(DPKG, "dpkg74", env.tmp, fill)
    for tree in ("root-lock", "root-flock"):
        run(["bash", "-c", fill(_DPKG_ROOT.replace("TMP/R", f"TMP/{tree}"))])
    admin = env.tmp / "root-lock" / "var" / "lib" / "dpkg"
    frontend = env.tmp / "root-flock" / "var" / "lib" / "dpkg"
    with _held_locks([admin / "lock"]):
        out += tool_records(DPKG_LOCKED[:1], "dpkg74", env.tmp, fill)
    with _held_locks([frontend / "lock-frontend"]):
        out += tool_records(DPKG_LOCKED[1:], "dpkg74", env.tmp, fill)
    out += tool_records(LOGROTATE, "logrotate74", env.tmp, fill)
    (env.tmp / "lr-held.state").touch(mode=0o600)
    with _held_locks([env.tmp / "lr-held.state"], flock=True):
        out += tool_records(LOGROTATE_LOCKED, "logrotate74", env.tmp, fill)
    out += tool_records(ADMIN, "admin74", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind74_records)


__all__ = ["BLIND74_SOURCES", "blind74_records"]
