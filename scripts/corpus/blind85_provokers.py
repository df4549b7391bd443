"""Eighty-fifth batch of blind provokers: embedded and key-value stores, no server of their own (blind85_support).
LMDB through py-lmdb (map size reached by an import, reader slots exhausted, an environment on a read-only mount,
a data file of an unsupported format version, a str key from the calling code) and through lmdb-utils' mdb_load
(a dump whose header asks for a small map, a target directory that is not there); LevelDB through plyvel (the
LOCK held by another process, a missing database without create_if_missing, a corrupt MANIFEST, the open-files
limit reached); RocksDB through rocksdict (LOCK held by another process, a corrupted SST block); diskcache on a full and
on a read-only tmpfs; dbm.gnu / dbm through the system Python (a gdbm file locked by a writer, a CSV file opened as
a gdbm file, a missing db file); shelve (an unpicklable value from the code, a corrupt pickle on disk); ZODB (a
write conflict between two connections, a blob file removed behind its back, a FileStorage that is not one) and
a ZEO client against a closed port; tinydb (a truncated JSON file, an empty query); sqlitedict (a database
locked by another connection, a write to a read-only dict); zarr (a missing array, chunks of the wrong rank, an
HTTP store answering 503/500/401/403 or never answering); joblib (a dump to a full tmpfs, a truncated pickle)."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Any

import persistent
from blind85_support import expect, few_open_files, holder, lmdb_dump, remount_read_only
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND85_SOURCES = frozenset({"lmdb85", "mdb85", "leveldb85", "rocksdb85", "diskcache85", "dbm85", "shelve85",
                             "zodb85", "zeo85", "tinydb85", "sqlitedict85", "zarr85", "joblib85"})

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-gdbm (the venv's interpreter has no _gdbm)


class Account(persistent.Persistent):  # type: ignore[misc]
    """A ZODB object two connections update at once."""

    def __init__(self) -> None:
        self.balance = 0

# --------------------------------------------------------------------------- LMDB


def _lmdb_cases(env: Env) -> list[PyCase]:
    import lmdb

    root = env.tmp / "lmdb85"
    root.mkdir()

    def map_full() -> None:
        store = lmdb.open(str(root / "catalog"), map_size=256 * 1024)
        with store.begin(write=True) as txn:
            for i in range(20000):  # a nightly import of the product catalogue
                txn.put(b"sku:%07d" % i, b'{"title": "product %d", "price": %d.99}' % (i, i % 300))

    def readers_full() -> None:
        store = lmdb.open(str(root / "sessions"), max_readers=3)
        readers = [store.begin() for _ in range(4)]  # one long read transaction per worker
        readers.clear()

    def read_only_mount() -> None:
        mnt = mount_tmpfs(env, "lmdbro85", "size=1m")
        store = lmdb.open(str(mnt / "orders"))
        with store.begin(write=True) as txn:
            txn.put(b"order:1", b"paid")
        store.close()
        remount_read_only(mnt)
        lmdb.open(str(mnt / "orders"))

    def version_mismatch() -> None:
        path = root / "metrics"
        lmdb.open(str(path)).close()
        data = bytearray((path / "data.mdb").read_bytes())
        for meta in (0, 4096):  # both meta pages say they were written by a newer LMDB data format
            data[meta + 20:meta + 24] = (7).to_bytes(4, "little")
        (path / "data.mdb").write_bytes(bytes(data))
        lmdb.open(str(path))

    def str_key() -> None:
        store = lmdb.open(str(root / "users"))
        with store.begin(write=True) as txn:
            txn.put("user:42", b'{"name": "Ada"}')  # type: ignore[arg-type]

    return [
        ("lmdb_map_full", "resource", "lmdb85", "MapFullError", map_full),
        ("lmdb_readers_full", "resource", "lmdb85", "ReadersFullError", readers_full),
        ("lmdb_read_only_mount", "filesystem", "lmdb85", "Error",
         expect("Read-only", read_only_mount, "lmdb_read_only_mount")),
        ("lmdb_data_format_version", "validation", "lmdb85", "Error",
         expect("not supported|version", version_mismatch, "lmdb_data_format_version")),
        ("lmdb_str_key", "programming", "lmdb85", "TypeError", str_key),
    ]


def _mdb_tools(env: Env) -> list[ToolCase]:
    lmdb_dump(env.tmp / "stock85.dump", entries=4000, mapsize=65536)
    (env.tmp / "stock85").mkdir()
    return [
        ("mdb_load_map_full", "resource", "MDB_MAP_FULL", "mdb_load -f TMP/stock85.dump TMP/stock85"),
        ("mdb_load_missing_dir", "filesystem", "No such file",
         "mdb_load -f TMP/stock85.dump TMP/restore85/stock"),
    ]


# --------------------------------------------------------------------------- LevelDB (plyvel), RocksDB (rocksdict)


def _leveldb_cases(env: Env) -> list[PyCase]:
    import plyvel

    root = env.tmp / "leveldb85"
    root.mkdir()

    def locked() -> None:
        path = root / "events"
        plyvel.DB(str(path), create_if_missing=True).close()
        with holder(f"import plyvel\ndb = plyvel.DB({str(path)!r})"):
            plyvel.DB(str(path))

    def missing() -> None:
        plyvel.DB(str(root / "index-2026"), create_if_missing=False)

    def corrupt_manifest() -> None:
        path = root / "ledger"
        db = plyvel.DB(str(path), create_if_missing=True)
        db.put(b"acct:1", b"100")
        db.close()
        manifest = (path / "CURRENT").read_text().strip()
        (path / manifest).write_bytes(b"\x00\x13\xfftruncated by a failed copy" * 3)
        plyvel.DB(str(path))

    def too_many_open_files() -> None:
        shards = []
        with few_open_files(8):
            try:
                for i in range(32):  # one LevelDB per tenant shard, each keeping its files open
                    shards.append(plyvel.DB(str(root / f"tenant-{i:02d}"), create_if_missing=True))  # noqa: PERF401
            finally:
                for shard in shards:
                    shard.close()

    return [
        ("plyvel_lock_held", "resource", "leveldb85", "IOError", expect("lock", locked, "plyvel_lock_held")),
        ("plyvel_missing_db", "filesystem", "leveldb85", "Error",
         expect("does not exist", missing, "plyvel_missing_db")),
        ("plyvel_corrupt_manifest", "validation", "leveldb85", "CorruptionError", corrupt_manifest),
        ("plyvel_too_many_open_files", "resource", "leveldb85", "IOError",
         expect("Too many open files", too_many_open_files, "plyvel_too_many_open_files")),
    ]


def _rocksdb_cases(env: Env) -> list[PyCase]:
    import rocksdict

    root = env.tmp / "rocksdb85"
    root.mkdir()

    def locked() -> None:
        path = root / "features"
        store = rocksdict.Rdict(str(path))
        store["a"] = 1
        store.close()
        with holder(f"import rocksdict\ndb = rocksdict.Rdict({str(path)!r})"):
            rocksdict.Rdict(str(path))

    def corrupt_sst() -> None:
        path = root / "embeddings"
        store = rocksdict.Rdict(str(path))
        for i in range(3000):
            store[b"vec:%05d" % i] = os.urandom(200)
        store.flush()
        store.close()
        for sst in path.glob("*.sst"):
            data = bytearray(sst.read_bytes())
            for j in range(64, len(data) // 2, 7):
                data[j] ^= 0x5A
            sst.write_bytes(bytes(data))
        store = rocksdict.Rdict(str(path))
        store[b"vec:00010"]

    return [
        ("rocksdict_lock_held", "resource", "rocksdb85", "Exception", expect("lock", locked, "rocksdict_lock_held")),
        ("rocksdict_corrupt_sst", "validation", "rocksdb85", "Exception",
         expect("Corruption", corrupt_sst, "rocksdict_corrupt_sst")),
    ]


# --------------------------------------------------------------------------- diskcache


def _diskcache_cases(env: Env) -> list[PyCase]:
    import diskcache

    def full() -> None:
        mnt = mount_tmpfs(env, "dcfull85", "size=256k")
        cache = diskcache.Cache(str(mnt / "thumbnails"))
        for i in range(200):
            cache[f"thumb:{i}"] = os.urandom(8192)

    def read_only() -> None:
        mnt = mount_tmpfs(env, "dcro85", "size=64k,ro")
        diskcache.Cache(str(mnt / "render-cache"))

    return [
        ("diskcache_disk_full", "resource", "diskcache85", "OperationalError|OSError",
         expect("full|No space", full, "diskcache_disk_full")),
        ("diskcache_read_only", "filesystem", "diskcache85", "OSError",
         expect("Read-only|Errno 30", read_only, "diskcache_read_only")),
    ]


# --------------------------------------------------------------------------- dbm (system Python), shelve

_GDBM_LOCKED = """\
import dbm.gnu, subprocess, sys
path = "TMP/prices85.gdbm"
db = dbm.gnu.open(path, "c"); db[b"EUR"] = b"1.0"; db.close()
hold = "import dbm.gnu, time; db = dbm.gnu.open(%r, 'w'); print('ok', flush=True); time.sleep(60)" % path
writer = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
writer.stdout.readline()
try:
    rates = dbm.gnu.open(path, "w")
    rates[b"USD"] = b"1.08"
