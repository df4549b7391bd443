"""Thirty-eighth batch of blind provokers: Python application code and libraries new to the corpus, the errors
data pipelines and web services raise. pydantic-settings reading missing or malformed environment variables;
polars and pyarrow reading CSV/Parquet with bad values, misnamed columns, missing files and a full disk; openpyxl
opening what is not a workbook, misaddressing a cell and saving to a read-only mount; SQLModel data models,
queries, mappings and a locked sqlite file; httpx and requests calling a real FastAPI app under uvicorn that
answers 422/401/403/429/500/502/503 (raise_for_status), and httpx asked for HTTP/2 without h2; asyncio misuse, a
read that times out on a hanging peer and an expired TLS certificate; the stdlib a pipeline leans on (process
pools pickling a lambda or running out of memory, logging.config with a misspelt handler class, shutil.copytree
onto an existing tree, a JSON body cut short, a certificate for another host name); an argparse CLI rejecting its
argv. Only 127.0.0.1, tmpfs mounts and temp dirs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from blind38_support import serve_app, tls_server
from checked import PyCase, ToolCase, has_token, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND38_SOURCES = frozenset({"pydantic-settings38", "polars38", "pyarrow38", "openpyxl38", "sqlmodel38", "fastapi38",
                             "httpx38", "asyncio38", "stdlib38", "argparse38"})

#: provoker -> the token its exception line must carry (beyond the type check of `python_records`)
_TOKENS = {
    "pyarrow_parquet_disk_full": "No space left|errno 28",
    "openpyxl_save_read_only": "Read-only",
    "sqlmodel_database_locked": "locked",
    "ssl_hostname_mismatch": "mismatch",
    "asyncio_tls_expired": "expired",
    "httpx_422_query": "422",
    "httpx_401_token": "401",
    "requests_401_basic": "401",
    "requests_403_report": "403",
    "httpx_429_search": "429",
    "httpx_503_inventory": "503",
    "requests_500_export": "500",
    "httpx_502_prices": "502",
}


# --------------------------------------------------------------------------- process-pool workers (module level)


def _limit_address_space() -> None:
    """Pool initializer: the worker may grow 256 MiB beyond what it maps now, as a container limit would."""
    import resource

    status = Path("/proc/self/status").read_text()
    vm_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm_kib * 1024 + 256 * 1024 * 1024, hard))


def _build_index(rows: int) -> int:
    """A worker that holds one kilobyte per row in memory."""
    buffer = bytearray(rows * 1024)
    return len(buffer)


# --------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def _environ(**values: str | None) -> Iterator[None]:
    """Set (or unset, for None) environment variables for the block and restore them after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _keep_with_tokens(recs: list[Record]) -> list[Record]:
    """Drop both records of a case whose exception line lacks the token of its provoked cause."""
    failed: set[str] = set()
    for rec in recs:
        name = rec["provoker"]
        if rec["kind"] == "exception" and name in _TOKENS and not has_token(name, rec["text"], _TOKENS[name]):
            failed.add(name)
    return [rec for rec in recs if rec["provoker"] not in failed]


# --------------------------------------------------------------------------- Python cases


def _pool_cases() -> list[PyCase]:
    """Run first, before uvicorn and the data libraries start threads in this process (the pool forks)."""

    def pickle_lambda() -> None:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=1) as pool:
            print(pool.submit(lambda row: row * 2, 21).result(timeout=20))

    def worker_memory() -> None:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=1, initializer=_limit_address_space) as pool:
            print(pool.submit(_build_index, 4_000_000).result(timeout=30))

    return [
        ("process_pool_pickle_lambda", "programming", "stdlib38", "PicklingError|AttributeError", pickle_lambda),
        ("process_pool_worker_memory", "resource", "stdlib38", "MemoryError", worker_memory),
    ]


