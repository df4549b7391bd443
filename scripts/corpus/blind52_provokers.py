"""Fifty-second batch of blind provokers: backup and sync tools as nightly jobs print them. rclone, restic,
borg, s3cmd and duplicity against a fake S3 endpoint on loopback (buckets answering 403 AccessDenied or
SignatureDoesNotMatch, 503 SlowDown or ServiceUnavailable, 500 InternalError, 400 InvalidBucketName; see
blind52_support.py), a private sshd for sftp/ssh remotes (blind44_support.start_sshd: a wrong key is refused,
a closed port refuses the connection), tmpfs mounts that are full or read-only, repositories opened with the
wrong password or locked by another running process, missing sources, broken config files and unknown flags.
Every case is checked for its cause's token (checked.py). Only 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from blind44_support import start_sshd
from blind52_support import fake_s3, holding, rclone_config, s3cmd_config
from checked import ToolCase, tool_records
from common import Env, Record, run, write_batch
from servers import mount_tmpfs

BLIND52_SOURCES = frozenset({"rclone52", "restic52", "borg52", "s3cmd52", "duplicity52"})

#: rclone retries once, at one level; AWS_CA_BUNDLE (set on this machine for other clients) is dropped, as a
#: nightly job's environment would not carry it and rclone's S3 transport refuses it
_RC = "unset AWS_CA_BUNDLE; rclone --config RCCONF --retries 1 --low-level-retries 1"
_S3_KEYS = "unset AWS_CA_BUNDLE; export AWS_ACCESS_KEY_ID=AKIAB52EXAMPLE AWS_SECRET_ACCESS_KEY=b52secret;"

RCLONE: list[ToolCase] = [
    ("rclone_s3_access_denied", "auth", "AccessDenied", f"{_RC} lsf objects:denied52/nightly/"),
    ("rclone_s3_signature_mismatch", "auth", "SignatureDoesNotMatch", f"{_RC} ls objects:badsig52/nightly/"),
    ("rclone_s3_slow_down", "resource", "SlowDown", f"{_RC} lsf objects:slow52/nightly/"),
    ("rclone_s3_unavailable", "service", "ServiceUnavailable", f"{_RC} sync TMP/export objects:unavail52/nightly"),
    ("rclone_s3_internal_error", "service", "InternalError", f"{_RC} lsf objects:broken52/"),
    ("rclone_s3_invalid_bucket", "validation", "InvalidBucketName", f"{_RC} mkdir objects:Bad_Bucket52"),
    ("rclone_s3_refused", "network", "refused", "export RCLONE_CONFIG_OFFSITE_TYPE=s3 RCLONE_CONFIG_OFFSITE_PROVIDER="
     "Other RCLONE_CONFIG_OFFSITE_ENDPOINT=http://127.0.0.1:CLOSED RCLONE_CONFIG_OFFSITE_ACCESS_KEY_ID=AKIAB52 "
     f"RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY=b52secret; {_RC} copy TMP/export offsite:nightly52/db"),
    ("rclone_sftp_refused", "network", "refused", f"{_RC} --sftp-port CLOSED copy TMP/export vault:/srv/backup"),
    ("rclone_sftp_wrong_key", "auth", "unable to authenticate", f"{_RC} --sftp-key-file BADKEY lsf vault:/srv"),
    ("rclone_copy_disk_full", "resource", "disk space|no space left", f"{_RC} copy TMP/dump.bin FULLRC/"),
    ("rclone_copy_read_only", "filesystem", "read-only", f"{_RC} copy TMP/export/db.sql RODIR/"),
    ("rclone_sync_source_missing", "filesystem", "no such file|not found", f"{_RC} sync TMP/missing-export "
     "TMP/mirror"),
    ("rclone_conf_syntax", "validation", "could not parse", "unset AWS_CA_BUNDLE; rclone --config TMP/broken.conf "
     "lsf objects:nightly52"),
    ("rclone_unknown_flag", "validation", "unknown flag", f"{_RC} copy --checksums TMP/export objects:nightly52"),
    ("rclone_bad_max_age", "validation", "invalid argument", f"{_RC} copy --max-age 3x TMP/export TMP/mirror"),
]



def _racy(token: str, command: str) -> str:
    """Run ``command`` up to five times until its output carries ``token``, then print that run's output and
    exit with its status. For the ssh-backed cases: restic and borg forward ssh's stderr from another thread and
    can exit before it arrives, so a single run sometimes lacks the evidence of the cause."""
    return (f"for attempt in 1 2 3 4 5; do out=$({command} 2>&1); status=$?; "
            f"printf '%s' \"$out\" | grep -qi '{token}' && break; done; printf '%s\\n' \"$out\" >&2; exit $status")


_RESTIC = "export RESTIC_PASSWORD=right-b52; restic"
RESTIC: list[ToolCase] = [
    ("restic_wrong_password", "auth", "wrong password", "RESTIC_PASSWORD=wrong-b52 restic -r TMP/restic-repo "
     "snapshots"),
    ("restic_source_missing", "filesystem", "do not exist|no such file", f"{_RESTIC} -r TMP/restic-repo backup "
     "TMP/missing-export"),
    ("restic_repo_disk_full", "resource", "no space left", f"{_RESTIC} -r FULLRS/repo backup TMP/dump.bin"),
    ("restic_s3_access_denied", "auth", "Access Denied", f"{_S3_KEYS} {_RESTIC} -r s3:http://127.0.0.1:S3PORT/"
     "denied52/restic snapshots"),
    ("restic_s3_refused", "network", "refused", f"{_S3_KEYS} {_RESTIC} -r s3:http://127.0.0.1:CLOSED/nightly52/"
     "restic backup TMP/export"),
    ("restic_sftp_refused", "network", "refused", _racy("refused", f"{_RESTIC} -r sftp:root@127.0.0.1:/srv/restic "
     "-o sftp.command='ssh SSHCLOSEDOPTS root@127.0.0.1 -s sftp' snapshots")),
    ("restic_sftp_wrong_key", "auth", "Permission denied", _racy("Permission denied", f"{_RESTIC} -r "
     "sftp:root@127.0.0.1:/srv/restic -o sftp.command='ssh SSHBADOPTS root@127.0.0.1 -s sftp' snapshots")),
    ("restic_s3_signature_mismatch", "auth", "signature", f"{_S3_KEYS} {_RESTIC} -r "
     "s3:http://127.0.0.1:S3PORT/badsig52/restic backup TMP/export"),
    ("restic_s3_invalid_bucket", "validation", "InvalidBucketName|bucket is not valid", f"{_S3_KEYS} {_RESTIC} -r "
     "s3:http://127.0.0.1:S3PORT/Bad_Bucket52/restic init"),
    ("restic_init_read_only", "filesystem", "read-only", f"{_RESTIC} init -r RODIR/restic"),
    ("restic_unknown_flag", "validation", "unknown flag", f"{_RESTIC} -r TMP/restic-repo backup --exclude-cache-dirs "
     "TMP/export"),
    ("restic_bad_keep_within", "validation", "invalid", f"{_RESTIC} -r TMP/restic-repo forget --keep-within 30x"),
]

#: slow on purpose (restic retries a 5xx answer with back-off, about 12 s); run in parallel with the rest.
#: s3cmd's 5xx cases are left out: it retries five times with fixed waits (over two minutes a case)
RESTIC_SLOW: list[ToolCase] = [
    ("restic_s3_internal_error", "service", "internal error", f"{_S3_KEYS} {_RESTIC} -r s3:http://127.0.0.1:S3PORT/"
     "broken52/restic snapshots"),
]

_BORG = "export BORG_PASSPHRASE=right-b52; borg"
BORG: list[ToolCase] = [
    ("borg_wrong_passphrase", "auth", "passphrase", "BORG_PASSPHRASE=wrong-b52 borg list TMP/borg-repo"),
    ("borg_source_missing", "filesystem", "No such file", f"{_BORG} create TMP/borg-repo::nightly-1 "
     "TMP/missing-export"),
    ("borg_repo_disk_full", "resource", "No space left|Insufficient free space", f"{_BORG} create "
     "FULLBG/repo::nightly-1 TMP/dump.bin"),
    ("borg_repo_read_only", "filesystem", "Read-only", f"{_BORG} create ROBORG/repo::nightly-1 TMP/export"),
    ("borg_init_read_only", "filesystem", "Read-only", f"{_BORG} init -e repokey RODIR/borg"),
    ("borg_ssh_refused", "network", "refused", _racy("refused", f"export BORG_RSH='ssh SSHCLOSEDOPTS'; {_BORG} "
     "list ssh://root@127.0.0.1:CLOSED/srv/borg")),
    ("borg_ssh_wrong_key", "auth", "Permission denied", _racy("Permission denied", "export BORG_RSH='ssh "
     f"SSHBADOPTS'; {_BORG} list ssh://root@127.0.0.1/srv/borg")),
    ("borg_unknown_flag", "validation", "unrecognized arguments", f"{_BORG} create --one-filesystem "
     "TMP/borg-repo::nightly-2 TMP/export"),
    ("borg_bad_archive_name", "validation", "invalid", f"{_BORG} create TMP/borg-repo::nightly/2026-11-29 "
     "TMP/export"),
]

_S3CMD = "s3cmd -c TMP/s3cfg"
S3CMD: list[ToolCase] = [
    ("s3cmd_access_denied", "auth", "AccessDenied|denied", f"{_S3CMD} ls s3://denied52/nightly/"),
    ("s3cmd_signature_mismatch", "auth", "SignatureDoesNotMatch", f"{_S3CMD} put TMP/export/db.sql "
     "s3://badsig52/nightly/db.sql"),
    ("s3cmd_invalid_bucket", "validation", "InvalidBucketName", f"{_S3CMD} mb s3://Bad_Bucket52"),
    ("s3cmd_get_read_only", "filesystem", "Read-only", f"{_S3CMD} get s3://public52/db.sql RODIR/db.sql"),
    ("s3cmd_get_disk_full", "resource", "No space left", f"{_S3CMD} get s3://public52/big.bin FULLS3/big.bin"),
    ("s3cmd_refused", "network", "refused", "s3cmd -c TMP/s3cfg-closed sync TMP/export/ s3://nightly52/db/"),
    ("s3cmd_source_missing", "filesystem", "Nothing to upload", f"{_S3CMD} put TMP/missing-export.tar.gz "
     "s3://nightly52/"),
    ("s3cmd_config_missing", "filesystem", "not available", "s3cmd -c TMP/missing.s3cfg ls s3://nightly52/"),
    ("s3cmd_config_bad_value", "validation", "must be an integer", "s3cmd -c TMP/broken.s3cfg ls s3://nightly52/"),
    ("s3cmd_unknown_flag", "validation", "no such option", f"{_S3CMD} sync --delete-after-upload TMP/export/ "
     "s3://nightly52/"),
]

_DUP = "export PASSPHRASE=right-b52; duplicity --num-retries 1 --archive-dir TMP/dupcache"
_DUP_SSH = "--ssh-options='-oIdentityFile=GOODKEY -oUserKnownHostsFile=KNOWN'"
_DUP_RC = ("unset AWS_CA_BUNDLE; export RCLONE_CONFIG=TMP/rclone.conf RCLONE_RETRIES=1 RCLONE_LOW_LEVEL_RETRIES=1 "
           "PASSPHRASE=right-b52; duplicity --num-retries 1 --archive-dir TMP/dupcache")
DUPLICITY: list[ToolCase] = [
    ("duplicity_rclone_s3_denied", "auth", "AccessDenied", f"{_DUP_RC} --name rcdenied52 TMP/export "
     "rclone://objects:denied52/duplicity"),
    ("duplicity_rclone_s3_internal_error", "service", "InternalError", f"{_DUP_RC} --name rcbroken52 TMP/export "
     "rclone://objects:broken52/duplicity"),
    ("duplicity_source_missing", "filesystem", "does not exist", f"{_DUP} TMP/missing-export file://TMP/dupdest"),
    ("duplicity_target_full", "resource", "No space left", f"{_DUP} --name full52 TMP/bulk file://FULLDP"),
    ("duplicity_target_read_only", "filesystem", "Read-only", f"{_DUP} --name ro52 TMP/export file://RODIR"),
    ("duplicity_wrong_passphrase", "auth", "Bad session key|decryption failed", "PASSPHRASE=wrong-b52 duplicity "
     "restore --archive-dir TMP/dupcache-fresh file://TMP/dupdest-ok TMP/restored"),
    ("duplicity_sftp_refused", "network", "Unable to connect", f"{_DUP} --name sftp52 {_DUP_SSH} TMP/export "
     "sftp://root@127.0.0.1:CLOSED//srv/dup"),
    ("duplicity_sftp_wrong_key", "auth", "Authentication failed", f"{_DUP} --name key52 "
     "--ssh-options='-oIdentityFile=BADKEY -oUserKnownHostsFile=KNOWN' TMP/export "
     "sftp://root@127.0.0.1:SSHPORT//srv/dup"),
    ("duplicity_unknown_flag", "validation", "no such option", f"{_DUP} --keep-last 3 TMP/export "
     "file://TMP/dupdest"),
]

LOCKED: dict[str, ToolCase] = {
    "restic": ("restic_repo_locked", "resource", "already locked", f"{_RESTIC} -r TMP/restic-repo prune"),
    "borg": ("borg_repo_locked", "resource", "acquire the lock", f"{_BORG} create --lock-wait 1 "
             "TMP/borg-repo::nightly-3 TMP/export"),
    "duplicity": ("duplicity_archive_locked", "resource", "already running", f"{_DUP} --name nightly52 TMP/export "
                  "file://TMP/dupdest-locked"),
}

_FASTENERS_HOLD = ("import fasteners, sys; lock = fasteners.InterProcessLock(sys.argv[1]); lock.acquire(); "
                   "sys.stdin.read()")


def _prepare(env: Env, s3_port: int) -> None:
    """Sources, config files and repositories the cases fail against (their setup must succeed)."""
    tmp = env.tmp
    (tmp / "export").mkdir()
    (tmp / "export" / "db.sql").write_text("-- nightly dump\nCREATE TABLE t (id int);\n" * 50)
    (tmp / "bulk").mkdir()
    (tmp / "dump.bin").write_bytes(os.urandom(2_000_000))
    (tmp / "bulk" / "dump.bin").write_bytes((tmp / "dump.bin").read_bytes())
    (tmp / "broken.conf").write_text("[objects]\ntype s3\nprovider = Other\n")
    s3cmd_config(tmp / "s3cfg", s3_port)
    s3cmd_config(tmp / "s3cfg-closed", env.closed_port)
    (tmp / "broken.s3cfg").write_text((tmp / "s3cfg").read_text().replace("socket_timeout = 5",
                                                                          "socket_timeout = 5s"))
    setup = [
        ["restic", "-q", "init", "-r", str(tmp / "restic-repo")],
        ["borg", "init", "-e", "repokey", str(tmp / "borg-repo")],
        ["duplicity", "--archive-dir", str(tmp / "dupcache-ok"), str(tmp / "export"), f"file://{tmp / 'dupdest-ok'}"],
    ]
    for argv in setup:
        proc = run(argv, env={"RESTIC_PASSWORD": "right-b52", "BORG_PASSPHRASE": "right-b52",
                              "PASSPHRASE": "right-b52"})
        if proc.returncode:
            raise RuntimeError(f"setup failed: {argv[0]}")


def _repos_on_mounts(env: Env) -> dict[str, Path]:
    """Full tmpfs mounts for each tool (repositories initialised while there is room) and a repository on a
    mount that is then remounted read-only."""
    mounts = {key: mount_tmpfs(env, name, "size=512k") for key, name in
              (("FULLRC", "full-rclone52"), ("FULLRS", "full-restic52"), ("FULLBG", "full-borg52"),
               ("FULLDP", "full-dup52"), ("FULLS3", "full-s3cmd52"))}
    mounts["RODIR"] = mount_tmpfs(env, "ro52", "size=64k,ro")
    mounts["ROBORG"] = mount_tmpfs(env, "roborg52", "size=4m")
    secrets = {"RESTIC_PASSWORD": "right-b52", "BORG_PASSPHRASE": "right-b52"}
    for argv in (["restic", "-q", "init", "-r", str(mounts["FULLRS"] / "repo")],
                 ["borg", "init", "-e", "repokey", str(mounts["FULLBG"] / "repo")],
                 ["borg", "init", "-e", "repokey", str(mounts["ROBORG"] / "repo")]):
        if run(argv, env=secrets).returncode:
            raise RuntimeError(f"setup failed: {argv[0]} init")
    subprocess.run(["mount", "-o", "remount,ro", str(mounts["ROBORG"])], check=True, capture_output=True)
    return mounts


def _locked_records(env: Env, fill: Callable[[str], str]) -> list[Record]:
    """Each repository locked by a second, still running process while the case's command wants it."""
    tmp = env.tmp
    secrets = {"RESTIC_PASSWORD": "right-b52", "BORG_PASSPHRASE": "right-b52"}
    child_env = dict(os.environ, **secrets)
    holders = {
        "restic": (["restic", "-r", str(tmp / "restic-repo"), "backup", "--stdin", "--stdin-filename", "db.sql"],
                   tmp / "restic-repo" / "locks"),
        "borg": (["borg", "with-lock", str(tmp / "borg-repo"), "cat"], tmp / "borg-repo" / "lock.exclusive"),
        "duplicity": (["/usr/bin/python3", "-c", _FASTENERS_HOLD, str(tmp / "dupcache" / "nightly52" / "lockfile")],
                      tmp / "dupcache" / "nightly52" / "lockfile"),
    }
    (tmp / "dupcache" / "nightly52").mkdir(parents=True, exist_ok=True)
    out: list[Record] = []
    for tool, (argv, ready) in holders.items():
        source = f"{tool}52"
        with holding(argv, ready, env=child_env):
            out += tool_records([LOCKED[tool]], source, tmp, fill)
    return out