finally:
    writer.kill()
"""

_GDBM_WRONG_FORMAT = """\
import dbm.gnu
with open("TMP/customers85.db", "w") as f:
    f.write("id,name,email\\n" + "".join(f"{i},customer {i},c{i}@example.org\\n" for i in range(200)))
db = dbm.gnu.open("TMP/customers85.db", "r")
print(db[b"1"])
"""

_DBM_MISSING = """\
import dbm
with dbm.open("TMP/state85/jobs", "r") as db:
    print(db.get(b"last_run"))
"""


def _dbm_tools(env: Env) -> list[ToolCase]:
    for name, text in (("gdbm_locked85.py", _GDBM_LOCKED), ("gdbm_format85.py", _GDBM_WRONG_FORMAT),
                       ("dbm_missing85.py", _DBM_MISSING)):
        (env.tmp / name).write_text(text.replace("TMP", str(env.tmp)), encoding="utf-8")
    return [
        ("gdbm_locked_by_writer", "resource", "Resource temporarily unavailable|Errno 11",
         [SYSTEM_PYTHON, "TMP/gdbm_locked85.py"]),
        ("gdbm_not_a_gdbm_file", "validation", "Bad magic", [SYSTEM_PYTHON, "TMP/gdbm_format85.py"]),
        ("dbm_file_missing", "filesystem", "doesn't exist", [SYSTEM_PYTHON, "TMP/dbm_missing85.py"]),
    ]


def _shelve_cases(env: Env) -> list[PyCase]:
    import dbm.dumb
    import shelve

    root = env.tmp / "shelve85"
    root.mkdir()

    def unpicklable() -> None:
        def notify(job_id: str) -> None:
            print(job_id)

        with shelve.open(str(root / "jobs")) as jobs:
            jobs["job-17"] = {"state": "queued", "on_done": lambda: notify("job-17")}

    def corrupt_pickle() -> None:
        with shelve.open(str(root / "profiles")) as profiles:
            profiles["ada"] = {"plan": "pro", "seats": list(range(40))}
        with dbm.dumb.open(str(root / "profiles"), "w") as raw:
            raw[b"ada"] = bytes(raw[b"ada"])[:37]  # a record cut short by a crash during the write
        with shelve.open(str(root / "profiles"), "r") as profiles:
            profiles["ada"]

    return [
        ("shelve_unpicklable_value", "programming", "shelve85", "AttributeError|PicklingError", unpicklable),
        ("shelve_corrupt_pickle", "validation", "shelve85", "UnpicklingError|EOFError", corrupt_pickle),
    ]


# --------------------------------------------------------------------------- ZODB, ZEO


def _zodb_cases(env: Env) -> list[PyCase]:
    import transaction
    import ZODB
    import ZODB.blob
    import ZODB.FileStorage

    root = env.tmp / "zodb85"
    root.mkdir()

    def conflict() -> None:
        db = ZODB.DB(ZODB.FileStorage.FileStorage(str(root / "bank.fs")))
        tm1, tm2 = transaction.TransactionManager(), transaction.TransactionManager()
        first = db.open(tm1)
        first.root()["acct"] = Account()
        tm1.commit()
        second = db.open(tm2)
        a1, a2 = first.root()["acct"], second.root()["acct"]
        a2._p_activate()
        a1.balance += 10
        tm1.commit()
        a2.balance += 20
        try:
            tm2.commit()
        finally:
            tm2.abort()
            db.close()

    def blob_missing() -> None:
        storage = ZODB.FileStorage.FileStorage(str(root / "docs.fs"), blob_dir=str(root / "blobs"))
        db = ZODB.DB(storage)
        tm = transaction.TransactionManager()
        conn = db.open(tm)
        conn.root()["invoice"] = ZODB.blob.Blob(b"%PDF-1.4 invoice 2026-11")
        tm.commit()
        db.close()
        for blob in (root / "blobs").rglob("*.blob"):
            blob.unlink()  # a cleanup job removed the blob files
        db = ZODB.DB(ZODB.FileStorage.FileStorage(str(root / "docs.fs"), blob_dir=str(root / "blobs")))
        try:
            with db.open(transaction.TransactionManager()).root()["invoice"].open("r") as f:
                f.read()
        finally:
            db.close()

    def not_a_filestorage() -> None:
        path = root / "Data.fs"
        shutil.copyfile(Path(__file__), path)  # the wrong file restored under the storage's name
        ZODB.FileStorage.FileStorage(str(path))

    return [
        ("zodb_conflict", "resource", "zodb85", "ConflictError", conflict),
        ("zodb_blob_file_missing", "filesystem", "zodb85", "POSKeyError",
         expect("No blob file", blob_missing, "zodb_blob_file_missing")),
        ("zodb_not_a_filestorage", "validation", "zodb85", "FileStorageFormatError", not_a_filestorage),
    ]


def _zeo_cases(env: Env) -> list[PyCase]:
    import ZEO

    def refused() -> None:
        ZEO.client(("127.0.0.1", env.closed_port), wait_timeout=3)

    return [("zeo_connection_refused", "network", "zeo85", "ClientDisconnected", refused)]


# --------------------------------------------------------------------------- tinydb, sqlitedict


def _tinydb_cases(env: Env) -> list[PyCase]:
    import tinydb

    def truncated() -> None:
        path = env.tmp / "tasks85.json"
        path.write_text('{"_default": {"1": {"title": "backup", "done": false}, "2": {"title": ', encoding="utf-8")
        tinydb.TinyDB(str(path)).all()

    def empty_query() -> None:
        db = tinydb.TinyDB(str(env.tmp / "users85.json"))
        db.insert({"name": "ada", "role": "admin"})
        db.search(tinydb.Query())

    return [
        ("tinydb_truncated_json", "validation", "tinydb85", "JSONDecodeError", truncated),
        ("tinydb_empty_query", "programming", "tinydb85", "RuntimeError", empty_query),
    ]


def _sqlitedict_cases(env: Env) -> list[PyCase]:
    import sqlitedict

    def locked() -> None:
        path = env.tmp / "tokens85.sqlite"
        with sqlitedict.SqliteDict(str(path), autocommit=True) as store:
            store["svc"] = "a"
        other = sqlite3.connect(str(path), isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # a maintenance job holds the database
        try:
            store = sqlitedict.SqliteDict(str(path), autocommit=True, timeout=1)
            store["svc"] = "b"
            store.commit()
        finally:
            other.close()

    def read_only_dict() -> None:
        path = env.tmp / "flags85.sqlite"
        with sqlitedict.SqliteDict(str(path), autocommit=True) as store:
            store["dark_mode"] = True
        with sqlitedict.SqliteDict(str(path), flag="r") as store:
            store["dark_mode"] = False

    return [
        ("sqlitedict_locked", "resource", "sqlitedict85", "OperationalError",
         expect("locked", locked, "sqlitedict_locked")),
        ("sqlitedict_write_read_only", "programming", "sqlitedict85", "RuntimeError", read_only_dict),
    ]


# --------------------------------------------------------------------------- zarr, joblib


def _zarr_cases(env: Env) -> list[PyCase]:
    import aiohttp
    import zarr

    def remote(url: str, **options: Any) -> Any:
        return zarr.open_array(url, mode="r", storage_options=options or None)

    def wrong_chunks() -> None:
        zarr.create_array(str(env.tmp / "temperature85.zarr"), shape=(365, 180, 360), chunks=(30, 180), dtype="f4")

    hang = f"http://127.0.0.1:{env.hang_port}/climate/t2m.zarr"
    return [
        ("zarr_missing_array", "filesystem", "zarr85", "FileNotFoundError",
         lambda: zarr.open_array(str(env.tmp / "archive85" / "t2m.zarr"), mode="r")),
        ("zarr_chunk_rank", "programming", "zarr85", "ValueError", wrong_chunks),
        ("zarr_http_503", "service", "zarr85", "ClientResponseError", lambda: remote(env.url(503) + "/t2m.zarr")),
        ("zarr_http_500", "service", "zarr85", "ClientResponseError", lambda: remote(env.url(500) + "/t2m.zarr")),
        ("zarr_http_401", "auth", "zarr85", "ClientResponseError", lambda: remote(env.url(401) + "/t2m.zarr")),
        ("zarr_http_403", "auth", "zarr85", "ClientResponseError", lambda: remote(env.url(403) + "/t2m.zarr")),
        ("zarr_http_read_timeout", "network", "zarr85", "TimeoutError|ServerTimeoutError",
         lambda: remote(hang, client_kwargs={"timeout": aiohttp.ClientTimeout(total=2)})),
    ]


def _joblib_cases(env: Env) -> list[PyCase]:
    import joblib
    import numpy as np

    def dump_full() -> None:
        mnt = mount_tmpfs(env, "jlfull85", "size=512k")
        joblib.dump({"weights": np.random.rand(200_000)}, str(mnt / "model85.joblib"))

    def truncated() -> None:
        path = env.tmp / "scaler85.joblib"
        joblib.dump({"mean": np.arange(2000, dtype="f8")}, str(path))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # an interrupted upload
        joblib.load(str(path))

    return [
        ("joblib_dump_disk_full", "resource", "joblib85", "OSError", expect("No space", dump_full, "joblib_dump_full")),
        ("joblib_load_truncated", "validation", "joblib85", "ValueError|EOFError|UnpicklingError", truncated),
    ]


# --------------------------------------------------------------------------- batch


def blind85_records(env: Env) -> list[Record]:
    logging.disable(logging.CRITICAL)  # ZODB, sqlitedict and asyncio would log the failures on stderr
    warnings.simplefilter("ignore")
    threading.excepthook = lambda args: None  # sqlitedict's worker thread re-raises in the caller

    def fill(text: str) -> str:
        return text.replace("TMP", str(env.tmp))

    out = python_records(_lmdb_cases(env))
    out += tool_records(_mdb_tools(env), "mdb85", env.tmp, fill)
    out += python_records(_leveldb_cases(env))
    out += python_records(_rocksdb_cases(env))
    out += python_records(_diskcache_cases(env))
    out += tool_records(_dbm_tools(env), "dbm85", env.tmp, fill)
    out += python_records(_shelve_cases(env))
    out += python_records(_zodb_cases(env))
    out += python_records(_zeo_cases(env))
    out += python_records(_tinydb_cases(env))
    out += python_records(_sqlitedict_cases(env))
    out += python_records(_zarr_cases(env))
    out += python_records(_joblib_cases(env))
    return out


if __name__ == "__main__":
    write_batch(blind85_records)


__all__ = ["BLIND85_SOURCES", "blind85_records"]