def _settings_cases() -> list[PyCase]:
    def settings_class() -> Any:
        from pydantic_settings import BaseSettings, SettingsConfigDict

        class DeploySettings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="B38_")

            database_url: str
            worker_count: int = 4
            allowed_hosts: list[str] = []

        return DeploySettings

    def missing() -> None:
        with _environ(B38_DATABASE_URL=None, B38_WORKER_COUNT=None, B38_ALLOWED_HOSTS=None):
            settings_class()()

    def bad_int() -> None:
        with _environ(B38_DATABASE_URL="postgresql://app@127.0.0.1/app", B38_WORKER_COUNT="four",
                      B38_ALLOWED_HOSTS=None):
            settings_class()()

    def not_json_list() -> None:
        with _environ(B38_DATABASE_URL="postgresql://app@127.0.0.1/app", B38_WORKER_COUNT=None,
                      B38_ALLOWED_HOSTS="api.example.org,www.example.org"):
            settings_class()()

    return [
        ("settings_missing_env", "validation", "pydantic-settings38", "ValidationError", missing),
        ("settings_env_not_int", "validation", "pydantic-settings38", "ValidationError", bad_int),
        ("settings_env_list_not_json", "validation", "pydantic-settings38", "SettingsError", not_json_list),
    ]


def _data_cases(env: Env, disk: Path, ro: Path) -> list[PyCase]:
    data = env.tmp / "data38"
    data.mkdir()
    orders_csv = data / "orders.csv"
    orders_csv.write_text("order_id,sku,qty\n1001,A-1,3\n1002,B-2,ten\n1003,C-3,1\n")

    def polars_bad_int() -> None:
        import polars as pl

        pl.read_csv(orders_csv, schema_overrides={"qty": pl.Int64})

    def polars_column() -> None:
        import polars as pl

        frame = pl.DataFrame({"order_id": [1001, 1002], "qty": [3, 1]})
        print(frame.select(pl.col("quantity").sum()))

    def polars_missing() -> None:
        import polars as pl

        pl.read_parquet(data / "2026-11-28" / "events.parquet")

    def pyarrow_conversion() -> None:
        import pyarrow as pa
        from pyarrow import csv

        csv.read_csv(orders_csv, convert_options=csv.ConvertOptions(column_types={"qty": pa.int64()}))

    def pyarrow_disk_full() -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"event_id": pa.array(range(300_000)), "payload": [os.urandom(8).hex()] * 300_000})
        pq.write_table(table, disk / "events.parquet", compression="none")

    def openpyxl_not_zip() -> None:
        import openpyxl

        report = data / "report.xlsx"
        report.write_text("<html><body><h1>Sign in to continue</h1></body></html>")
        openpyxl.load_workbook(report)

    def openpyxl_row_zero() -> None:
        import openpyxl

        sheet = openpyxl.Workbook().active
        assert sheet is not None
        for index, value in enumerate(["sku", "qty"]):
            sheet.cell(row=0, column=index + 1, value=value)

    def openpyxl_read_only() -> None:
        import openpyxl

        openpyxl.Workbook().save(ro / "weekly.xlsx")

    return [
        ("polars_csv_bad_int", "validation", "polars38", "ComputeError|PolarsError", polars_bad_int),
        ("polars_column_not_found", "programming", "polars38", "ColumnNotFoundError", polars_column),
        ("polars_parquet_missing", "filesystem", "polars38", "FileNotFoundError", polars_missing),
        ("pyarrow_csv_conversion", "validation", "pyarrow38", "ArrowInvalid", pyarrow_conversion),
        ("pyarrow_parquet_disk_full", "resource", "pyarrow38", "OSError", pyarrow_disk_full),
        ("openpyxl_not_a_zip", "validation", "openpyxl38", "BadZipFile|InvalidFileException", openpyxl_not_zip),
        ("openpyxl_row_zero", "programming", "openpyxl38", "ValueError", openpyxl_row_zero),
        ("openpyxl_save_read_only", "filesystem", "openpyxl38", "OSError", openpyxl_read_only),
    ]


