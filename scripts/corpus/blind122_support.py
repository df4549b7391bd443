"""Fixtures of the hundred-and-twenty-second batch: a private PostgreSQL 15 cluster with a `cadastre` database that
has PostGIS, pgTAP and pg_repack installed (parcels, address points, a parcel history big enough to fill a tiny
tablespace, a `gis_analyst` role with a password and no grants), a tablespace on a 1 MiB tmpfs, a standby that
refuses connections, a second cluster kept in a smart shutdown by an open session, held connection slots and an
ACCESS EXCLUSIVE lock held by another session; dump files (a real custom-format dump, the same cut short, a
garbled one), pgTAP test files, and shapefile/raster inputs (real ones written by pgsql2shp, garbled ones)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common import Env, run
from servers import PG_BIN, PrivatePostgres, mount_tmpfs, private_postgres

#: the password of `app` (servers.private_postgres) and of the batch's `gis_analyst`
PASSWORD = "right-password"

_SCHEMA = f"""
CREATE EXTENSION postgis;
CREATE EXTENSION pgtap;
CREATE EXTENSION pg_repack;
CREATE ROLE gis_analyst LOGIN PASSWORD '{PASSWORD}';
CREATE TABLE parcels (
    parcel_id bigint PRIMARY KEY,
    cadastral_ref text NOT NULL UNIQUE,
    owner_name text,
    geom geometry(Polygon, 3857) NOT NULL
);
CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);
INSERT INTO parcels
SELECT g, 'DE-BE-' || lpad(g::text, 6, '0'), 'owner ' || g,
       ST_MakeEnvelope(1490000 + g * 40, 6890000, 1490000 + g * 40 + 35, 6890030, 3857)
FROM generate_series(1, 400) g;
CREATE TABLE address_points (
    address_id bigint PRIMARY KEY,
    street text NOT NULL,
    house_no text NOT NULL,
    geom geometry(Point, 4326) NOT NULL
);
INSERT INTO address_points
SELECT g, 'Friedrichstrasse', g::text, ST_SetSRID(ST_MakePoint(13.388 + g * 0.0001, 52.507), 4326)
FROM generate_series(1, 200) g;
CREATE TABLE parcel_history (
    change_id bigint PRIMARY KEY,
    parcel_id bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    note text NOT NULL
);
INSERT INTO parcel_history
SELECT g, g % 400 + 1, now() - g * interval '1 minute', repeat(md5(g::text), 8)
FROM generate_series(1, 24000) g;
CREATE TABLE survey_log (logged_at timestamptz, surveyor text, note text);
INSERT INTO survey_log SELECT now(), 'team-' || g % 5, 'walked boundary' FROM generate_series(1, 50) g;
CLUSTER parcels USING parcels_pkey;
CREATE EXTENSION amcheck;
GRANT CONNECT ON DATABASE cadastre TO gis_analyst;
"""

_TAP_OK = """BEGIN;
SELECT plan(3);
SELECT has_table('public', 'parcels', 'parcels table exists');
SELECT col_not_null('public', 'parcels', 'geom', 'parcel geometry is mandatory');
SELECT is((SELECT count(*) FROM parcels)::int, 400, 'all parcels imported');
SELECT * FROM finish();
ROLLBACK;
"""

_TAP_FAILING = """BEGIN;
SELECT plan(5);
SELECT has_table('public', 'parcels', 'parcels table exists');
SELECT is((SELECT count(*) FROM parcels)::int, 412, 'all parcels of the 2025 import are present');
SELECT ok((SELECT bool_and(ST_IsValid(geom)) FROM parcels), 'every parcel geometry is valid');
SELECT is((SELECT ST_SRID(geom) FROM address_points LIMIT 1), 25833, 'address points are stored in ETRS89 / UTM 33N');
SELECT has_index('public', 'address_points', 'address_points_geom_idx', 'address points have a spatial index');
SELECT * FROM finish();
ROLLBACK;
"""

_TAP_THROWS = """BEGIN;
SELECT plan(2);
SELECT throws_ok(
    $$INSERT INTO parcels VALUES (9001, 'DE-BE-009001', 'x', ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 1,0 0))', 3857))$$,
    '23505', NULL, 'a duplicate cadastral reference is rejected');
