"""A recoup server in a child process, for tests that must kill -9 it: uvicorn on `create_app` over
``--db``, spooling to ``--spool``, on a free 127.0.0.1 port printed as ``PORT <n>`` once it serves.

    python tests/server/serve_child.py --db sqlite:///x.db --spool /tmp/spool
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

import uvicorn

from recoup.server import ServerSettings, create_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--spool", required=True, type=Path)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = ServerSettings(db_url=args.db, spool_dir=args.spool, public_url=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", access_log=False))

    def announce() -> None:
        while not server.started:
            time.sleep(0.01)
        print(f"PORT {port}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
