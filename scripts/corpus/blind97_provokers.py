"""Ninety-seventh batch of blind provokers: job-control and process tools as shell scripts use them (Debian
packages), each failing for a cause provoked here on 127.0.0.1 or in the batch's temporary directory
(blind97_support). GNU parallel and sem (jobs hitting a 503, a 401, a refused port, an untrusted certificate, a
hung peer under --timeout, a refused ssh login host, a job's TypeError, corrupt piped JSON, a missing input, a
full --tmpdir, a read-only --results, a semaphore held by another job, a malformed --timeout); flock, setlock and
s6-setlock against a lock this script holds; timeout(1) around a hung or backlogged peer, a 504, a job's
AttributeError and a malformed interval; inotifywait (missing path, unknown event, descriptor limit); entr
(missing files, a job's NameError, a corrupt config); run-parts (missing directory, unbound variable, syntax
error, bad regex, 502, reset peer, full disk); start-stop-daemon and daemonize (missing executable or pidfile
directory, unknown user, bad signal, relative path, read-only pidfile, held lock); runit (chpst, sv, runsv), s6
and daemontools (unknown users, descriptor and memory limits, missing service directories, a run script that
cannot run); at; xargs -P with failing children; nohup onto a read-only or unwritable directory; su and runuser
as unknown or refused identities; and Python's own view of the same (fcntl.flock, subprocess timeouts and
missing executables)."""

from __future__ import annotations

import fcntl
import subprocess
from typing import Any

from blind97_support import PY, prepare
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND97_SOURCES = frozenset({
    "parallel97", "flock97", "timeout97", "inotify97", "entr97", "runparts97", "ssd97", "daemonize97", "runit97",
    "s6svc97", "daemontools97", "at97", "xargs97", "nohup97", "su97", "pyjobctl97",
})

PAR = "export HOME=@TMP@/home; parallel --will-cite"

# --------------------------------------------------------------------------- GNU parallel and sem

PARALLEL: list[ToolCase] = [
    ("parallel_halt_503", "service", "503",
     f"{PAR} --halt now,fail=1 -j2 'curl -sS -f @HTTP@/status/503?shard={{}}' ::: eu-1 eu-2 us-1"),
    ("parallel_halt_401", "auth", "401",
     f"{PAR} --halt soon,fail=1 'curl -sS -f -u deploy:wrong @HTTP@/status/401?page={{}}' ::: 1 2"),
    ("parallel_refused", "network", "connect",
     f"{PAR} -j4 'curl -sS -o /dev/null @CLOSED@/thumbs/{{}}.png' ::: 101 102 103"),
    ("parallel_tls_untrusted", "network", "certificate",
     f"{PAR} --halt now,fail=1 'curl -sS -o /dev/null @TLS@/api/report?day={{}}' ::: 2026-11-28 2026-11-29"),
    ("parallel_timeout_hung_peer", "network", "timed out",
     f"{PAR} --timeout 2 'curl -sS @HANG@/export?part={{}}' ::: 1 2"),
    ("parallel_ssh_refused", "network", "refused",
     f"{PAR} -S 'ssh -o BatchMode=yes -o StrictHostKeyChecking=no -p @CLOSEDPORT@ 127.0.0.1' --nonall uptime"),
    ("parallel_bad_timeout", "validation", "--timeout", f"{PAR} --timeout 5mins 'gzip -9 {{}}' ::: a.log b.log"),
    ("parallel_job_type_error", "programming", "TypeError",
     f"{PAR} --halt now,fail=1 '@PY@ @TMP@/jobs97/normalize.py {{}}' ::: 7 8"),
    ("parallel_pipe_corrupt_json", "validation", "JSONDecodeError",
     "export HOME=@TMP@/home; printf '{\"id\": 1}\\n{\"id\": 2, \"total\": 9.\\n' | parallel --will-cite "
     "--pipe -N1 --halt now,fail=1 '@PY@ @TMP@/jobs97/rows.py'"),
    ("parallel_input_missing", "filesystem", "No such file",
     f"{PAR} --halt now,fail=1 'wc -l {{}}' ::: @TMP@/inbox/orders-2026-11-29.csv @TMP@/inbox/orders-2026-11-30.csv"),
    ("parallel_tmpdir_full", "resource", "disk full",
     f"{PAR} --tmpdir @FULL@ 'head -c 200000 /dev/urandom' ::: 1 2 >/dev/null"),
    ("parallel_results_read_only", "filesystem", "Read-only",
     f"{PAR} --results @RO@/results 'echo {{}}' ::: a b"),
    ("sem_semaphore_held", "resource", "Semaphore timed out",
     "export HOME=@TMP@/home; sem --will-cite --id backup97 --fg sleep 4 >/dev/null 2>&1 & sleep 1; "
     "sem --will-cite --id backup97 --semaphoretimeout -2 --fg tar -czf /dev/null @TMP@/inbox; rc=$?; wait; exit $rc"),
]