def _sqlmodel_cases(env: Env) -> list[PyCase]:
    from sqlmodel import Field, Session, SQLModel, create_engine, select

    class JobCreate(SQLModel):
        name: str
        attempts: int = 0

    class Job38(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
        status: str = "queued"

    def validate() -> None:
        JobCreate.model_validate({"name": "nightly-export", "attempts": "three"})

    def misnamed() -> None:
        print(select(Job38).where(Job38.stauts == "done"))  # type: ignore[attr-defined]

    def locked() -> None:
        engine = create_engine(f"sqlite:///{env.tmp / 'jobs38.db'}", connect_args={"timeout": 0.3})
        SQLModel.metadata.create_all(engine, tables=[Job38.__table__])  # type: ignore[attr-defined]
        try:
            with Session(engine) as writer, Session(engine) as other:
                writer.add(Job38(name="nightly-export"))
                writer.flush()
                other.add(Job38(name="hourly-sync"))
                other.commit()
        finally:
            engine.dispose()

    def no_primary_key() -> None:
        class AuditEntry38(SQLModel, table=True):
            actor: str
            action: str

        print(AuditEntry38)

    return [
        ("sqlmodel_validate", "validation", "sqlmodel38", "ValidationError", validate),
        ("sqlmodel_misnamed_column", "programming", "sqlmodel38", "AttributeError", misnamed),
        ("sqlmodel_database_locked", "resource", "sqlmodel38", "OperationalError", locked),
        ("sqlmodel_no_primary_key", "programming", "sqlmodel38", "ArgumentError", no_primary_key),
    ]


def _http_cases(app: str) -> list[PyCase]:
    def httpx_get(path: str, **kw: Any) -> None:
        import httpx

        with httpx.Client(base_url=app, timeout=5) as client:
            client.get(path, **kw).raise_for_status()

    def requests_get(path: str, **kw: Any) -> None:
        import requests

        requests.get(f"{app}{path}", timeout=5, **kw).raise_for_status()

    def search_429() -> None:
        import httpx

        async def main() -> None:
            async with httpx.AsyncClient(base_url=app, timeout=5) as client:
                response = await client.post("/v1/search", json={"q": "sku:A-*"})
                response.raise_for_status()

        asyncio.run(main())

    def http2_without_h2() -> None:
        import httpx

        with httpx.Client(http2=True, base_url=app) as client:
            client.get("/v1/orders")

    return [
        ("httpx_422_query", "validation", "fastapi38", "HTTPStatusError",
         lambda: httpx_get("/v1/orders", params={"limit": "ten"})),
        ("httpx_401_token", "auth", "fastapi38", "HTTPStatusError",
         lambda: httpx_get("/v1/admin/jobs", headers={"Authorization": "Bearer b38-revoked"})),
        ("requests_401_basic", "auth", "fastapi38", "HTTPError", lambda: requests_get("/v1/login", auth=("ci", "x"))),
        ("requests_403_report", "auth", "fastapi38", "HTTPError", lambda: requests_get("/v1/reports/7")),
        ("httpx_429_search", "resource", "fastapi38", "HTTPStatusError", search_429),
        ("httpx_503_inventory", "service", "fastapi38", "HTTPStatusError", lambda: httpx_get("/v1/inventory")),
        ("requests_500_export", "service", "fastapi38", "HTTPError", lambda: requests_get("/v1/export")),
        ("httpx_502_prices", "service", "fastapi38", "HTTPStatusError", lambda: httpx_get("/v1/prices")),
        ("httpx_http2_without_h2", "programming", "httpx38", "ImportError", http2_without_h2),
    ]


def _async_and_stdlib_cases(env: Env, app: str, mismatch: tuple[int, Path], expired: tuple[int, Path]) -> list[PyCase]:
    def run_nested() -> None:
        async def refresh_cache() -> None:
            await asyncio.sleep(0)

        async def handler() -> None:
            coro = refresh_cache()
            try:
                asyncio.run(coro)
            finally:
                coro.close()

        asyncio.run(handler())

    def read_timeout() -> None:
        async def health() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", env.hang_port)
            try:
                writer.write(b"GET /health HTTP/1.1\r\nHost: inventory\r\n\r\n")
                await writer.drain()
                return await asyncio.wait_for(reader.readline(), timeout=1.0)
            finally:
                writer.close()

        asyncio.run(health())

    def tls_expired() -> None:
        import ssl

        port, cafile = expired

        async def connect() -> None:
            ctx = ssl.create_default_context(cafile=str(cafile))
            _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="billing.internal")
            writer.close()

        asyncio.run(connect())

    def hostname_mismatch() -> None:
        import socket
        import ssl

        port, cafile = mismatch
        ctx = ssl.create_default_context(cafile=str(cafile))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname="payments.internal") as tls:
            tls.sendall(b"PING\r\n")

    def dict_config() -> None:
        import logging.config

        logging.config.dictConfig({
            "version": 1,
            "handlers": {"file": {"class": "logging.handlers.RotatingFileHandlr",
                                  "filename": str(env.tmp / "app38.log"), "maxBytes": 1_000_000}},
            "root": {"level": "INFO", "handlers": ["file"]},
        })

    def copytree_exists() -> None:
        import shutil

        src, dst = env.tmp / "build38" / "static", env.tmp / "site38" / "static"
        for folder in (src, dst):
            folder.mkdir(parents=True)
        (src / "app.js").write_text("console.log(1)\n")
        shutil.copytree(src, dst)

    def truncated_json() -> None:
        import json
        import urllib.request

        with urllib.request.urlopen(f"{app}/v1/feed", timeout=5) as response:
            print(json.loads(response.read()))

    return [
        ("asyncio_run_in_running_loop", "programming", "asyncio38", "RuntimeError", run_nested),
        ("asyncio_wait_for_read", "network", "asyncio38", "TimeoutError", read_timeout),
        ("asyncio_tls_expired", "network", "asyncio38", "SSLCertVerificationError|SSLError", tls_expired),
        ("ssl_hostname_mismatch", "network", "stdlib38", "SSLCertVerificationError|SSLError", hostname_mismatch),
        ("logging_dictconfig_handler", "programming", "stdlib38", "ValueError", dict_config),
        ("shutil_copytree_exists", "filesystem", "stdlib38", "FileExistsError", copytree_exists),
        ("json_truncated_body", "validation", "stdlib38", "JSONDecodeError", truncated_json),
    ]