SELECT results_eq(
    $$SELECT street FROM address_points WHERE address_id = 1$$,
    $$VALUES ('Friedrichstraße')$$,
    'street names keep their umlauts');
SELECT * FROM finish();
ROLLBACK;
"""

_TAP_BROKEN_SQL = """BEGIN;
SELECT plan(2);
SELECT has_table('public', 'parcels');
SELECT is(count(*)::int, 400, 'parcel count') FORM parcels;
SELECT * FROM finish();
ROLLBACK;
"""


@dataclass
class Clusters:
    """Ports and files of the batch."""

    main: PrivatePostgres
    standby: int
    root: Path
    cramped: Path
    full: Path
    read_only: Path
    dump: Path
    dump_cut: Path
    dump_garbled: Path
    shp: Path


def psql(port: int, sql: str, db: str = "cadastre") -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
                "-q", "-c", sql])
    if proc.returncode:
        raise RuntimeError(f"batch 122 setup failed: {proc.stderr.strip()[:300]}")


def _write_tests(root: Path) -> None:
    tests = root / "t"
    tests.mkdir()
    (tests / "01-schema.sql").write_text(_TAP_OK)
    (tests / "02-import-2025.sql").write_text(_TAP_FAILING)
    (tests / "03-constraints.sql").write_text(_TAP_THROWS)
    (tests / "04-counts.sql").write_text(_TAP_BROKEN_SQL)


def _write_gis_inputs(root: Path, port: int) -> Path:
    """A real parcels shapefile (pgsql2shp), a garbled one and a garbled GeoTIFF."""
    gis = root / "import"
    gis.mkdir()
    proc = run(["pgsql2shp", "-f", str(gis / "parcels_2025"), "-h", "127.0.0.1", "-p", str(port), "-u", "postgres",
                "cadastre", "SELECT parcel_id, cadastral_ref, geom FROM parcels WHERE parcel_id <= 20"])
    if proc.returncode:
        raise RuntimeError("pgsql2shp failed")
    garbled = gis / "flurstuecke_mitte"
    for ext in (".shp", ".shx", ".dbf"):
        (garbled.with_suffix(ext)).write_bytes(b"<html><body>504 Gateway Time-out</body></html>\n" * 30)
    no_dbf = gis / "gebaeude_2025"
    for ext in (".shp", ".shx"):
        shutil.copy(gis / f"parcels_2025{ext}", no_dbf.with_suffix(ext))
    (gis / "dop20_berlin_390_5819.tif").write_bytes(b"II*\x00" + b"\x00" * 16 + b"not really a tiff" * 20)
    return gis / "parcels_2025.shp"


def _postgres_tmpfs(env: Env, options: str) -> Path:
    """A tiny tmpfs the postgres user can reach (a tablespace location), unmounted and removed at the end."""
    parent = Path(tempfile.mkdtemp(prefix="recoup-corpus-tblspc-"))
    shutil.chown(parent, "postgres", "postgres")
    target = parent / "space"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], check=True, capture_output=True)
    shutil.chown(target, "postgres", "postgres")
    env._closers.append(lambda: shutil.rmtree(parent, ignore_errors=True))
    env._closers.append(lambda: subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True))
    return target


def prepare(env: Env) -> Clusters:
    root = env.tmp / "cadastre122"
    root.mkdir()
    main = private_postgres(env, max_connections=8, reserved=1,
                            extra_hba="host all gis_analyst 127.0.0.1/32 scram-sha-256\n")
    psql(main.port, "CREATE DATABASE cadastre", db="postgres")
    psql(main.port, _SCHEMA)
    cramped = _postgres_tmpfs(env, "size=1m")
    psql(main.port, f"CREATE TABLESPACE cramped LOCATION '{cramped}'")
    restore_space = _postgres_tmpfs(env, "size=10m")
    psql(main.port, f"CREATE TABLESPACE restore_nvme LOCATION '{restore_space}'")
    psql(main.port, "CREATE DATABASE cadastre_restore TABLESPACE restore_nvme", db="postgres")
    psql(main.port, "CREATE DATABASE cadastre_staging OWNER gis_analyst", db="postgres")
    psql(main.port, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", db="cadastre_staging")
    psql(main.port, "ALTER SCHEMA public OWNER TO postgres", db="cadastre_staging")
    standby = private_postgres(env, standby=True)
    dump = root / "cadastre-2025-11-30.dump"
    proc = run(["pg_dump", "-h", "127.0.0.1", "-p", str(main.port), "-U", "postgres", "-Fc", "-t", "parcel_history",
                "-t", "survey_log", "-f", str(dump), "cadastre"])
    if proc.returncode:
        raise RuntimeError("pg_dump of the fixture failed")
    data = dump.read_bytes()
    dump_cut = root / "cadastre-2025-12-01.dump"
    dump_cut.write_bytes(data[: len(data) * 2 // 5])
    dump_garbled = root / "cadastre-2025-12-02.dump"
    dump_garbled.write_bytes(b"PGDMP" + bytes(range(256)) * 8)
    _write_tests(root)
    shp = _write_gis_inputs(root, main.port)
    full = mount_tmpfs(env, "full122", "size=64k")
    (full / "filler.bin").write_bytes(b"\0" * 60 * 1024)
    read_only = mount_tmpfs(env, "ro122", "size=64k")
    (read_only / "nightly").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only)], check=True, capture_output=True)
    return Clusters(main, standby.port, root, cramped, full, read_only, dump, dump_cut, dump_garbled, shp)


def _sleeper(port: int, sql: str, user: str = "postgres", db: str = "cadastre") -> subprocess.Popen[bytes]:
    return subprocess.Popen(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db, "-q", "-c", sql],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.wait(timeout=10)


def _count_sessions(port: int) -> int:
    proc = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", "postgres", "-At", "-c",
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()"])
    return int(proc.stdout.strip() or 0) if proc.returncode == 0 else -1


@contextlib.contextmanager
def held_slots(port: int, count: int) -> Iterator[None]:
    """`count` sessions sleeping in the cluster: with all slots taken every new connection is refused."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            procs.append(_sleeper(port, "SELECT pg_sleep(120)"))
            time.sleep(0.15)
        for _ in range(50):
            if _count_sessions(port) == -1:
                break  # the slots are full: even this check is refused
            time.sleep(0.1)
        yield
    finally:
        _stop(procs)
        time.sleep(0.5)