# --------------------------------------------------------------------------- locks: flock, setlock, s6-setlock, chpst

HOLD = "exec 9>@TMP@/deploy97.lock; flock 9; "

LOCKS: list[tuple[str, ToolCase]] = [
    ("flock97", ("flock_nonblock_held", "resource", "failed to get lock",
                 HOLD + "flock --verbose -n @TMP@/deploy97.lock rsync -a @TMP@/inbox/ @TMP@/conf.d/")),
    ("flock97", ("flock_wait_timeout", "resource", "timeout while waiting",
                 HOLD + "flock --verbose -w 1 @TMP@/deploy97.lock rsync -a @TMP@/inbox/ @TMP@/conf.d/")),
    ("flock97", ("flock_lock_dir_missing", "filesystem", "No such file",
                 "flock -n /run/lock/deploy97/deploy.lock true")),
    ("daemontools97", ("setlock_nonblock_held", "resource", "unable to lock",
                       HOLD + "setlock -n @TMP@/deploy97.lock rsync -a @TMP@/inbox/ @TMP@/conf.d/")),
    ("s6svc97", ("s6_setlock_nonblock_held", "resource", "busy",
                 "s6-setlock @TMP@/cron97.lock sleep 20 >/dev/null 2>&1 & h=$!; sleep 0.5; "
                 "s6-setlock -n @TMP@/cron97.lock true; rc=$?; kill $h; exit $rc")),
]

# --------------------------------------------------------------------------- timeout(1)

TIMEOUT: list[ToolCase] = [
    ("timeout_hung_peer", "network", "sending signal", "timeout -v 2 curl -sv @HANG@/healthz"),
    ("timeout_connect_backlog", "network", "sending signal", "timeout -v 2 curl -sv @BACKLOG@/healthz"),
    ("timeout_bad_interval", "validation", "invalid time interval", "timeout 1m30s curl -sS @HTTP@/ok"),
    ("timeout_job_attribute_error", "programming", "AttributeError", "timeout 10 @PY@ @TMP@/jobs97/report97.py"),
    ("timeout_job_504", "service", "504", "timeout 10 curl -sS -f @HTTP@/status/504"),
]

# --------------------------------------------------------------------------- inotifywait, entr

INOTIFY: list[ToolCase] = [
    ("inotifywait_path_missing", "filesystem", "No such file",
     "inotifywait -t 1 -e close_write @TMP@/incoming97"),
    ("inotifywait_bad_event", "validation", "not a valid event", "inotifywait -t 1 -e closewrite @TMP@/inbox"),
    ("inotifywait_fd_limit", "resource", "Too many open files",
     "ulimit -n 4; inotifywait -r -t 1 -e modify @TMP@/tree"),
]

ENTR: list[ToolCase] = [
    ("entr_file_missing", "filesystem", "stat",
     "printf '%s\\n' @TMP@/conf.d/app97.yaml @TMP@/conf.d/queues97.yaml | timeout -s KILL 10 entr -nz true"),
    ("entr_job_name_error", "programming", "NameError",
     "echo @TMP@/jobs97/settings97.json | timeout -s KILL 10 entr -nz @PY@ @TMP@/jobs97/watch97.py"),
    ("entr_job_corrupt_config", "validation", "JSONDecodeError",
     "echo @TMP@/jobs97/settings97.json | timeout -s KILL 10 entr -nz @PY@ @TMP@/jobs97/load_settings.py"),
]

