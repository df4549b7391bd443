"""Fixtures of batch 97 (job control and process tools in shell scripts): the job scripts, run-parts and
supervision directories, and a spool directory that `nobody` can reach but not write, all under the batch's
temporary directory (or a sibling removed with it), plus the placeholder filler of the batch's shell cases."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from common import Env
from servers import full_backlog_port, mount_tmpfs, self_signed_https

#: the interpreter of the jobs: the system one, not a shim that needs its own helpers and descriptors
PY = "/usr/bin/python3"

_NORMALIZE = '''import sys

rows = sum(1 for _ in open(sys.argv[0], encoding="utf-8"))
print("normalized " + rows + " rows of batch " + sys.argv[1])
'''

_REPORT = '''import datetime

stamp = datetime.now().isoformat()
print(f"nightly report {stamp}")
'''

_WATCH = '''import pathlib

config = pathlib.Path(__file__).with_name("settings97.json").read_text(encoding="utf-8")
print("reloaded", len(confg), "bytes")
'''

_LOAD_SETTINGS = '''import json
import pathlib

settings = json.loads(pathlib.Path(__file__).with_name("settings97.json").read_text(encoding="utf-8"))
print("workers:", settings["workers"])
'''

_SHARD = '''import sys

SHARDS = {"eu-1": "10.0.1.0/24", "eu-2": "10.0.2.0/24", "us-1": "10.1.1.0/24"}
print("syncing", sys.argv[1], SHARDS[sys.argv[1]])
'''

_ROWS = '''import json
import sys

record = json.loads(sys.stdin.read())
print("imported", record["id"])
'''


def _script(path: Path, text: str, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def prepare(env: Env) -> Callable[[str], str]:
    """Create the fixtures and return the filler of the `@NAME@` placeholders the cases use."""
    tmp = env.tmp
    (tmp / "home").mkdir()
    jobs = tmp / "jobs97"
    _script(jobs / "normalize.py", _NORMALIZE, 0o644)
    _script(jobs / "report97.py", _REPORT, 0o644)
    _script(jobs / "watch97.py", _WATCH, 0o644)
    _script(jobs / "load_settings.py", _LOAD_SETTINGS, 0o644)
    _script(jobs / "shard.py", _SHARD, 0o644)
    _script(jobs / "rows.py", _ROWS, 0o644)
    _script(jobs / "settings97.json", '{"workers": 4,\n "queues": ["mail", "thumbs",\n', 0o644)
    (tmp / "inbox").mkdir()
    _script(tmp / "inbox" / "orders-2026-11-29.csv", "id,total\n1,9.90\n", 0o644)
    (tmp / "conf.d").mkdir()
    for i in range(60):
        (tmp / "tree" / f"site{i:02d}").mkdir(parents=True)

    rp = tmp / "runparts"
    _script(rp / "unbound" / "10-rotate-logs",
            '#!/bin/bash\nset -eu\nfind "$LOG_DIR" -name "*.log" -mtime +7 -delete\n')
    _script(rp / "syntax" / "20-sync", '#!/bin/bash\nif [ -d /srv/mirror ; then\n  rsync -a /srv/mirror/ /srv/www/\n')
    _script(rp / "unavailable" / "30-ping-api", "#!/bin/sh\nexec curl -sS -f @HTTP@/status/502\n")
    _script(rp / "reset" / "40-push-metrics",
            "#!/bin/sh\nexec curl -sS -X POST --data-binary 'jobs 4' @RESET@/metrics\n")
    _script(rp / "diskfull" / "50-snapshot", "#!/bin/sh\nset -e\ndd if=/dev/zero of=@FULL@/snapshot.img bs=64k count=16"
                                             " status=none\n")
    (rp / "present").mkdir()

    sv = tmp / "service"
    _script(sv / "worker" / "run", "#!/bin/sh\nexec 2>&1\nexec /usr/local/bin/queue-worker97 --queue mail\n")
    _script(sv / "s6-thumbs" / "run", "#!/bin/sh\nexec thumbnailer97\n", 0o644)

    pub = Path(tempfile.mkdtemp(prefix="recoup-corpus-97pub-"))
    env._closers.append(lambda: shutil.rmtree(pub, ignore_errors=True))
    pub.chmod(0o755)
    (pub / "spool").mkdir(mode=0o755)

    full = mount_tmpfs(env, "full97", "size=64k")
    ro = mount_tmpfs(env, "ro97", "size=64k,ro")
    places = {
        "@TMP@": str(tmp), "@PUB@": str(pub), "@FULL@": str(full), "@RO@": str(ro), "@PY@": PY,
        "@HTTP@": env.http, "@CLOSED@": f"http://127.0.0.1:{env.closed_port}",
        "@CLOSEDPORT@": str(env.closed_port), "@HANG@": f"http://127.0.0.1:{env.hang_port}",
        "@RESET@": f"http://127.0.0.1:{env.reset_port}", "@BACKLOG@": f"http://127.0.0.1:{full_backlog_port(env)}",
        "@TLS@": f"https://127.0.0.1:{self_signed_https(env)}",
    }
    for path in rp.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for key, value in places.items():
                text = text.replace(key, value)
            path.write_text(text, encoding="utf-8")

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    return fill


__all__ = ["PY", "prepare"]
