"""The resource-exhaustion scenario's service: a child process that reports its resource use with the real
`ResourceReporter` (through an `HttpSink`) and, on command, holds open real files up to a share of its
descriptor limit.

Why a child and file descriptors: memory pressure big enough to trip a rule is a ratio of the machine's
memory (RSS / MemTotal without a cgroup limit: ~22 GiB on a 24 GiB box), which would put every other process
at risk; descriptor pressure is a ratio of the process's own soft ``RLIMIT_NOFILE``, which the child lowers
for itself (e.g. to 256), so holding ~250 open files is real exhaustion that endangers nothing else, and the
parent (which also serves the embedded server) keeps its own descriptors.

Protocol (one line each way): the parent writes ``pressure RATIO``, ``heal`` or ``stop`` to stdin; the child
answers ``ready``, ``pressed N``, ``healed`` on stdout, or ``error TEXT``.

    python -m recoup.assess.scenario_resource_child URL KEY SERVICE INTERVAL NOFILE FOLDER
"""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path
from typing import IO


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _open_until(ratio: float, held: list[IO[bytes]], target: Path) -> int:
    """Open ``target`` again and again until open descriptors / soft limit reaches ``ratio``."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = int(ratio * soft)
    while len(os.listdir("/proc/self/fd")) - 1 < wanted:
        held.append(target.open("rb"))
    return len(held)


def main(argv: list[str]) -> int:
    if len(argv) != 6:
        _say("error usage: URL KEY SERVICE INTERVAL NOFILE FOLDER")
        return 2
    url, key, service, interval_text, nofile_text, folder = argv
    from recoup.telemetry.http_sink import HttpSink
    from recoup.telemetry.resources import ResourceReporter

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = min(int(nofile_text), hard if hard != resource.RLIM_INFINITY else int(nofile_text))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    target = Path(folder) / f"{service}-held.txt"
    target.write_text("held open to exhaust file descriptors\n", encoding="utf-8")
    sink = HttpSink(url, api_key=key, flush_interval=0.05, name=f"assess-{service}", close_at_exit=None)
    reporter = ResourceReporter(sink.emit, float(interval_text), service=service).start()
    held: list[IO[bytes]] = []
    _say("ready")
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "pressure":
                try:
                    _say(f"pressed {_open_until(float(arg), held, target)}")
                except (ValueError, OSError) as exc:
                    _say(f"error pressure: {exc}")
            elif command == "heal":
                while held:
                    held.pop().close()
                _say("healed")
            elif command == "stop":
                break
            else:
                _say(f"error unknown command {command!r}")
    finally:
        for handle in held:
            handle.close()
        reporter.stop()
        sink.close(5.0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
