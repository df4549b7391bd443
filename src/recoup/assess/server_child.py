"""`recoup serve` for `recoup assess`, ending with the assessment that started it.

Usage: ``python -m recoup.assess.server_child PARENT_PID serve [OPTIONS]`` (the options of ``recoup serve``).

Why a wrapper: the assessment runs its telemetry server in a process of its own, so the server does not compete
with the load for the interpreter; if the assessment is killed (SIGKILL, OOM) its server must not outlive it.
A daemon thread checks every `CHECK_EVERY` seconds whether the parent is still ``PARENT_PID`` (a dead parent's
children are re-parented), then asks the server to stop with SIGTERM and exits hard after `GRACE` seconds if
it has not. Polling ``getppid`` rather than Linux's ``PR_SET_PDEATHSIG``: that signal fires when the *thread*
that started the child ends, which would kill the server of a phase started from a short-lived thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

CHECK_EVERY = 0.1
GRACE = 10.0


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_EVERY)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down gracefully; before it serves, the default kills
    time.sleep(GRACE)
    os._exit(1)


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit(f"usage: python -m recoup.assess.server_child PARENT_PID serve [OPTIONS], got {argv!r}")
    parent = int(argv[0])
    if os.getppid() != parent:  # the parent died before we got here
        sys.exit(f"recoup.assess.server_child: parent process {parent} is gone")
    threading.Thread(target=_watch, args=(parent,), name="recoup-parent-watch", daemon=True).start()
    from recoup.cli import app

    app(args=argv[1:], prog_name="recoup")


if __name__ == "__main__":
    main(sys.argv[1:])