# --------------------------------------------------------------------------- an argparse CLI run from a CI step

_CLI = '''import argparse

parser = argparse.ArgumentParser(prog="deploy", description="Roll out a release.")
parser.add_argument("--env", choices=["dev", "staging", "prod"], required=True)
parser.add_argument("--replicas", type=int, default=2)
parser.add_argument("--manifest", type=argparse.FileType("r"), required=True)
args = parser.parse_args()
print(args.env, args.replicas, args.manifest.name)
'''

CLI: list[ToolCase] = [
    ("argparse_invalid_choice", "validation", "invalid choice", "PY CLI --env stage --manifest MANIFEST"),
    ("argparse_invalid_int", "validation", "invalid int value",
     "PY CLI --env prod --replicas three --manifest MANIFEST"),
    ("argparse_manifest_missing", "filesystem", "No such file", "PY CLI --env prod --manifest deploy/k8s/app.yaml"),
]


def blind38_records(env: Env) -> list[Record]:
    out = python_records(_pool_cases())
    disk = mount_tmpfs(env, "disk38", "size=256k")
    ro = mount_tmpfs(env, "ro38", "size=64k,ro")
    app = serve_app(env)
    mismatch = tls_server(env, "billing.internal")
    expired = tls_server(env, "billing.internal", expired=True)
    out += python_records(_settings_cases())
    out += python_records(_data_cases(env, disk, ro))
    out += python_records(_sqlmodel_cases(env))
    out += python_records(_http_cases(app))
    out += python_records(_async_and_stdlib_cases(env, app, mismatch, expired))
    out = _keep_with_tokens(out)

    cli = env.tmp / "deploy_cli.py"
    cli.write_text(_CLI)
    manifest = env.tmp / "release38.yaml"
    manifest.write_text("image: registry.example.org/app:1.4.2\n")

    def fill(command: str) -> str:
        return command.replace("PY", sys.executable).replace("CLI", str(cli)).replace("MANIFEST", str(manifest))

    out += tool_records(CLI, "argparse38", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind38_records)


__all__ = ["BLIND38_SOURCES", "blind38_records"]