def blind52_records(env: Env) -> list[Record]:
    s3_port = fake_s3(env)
    ssh = start_sshd(env)
    rclone_config(env.tmp / "rclone.conf", s3_port, ssh.port, ssh.good_key, ssh.known_hosts)
    _prepare(env, s3_port)
    mounts = _repos_on_mounts(env)

    def fill(text: str) -> str:
        text = (text.replace("SSHBADOPTS", ssh.client(key=ssh.bad_key))
                .replace("SSHCLOSEDOPTS", ssh.client(port=env.closed_port)))
        for key, path in mounts.items():
            text = text.replace(key, str(path))
        return (text.replace("RCCONF", str(env.tmp / "rclone.conf")).replace("S3PORT", str(s3_port))
                .replace("CLOSED", str(env.closed_port)).replace("SSHPORT", str(ssh.port))
                .replace("GOODKEY", str(ssh.good_key)).replace("BADKEY", str(ssh.bad_key))
                .replace("KNOWN", str(ssh.known_hosts)).replace("TMP", str(env.tmp)))

    slow = [(case, "restic52") for case in RESTIC_SLOW]
    with ThreadPoolExecutor(max_workers=len(slow)) as pool:
        pending = [pool.submit(tool_records, [case], source, env.tmp, fill, 120) for case, source in slow]
        out = tool_records(RCLONE, "rclone52", env.tmp, fill)
        out += tool_records(RESTIC, "restic52", env.tmp, fill)
        out += tool_records(BORG, "borg52", env.tmp, fill)
        out += tool_records(S3CMD, "s3cmd52", env.tmp, fill)
        out += tool_records(DUPLICITY, "duplicity52", env.tmp, fill)
        out += _locked_records(env, fill)
        for future in pending:
            out += future.result()
    return out


if __name__ == "__main__":
    write_batch(blind52_records)


__all__ = ["BLIND52_SOURCES", "blind52_records"]