# --------------------------------------------------------------------------- run-parts

RUNPARTS: list[ToolCase] = [
    ("runparts_dir_missing", "filesystem", "No such file", "run-parts --report /etc/cron.hourly97"),
    ("runparts_unbound_variable", "programming", "unbound variable",
     "run-parts --exit-on-error @TMP@/runparts/unbound"),
    ("runparts_syntax_error", "programming", "syntax error", "run-parts --report @TMP@/runparts/syntax"),
    ("runparts_bad_regex", "validation", "regexp", "run-parts --regex '^[0-9]+-[a-z' @TMP@/runparts/present"),
    ("runparts_upstream_502", "service", "502", "run-parts --exit-on-error @TMP@/runparts/unavailable"),
    ("runparts_peer_reset", "network", "reset", "run-parts --exit-on-error @TMP@/runparts/reset"),
    ("runparts_disk_full", "resource", "No space left", "run-parts --exit-on-error @TMP@/runparts/diskfull"),
]

# --------------------------------------------------------------------------- start-stop-daemon, daemonize

SSD = "start-stop-daemon"
DAEMONS: list[tuple[str, ToolCase]] = [
    ("ssd97", ("ssd_exec_missing", "filesystem", "unable to stat",
               f"{SSD} --start --quiet --exec /usr/local/sbin/queue-worker97 -- --queue mail")),
    ("ssd97", ("ssd_chuid_unknown", "auth", "not found",
               f"{SSD} --start --chuid worker97 --exec /bin/sleep -- 30")),
    ("ssd97", ("ssd_bad_signal", "validation", "signal", f"{SSD} --stop --signal HANGUP --pidfile @TMP@/worker.pid")),
    ("daemonize97", ("daemonize_relative_path", "validation", "absolute path", "daemonize queue-worker --queue mail")),
    ("daemonize97", ("daemonize_unknown_user", "auth", "password file", "daemonize -u worker97 /bin/sleep 30")),
    ("daemonize97", ("daemonize_pidfile_read_only", "filesystem", "Read-only",
                     "daemonize -p @RO@/worker.pid /bin/sleep 30")),
    ("daemonize97", ("daemonize_lock_held", "resource", "lock",
                     "daemonize -l @TMP@/mailer97.lock -p @TMP@/mailer97.pid /bin/sleep 30; sleep 0.3; "
                     "daemonize -l @TMP@/mailer97.lock /bin/sleep 30; rc=$?; kill $(cat @TMP@/mailer97.pid); "
                     "exit $rc")),
]

# --------------------------------------------------------------------------- runit, s6, daemontools

SUPERVISION: list[tuple[str, ToolCase]] = [
    ("runit97", ("chpst_unknown_user", "auth", "unknown user", "chpst -u worker97 /bin/true")),
    ("runit97", ("chpst_open_files_limit", "resource", "Too many open files",
                 "chpst -o 8 @PY@ -c 'logs = [open(\"/etc/hostname\") for _ in range(32)]'")),
    ("runit97", ("sv_service_dir_missing", "filesystem", "does not exist", "sv status /etc/sv/worker97")),
    ("runit97", ("runsv_exec_missing", "filesystem", "not found", "timeout 2 runsv @TMP@/service/worker")),
    ("s6svc97", ("s6_setuidgid_unknown", "auth", "unknown user", "s6-setuidgid worker97 /bin/true")),
    ("s6svc97", ("s6_supervise_not_executable", "filesystem", "Permission denied",
                 "timeout 2 s6-supervise @TMP@/service/s6-thumbs")),
    ("daemontools97", ("softlimit_memory", "resource", "MemoryError",
                       "softlimit -m 60000000 @PY@ -c 'frames = [bytearray(32 * 1024 * 1024) for _ in range(8)]'")),
]

# --------------------------------------------------------------------------- at, xargs, nohup, su/runuser

