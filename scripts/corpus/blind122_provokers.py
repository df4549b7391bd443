"""Hundred-and-twenty-second batch of blind provokers: PostgreSQL extensions and maintenance tools not seen before,
against private PostgreSQL 15 clusters started here (blind122_support). PostGIS through psql (malformed WKT, an
unclosed ring, SRID and geometry-type mismatches with typed columns, malformed GeoJSON, an unknown SRID, a self-
intersecting input to an overlay, a text radius, mixed SRIDs in a join, a missing argument, a role without grants, a
lock timeout behind a migration); shp2pgsql (a missing, a garbled and an incomplete shapefile) and raster2pgsql (a
garbled GeoTIFF); pg_repack (a closed port, a wrong password, a non-superuser, a standby, a full tablespace, full
connection slots, a cluster shutting down); pg_prove running pgTAP files (failing assertions, a broken test file, a
closed port, a wrong password, a standby); pg_amcheck (closed port, wrong password, missing privileges, a pattern
matching nothing, full slots, standby, shutdown); pg_restore (missing, garbled and truncated archives, a missing
list file or output directory, a closed port, a wrong password, a schema the role may not create in, a full
tablespace, a full output disk, standby, shutdown); clusterdb and pg_dump (closed port, wrong password, no clustered
index, full slots, a lock timeout, a full or read-only output disk, an existing output directory, a table the role
may not read, standby, shutdown)."""

from __future__ import annotations

from blind122_support import PASSWORD, Clusters, held_lock, held_slots, prepare, shutting_down
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import PG_BIN

BLIND122_SOURCES = frozenset({"postgis122", "shp2pgsql122", "raster2pgsql122", "pg_repack122", "pg_prove122",
                              "pg_amcheck122", "pg_restore122", "clusterdb122", "pg_dump122"})

_PSQL = ["psql", "-h", "127.0.0.1", "-p", "%PGPORT%", "-U", "postgres", "-d", "cadastre", "-v", "ON_ERROR_STOP=1",
         "-q", "-c"]
_RIGHT = f"PGPASSWORD={PASSWORD}"
_WRONG = "PGPASSWORD=Cadastre-2024!"


def _sql(sql: str) -> list[str]:
    return [*_PSQL, sql]


def _postgis_cases() -> list[ToolCase]:
    insert = "INSERT INTO parcels (parcel_id, cadastral_ref, owner_name, geom) VALUES (501, 'DE-BE-000501', 'Meyer', "
    return [
        ("postgis_invalid_wkt", "validation", "parse error",
         _sql(insert + "ST_GeomFromText('POLYGON((1490000 6890000, 1490035 6890000, 1490035 6890030 1490000 "
                       "6890000))', 3857))")),
        ("postgis_unclosed_ring", "validation", "closed",
         _sql(insert + "ST_GeomFromText('POLYGON((1490000 6890000, 1490035 6890000, 1490035 6890030, "
                       "1490000 6890030))', 3857))")),
        ("postgis_column_srid_mismatch", "validation", "srid",
         _sql(insert + "ST_GeomFromText('POLYGON((13.38 52.50, 13.39 52.50, 13.39 52.51, 13.38 52.50))', 4326))")),
        ("postgis_column_type_mismatch", "validation", "type",
         _sql(insert + "ST_GeomFromText('LINESTRING(1490000 6890000, 1490035 6890030)', 3857))")),
        ("postgis_bad_geojson", "validation", "geojson|json",
         _sql("UPDATE address_points SET geom = ST_SetSRID(ST_GeomFromGeoJSON("
              "'{\"type\": \"Point\", \"coordinates\": [13.3912, ]}'), 4326) WHERE address_id = 17")),
        ("postgis_unknown_srid", "validation", "srid|spatial_ref_sys|projection",
         _sql("SELECT address_id, ST_AsText(ST_Transform(geom, 990001)) FROM address_points WHERE address_id < 5")),
        ("postgis_self_intersection_overlay", "validation", "topologyexception|self-intersection|invalid",
         _sql("SELECT ST_Area(ST_Intersection(ST_GeomFromText('POLYGON((0 0, 10 10, 10 0, 0 10, 0 0))'), "
              "ST_GeomFromText('POLYGON((5 2, 15 2, 15 12, 5 12, 5 2))')))")),
        ("postgis_text_radius", "validation", "invalid input syntax",
         _sql("SELECT parcel_id FROM parcels WHERE ST_Intersects(geom, ST_Buffer("
              "ST_SetSRID(ST_MakePoint(1490100, 6890010), 3857), '25m'))")),
        ("postgis_mixed_srid_join", "programming", "mixed srid",
         _sql("SELECT a.address_id, ST_Distance(p.geom, a.geom) AS metres FROM parcels p, address_points a "
              "WHERE p.parcel_id = 12 AND a.address_id BETWEEN 1 AND 20 ORDER BY metres")),
        ("postgis_dwithin_missing_distance", "programming", "does not exist",
         _sql("SELECT parcel_id FROM parcels WHERE ST_DWithin(geom, "
              "ST_SetSRID(ST_MakePoint(1490100, 6890010), 3857))")),
        ("postgis_table_not_granted", "auth", "permission denied",
         f"{_RIGHT} psql -h 127.0.0.1 -p %PGPORT% -U gis_analyst -d cadastre -v ON_ERROR_STOP=1 -c "
         "\"SELECT parcel_id, ST_AsGeoJSON(geom) FROM parcels WHERE ST_Area(geom) > 1000\""),
    ]