@contextlib.contextmanager
def held_lock(port: int, table: str, mode: str = "ACCESS EXCLUSIVE") -> Iterator[None]:
    """Another session holding a `mode` lock on `table` (a long migration, or a long report) for the duration."""
    proc = _sleeper(port, f"BEGIN; LOCK TABLE {table} IN {mode} MODE; SELECT pg_sleep(120); COMMIT;")
    time.sleep(1.0)
    try:
        yield
    finally:
        _stop([proc])
        time.sleep(0.3)


@contextlib.contextmanager
def shutting_down(env: Env) -> Iterator[int]:
    """A second cluster in a smart shutdown: one open session keeps it alive, new connections are refused."""
    pg = private_postgres(env, max_connections=6, reserved=1)
    psql(pg.port, "CREATE DATABASE cadastre", db="postgres")
    session = _sleeper(pg.port, "SELECT pg_sleep(120)", db="cadastre")
    time.sleep(1.0)
    stopper = subprocess.Popen(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(pg.datadir),
                                "-m", "smart", "-W", "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stopper.wait(timeout=30)
    time.sleep(1.0)
    try:
        yield pg.port
    finally:
        _stop([session])


__all__ = ["PASSWORD", "Clusters", "held_lock", "held_slots", "prepare", "psql", "run", "shutting_down"]