MISC: list[tuple[str, ToolCase]] = [
    ("at97", ("at_denied", "auth", "permission",
              "echo 'tar -czf /tmp/x.tgz /srv' | runuser -u nobody -- at now + 1 hour")),
    ("at97", ("at_garbled_time", "validation", "Garbled time", "echo '/usr/sbin/logrotate -f' | at 25:61 tomorrow")),
    ("xargs97", ("xargs_refused", "network", "connect",
                 "printf '%s\\n' 101 102 103 104 | xargs -P4 -I{} curl -sS -o /dev/null @CLOSED@/thumbs/{}.png")),
    ("xargs97", ("xargs_abort_503", "service", "503",
                 "printf '%s\\n' eu-1 eu-2 | xargs -P2 -n1 "
                 "sh -c 'curl -sS -f @HTTP@/status/503?shard=$0 || exit 255'")),
    ("xargs97", ("xargs_unmatched_quote", "validation", "unmatched",
                 "printf \"O'Brien invoice.pdf\\n\" | xargs -P2 ls")),
    ("xargs97", ("xargs_command_missing", "filesystem", "No such file", "printf 'a\\nb\\n' | xargs -P2 -n1 optipng97")),
    ("xargs97", ("xargs_job_key_error", "programming", "KeyError",
                 "printf '%s\\n' eu-1 eu-3 | xargs -P2 -n1 @PY@ @TMP@/jobs97/shard.py")),
    ("nohup97", ("nohup_read_only_dir", "filesystem", "Read-only",
                 "script -qec 'cd @RO@ && HOME=@RO@ nohup /bin/true' /dev/null")),
    ("nohup97", ("nohup_unwritable_dir", "filesystem", "Permission denied",
                 "runuser -u nobody -- script -qec 'cd @PUB@/spool && HOME=@PUB@/spool nohup /bin/true' /dev/null")),
    ("su97", ("su_unknown_user", "auth", "does not exist", "su deploy97 -c 'make -C /srv/app deploy'")),
    ("su97", ("su_nologin_account", "auth", "not available", "su nobody -c 'make -C /srv/app deploy'")),
    ("su97", ("su_authentication_failure", "auth", "Authentication failure",
              "runuser -u nobody -- su root -c 'systemctl restart app' </dev/null")),
]


# --------------------------------------------------------------------------- Python's view of the same tools


def _python_cases(env: Env, fill: Any) -> list[PyCase]:
    def lock_held() -> None:
        lock = env.tmp / "py97.lock"
        with open(lock, "w") as holder, open(lock, "w") as contender:
            fcntl.flock(holder, fcntl.LOCK_EX)
            fcntl.flock(contender, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def hung_peer() -> None:
        subprocess.run(["curl", "-sS", fill("@HANG@/export?part=1")], capture_output=True, timeout=2, check=False)

    def runner_missing() -> None:
        subprocess.run([str(env.tmp / "bin" / "job-runner"), "--queue", "mail"], capture_output=True, check=False)

    return [
        ("py_flock_held", "resource", "pyjobctl97", "BlockingIOError", lock_held),
        ("py_subprocess_hung_peer", "network", "pyjobctl97", "TimeoutExpired", hung_peer),
        ("py_subprocess_runner_missing", "filesystem", "pyjobctl97", "FileNotFoundError", runner_missing),
    ]


def blind97_records(env: Env) -> list[Record]:
    fill = prepare(env)
    out = tool_records(PARALLEL, "parallel97", env.tmp, fill)
    for source, case in LOCKS + DAEMONS + SUPERVISION + MISC:
        out += tool_records([case], source, env.tmp, fill)
    out += tool_records(TIMEOUT, "timeout97", env.tmp, fill)
    out += tool_records(INOTIFY, "inotify97", env.tmp, fill)
    out += tool_records(ENTR, "entr97", env.tmp, fill)
    out += tool_records(RUNPARTS, "runparts97", env.tmp, fill)
    out += python_records(_python_cases(env, fill))
    return out


if __name__ == "__main__":
    write_batch(blind97_records)


__all__ = ["BLIND97_SOURCES", "PY", "blind97_records"]