def _loader_cases() -> list[tuple[str, ToolCase]]:
    imp = "%TMP%/cadastre122/import"
    return [
        ("shp2pgsql122", ("shp2pgsql_missing_file", "filesystem", "unable to open|could not open|no such file",
                          f"shp2pgsql -s 25833 -I -D {imp}/flurstuecke_2024.shp public.flurstuecke > /dev/null")),
        ("shp2pgsql122", ("shp2pgsql_garbled_shapefile", "validation", "unable|error|invalid|corrupt",
                          f"shp2pgsql -s 25833 -I -D {imp}/flurstuecke_mitte.shp public.flurstuecke > /dev/null")),
        ("shp2pgsql122", ("shp2pgsql_missing_dbf", "filesystem", "dbf",
                          f"shp2pgsql -s 3857 -D {imp}/gebaeude_2025.shp public.gebaeude > /dev/null")),
        ("raster2pgsql122", ("raster2pgsql_garbled_tiff", "validation", "not recognized|unable|error|invalid",
                             f"raster2pgsql -s 25833 -t 256x256 -I {imp}/dop20_berlin_390_5819.tif "
                             "public.orthophotos > /dev/null")),
    ]


_AMCHECK = PG_BIN / "pg_amcheck"  # not linked into /usr/bin by postgresql-common
_REPACK = "pg_repack -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre"


def _repack_cases() -> list[ToolCase]:
    return [
        ("pg_repack_refused", "network", "refused|could not connect",
         "pg_repack -h 127.0.0.1 -p %CLOSED% -U postgres -d cadastre -t parcels"),
        ("pg_repack_wrong_password", "auth", "password authentication failed",
         f"{_WRONG} pg_repack -h 127.0.0.1 -p %PGPORT% -U app -d cadastre -t parcels"),
        ("pg_repack_not_superuser", "auth", "superuser|permission denied",
         f"{_RIGHT} pg_repack -h 127.0.0.1 -p %PGPORT% -U gis_analyst -d cadastre -t parcels"),
        ("pg_repack_standby", "service", "not accepting|standby|starting up",
         "pg_repack -h 127.0.0.1 -p %STANDBY% -U postgres -d cadastre -t parcels"),
        ("pg_repack_tablespace_full", "resource", "no space left|could not extend",
         f"{_REPACK} -t parcel_history --tablespace cramped"),
    ]


def _prove_cases() -> list[ToolCase]:
    prove = "pg_prove -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre"
    return [
        ("pg_prove_failing_assertions", "programming", "failed test|failed",
         f"{prove} %TMP%/cadastre122/t/01-schema.sql %TMP%/cadastre122/t/02-import-2025.sql"),
        ("pg_prove_throws_and_results", "programming", "failed test|failed",
         f"{prove} --verbose %TMP%/cadastre122/t/03-constraints.sql"),
        ("pg_prove_broken_test_sql", "programming", "syntax error",
         f"{prove} %TMP%/cadastre122/t/04-counts.sql"),
        ("pg_prove_refused", "network", "refused|could not connect",
         "pg_prove -h 127.0.0.1 -p %CLOSED% -U postgres -d cadastre %TMP%/cadastre122/t/01-schema.sql"),
        ("pg_prove_wrong_password", "auth", "password authentication failed",
         f"{_WRONG} pg_prove -h 127.0.0.1 -p %PGPORT% -U app -d cadastre %TMP%/cadastre122/t/01-schema.sql"),
        ("pg_prove_standby", "service", "not accepting|standby|starting up",
         "pg_prove -h 127.0.0.1 -p %STANDBY% -U postgres -d cadastre %TMP%/cadastre122/t/01-schema.sql"),
    ]


def _amcheck_cases() -> list[ToolCase]:
    return [
        ("pg_amcheck_refused", "network", "refused|could not connect",
         f"{_AMCHECK} -h 127.0.0.1 -p %CLOSED% -U postgres -d cadastre --heapallindexed"),
        ("pg_amcheck_wrong_password", "auth", "password authentication failed",
         f"{_WRONG} {_AMCHECK} -h 127.0.0.1 -p %PGPORT% -U app -d cadastre"),
        ("pg_amcheck_not_granted", "auth", "permission denied",
         f"{_RIGHT} {_AMCHECK} -h 127.0.0.1 -p %PGPORT% -U gis_analyst -d cadastre -t public.parcels"),
        ("pg_amcheck_no_matching_table", "validation", "no heap tables|no relations|matching",
         f"{_AMCHECK} -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre -t public.parcel_histroy"),
        ("pg_amcheck_standby", "service", "not accepting|standby|starting up",
         f"{_AMCHECK} -h 127.0.0.1 -p %STANDBY% -U postgres -d cadastre"),
    ]


def _restore_cases() -> list[ToolCase]:
    root = "%TMP%/cadastre122"
    return [
        ("pg_restore_missing_archive", "filesystem", "no such file|could not open",
         f"pg_restore -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre_restore {root}/cadastre-2025-11-29.dump"),
        ("pg_restore_garbled_archive", "validation", "unsupported version|not appear to be a valid archive|corrupt",
         f"pg_restore -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre_restore {root}/cadastre-2025-12-02.dump"),
        ("pg_restore_truncated_archive", "validation", "end of file|could not read|unexpected|corrupt|invalid",
         f"pg_restore -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre_staging --no-owner --clean --if-exists "
         f"{root}/cadastre-2025-12-01.dump"),
        ("pg_restore_missing_toc_list", "filesystem", "no such file|could not open",
         f"pg_restore -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre_restore -L {root}/restore-order.list "
         f"{root}/cadastre-2025-11-30.dump"),
        ("pg_restore_output_dir_missing", "filesystem", "no such file|could not open",
         f"pg_restore -f /var/backups/cadastre/replay/cadastre-2025-11-30.sql {root}/cadastre-2025-11-30.dump"),
        ("pg_restore_refused", "network", "refused|could not connect",
         f"pg_restore -h 127.0.0.1 -p %CLOSED% -U postgres -d cadastre_restore {root}/cadastre-2025-11-30.dump"),
        ("pg_restore_wrong_password", "auth", "password authentication failed",
         f"{_WRONG} pg_restore -h 127.0.0.1 -p %PGPORT% -U app -d cadastre_restore {root}/cadastre-2025-11-30.dump"),
        ("pg_restore_schema_not_granted", "auth", "permission denied",
         f"{_RIGHT} pg_restore -h 127.0.0.1 -p %PGPORT% -U gis_analyst -d cadastre_staging --no-owner "
         f"{root}/cadastre-2025-11-30.dump"),
        ("pg_restore_tablespace_full", "resource", "no space left|could not extend",
         f"pg_restore -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre_restore {root}/cadastre-2025-11-30.dump"),
        ("pg_restore_output_disk_full", "resource", "no space left",
         f"pg_restore -f %FULL%/cadastre-restore.sql {root}/cadastre-2025-11-30.dump"),
        ("pg_restore_standby", "service", "not accepting|standby|starting up",
         f"pg_restore -h 127.0.0.1 -p %STANDBY% -U postgres -d cadastre {root}/cadastre-2025-11-30.dump"),
    ]


def _clusterdb_cases() -> list[ToolCase]:
    return [
        ("clusterdb_refused", "network", "refused|could not connect",
         "clusterdb -h 127.0.0.1 -p %CLOSED% -U postgres -d cadastre -t parcels"),
        ("clusterdb_wrong_password", "auth", "password authentication failed",
         f"{_WRONG} clusterdb -h 127.0.0.1 -p %PGPORT% -U app -d cadastre"),
        ("clusterdb_no_clustered_index", "validation", "no previously clustered index",
         "clusterdb -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre -t survey_log"),
        ("clusterdb_standby", "service", "not accepting|standby|starting up",
         "clusterdb -h 127.0.0.1 -p %STANDBY% -U postgres -d cadastre"),
    ]


def _dump_cases() -> list[ToolCase]:
    dump = "pg_dump -h 127.0.0.1 -p %PGPORT% -U postgres"
    return [
        ("pg_dump_output_disk_full", "resource", "no space left|could not write",
         f"{dump} -f %FULL%/cadastre-nightly.sql cadastre"),
        ("pg_dump_read_only_target", "filesystem", "read-only file system",
         f"{dump} -Fc -f %RO%/nightly/cadastre.dump cadastre"),
        ("pg_dump_directory_exists", "filesystem", "exists|not empty",
         f"{dump} -Fd -f %TMP%/cadastre122/import cadastre"),
        ("pg_dump_table_not_granted", "auth", "permission denied",
         f"{_RIGHT} pg_dump -h 127.0.0.1 -p %PGPORT% -U gis_analyst -t public.parcels -f /dev/null cadastre"),
    ]


def _locked_cases() -> list[tuple[str, ToolCase]]:
    return [
        ("postgis122", ("postgis_lock_timeout", "resource", "lock timeout",
                        "PGOPTIONS='-c lock_timeout=2s' psql -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre "
                        "-v ON_ERROR_STOP=1 -c \"UPDATE parcels SET geom = ST_SnapToGrid(geom, 0.01) "
                        "WHERE parcel_id BETWEEN 1 AND 40\"")),
        ("clusterdb122", ("clusterdb_lock_timeout", "resource", "lock timeout",
                          "PGOPTIONS='-c lock_timeout=2s' clusterdb -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre "
                          "-t parcels")),
        ("pg_dump122", ("pg_dump_lock_wait_timeout", "resource", "could not obtain lock|lock",
                        "pg_dump -h 127.0.0.1 -p %PGPORT% -U postgres --lock-wait-timeout=2s -t public.parcels "
                        "-f /dev/null cadastre")),
    ]


def _full_slot_cases() -> list[tuple[str, ToolCase]]:
    token = "too many clients|connection slots"
    return [
        ("pg_repack122", ("pg_repack_too_many_clients", "resource", token, f"{_REPACK} -t parcels")),
        ("pg_amcheck122", ("pg_amcheck_too_many_clients", "resource", token,
                           f"{_AMCHECK} -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre")),
        ("clusterdb122", ("clusterdb_too_many_clients", "resource", token,
                          "clusterdb -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre")),
        ("pg_prove122", ("pg_prove_too_many_clients", "resource", token,
                         "pg_prove -h 127.0.0.1 -p %PGPORT% -U postgres -d cadastre "
                         "%TMP%/cadastre122/t/01-schema.sql")),
    ]


def _shutdown_cases() -> list[tuple[str, ToolCase]]:
    token = "shutting down"
    return [
        ("pg_repack122", ("pg_repack_shutting_down", "service", token,
                          "pg_repack -h 127.0.0.1 -p %DOWNPORT% -U postgres -d cadastre -t parcels")),
        ("pg_amcheck122", ("pg_amcheck_shutting_down", "service", token,
                           f"{_AMCHECK} -h 127.0.0.1 -p %DOWNPORT% -U postgres -d cadastre")),
        ("pg_restore122", ("pg_restore_shutting_down", "service", token,
                           "pg_restore -h 127.0.0.1 -p %DOWNPORT% -U postgres -d cadastre "
                           "%TMP%/cadastre122/cadastre-2025-11-30.dump")),
        ("clusterdb122", ("clusterdb_shutting_down", "service", token,
                          "clusterdb -h 127.0.0.1 -p %DOWNPORT% -U postgres -d cadastre")),
        ("pg_dump122", ("pg_dump_shutting_down", "service", token,
                        "pg_dump -h 127.0.0.1 -p %DOWNPORT% -U postgres -Fc -f /dev/null cadastre")),
    ]


def blind122_records(env: Env) -> list[Record]:
    c: Clusters = prepare(env)
    down = {"port": 0}

    def fill(text: str) -> str:
        for key, value in (("%PGPORT%", c.main.port), ("%STANDBY%", c.standby), ("%CLOSED%", env.closed_port),
                           ("%DOWNPORT%", down["port"]), ("%FULL%", c.full), ("%RO%", c.read_only),
                           ("%TMP%", env.tmp)):
            text = text.replace(key, str(value))
        return text

    out = tool_records(_postgis_cases(), "postgis122", env.tmp, fill)
    for source, case in _loader_cases():
        out += tool_records([case], source, env.tmp, fill)
    out += tool_records(_repack_cases(), "pg_repack122", env.tmp, fill, timeout=120)
    out += tool_records(_prove_cases(), "pg_prove122", env.tmp, fill)
    out += tool_records(_amcheck_cases(), "pg_amcheck122", env.tmp, fill)
    out += tool_records(_restore_cases(), "pg_restore122", env.tmp, fill, timeout=120)
    out += tool_records(_clusterdb_cases(), "clusterdb122", env.tmp, fill)
    out += tool_records(_dump_cases(), "pg_dump122", env.tmp, fill)
    for source, case in _locked_cases():
        with held_lock(c.main.port, "parcels"):
            out += tool_records([case], source, env.tmp, fill)
    with held_slots(c.main.port, 8):
        for source, case in _full_slot_cases():
            out += tool_records([case], source, env.tmp, fill)
    with shutting_down(env) as port:
        down["port"] = port
        for source, case in _shutdown_cases():
            out += tool_records([case], source, env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind122_records)


__all__ = ["BLIND122_SOURCES", "blind122_records"]
