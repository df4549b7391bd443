"""Ninety-eighth batch of blind provokers: database migration, backup and lint tools not seen before, each run
for real against private servers on 127.0.0.1 (blind98_support). Sqitch deploying a project to PostgreSQL
(a deploy script naming a missing column or with a syntax error, a verify assertion dividing by zero, seed
rows breaking a unique key, a revert script that leaves a dependent table behind, a wrong password, a role
without CREATE, a closed port, a silent port, a standby, a cluster shutting down, every slot taken, the
registry lock held by another deploy, a tablespace on a full tmpfs, a missing deploy script, a broken plan, an
unknown target); pg_basebackup and pg_receivewal (replication refused by pg_hba, a wrong password, a role
without REPLICATION, the only WAL sender taken, a full tmpfs, a non-empty or missing directory, a bad option);
pg_verifybackup on a corrupted copy of a good backup (checksum, missing file, broken manifest, missing WAL);
pg_rewind and pg_upgrade --check run as postgres; mariadb-backup and mariadb-dump --single-transaction against
a private mariadbd (denied, missing privileges, closed and silent ports, too many connections, full disk,
existing target); sqlfluff lint/parse/fix from the command line and through its Python API."""

from __future__ import annotations

from pathlib import Path

from blind98_support import SQITCH_ENV, batch98_places
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND98_SOURCES = frozenset({"sqitch98", "pg-basebackup98", "pg-receivewal98", "pg-verifybackup98", "pg-rewind98",
                             "pg-upgrade98", "mariadb-backup98", "mariadb-dump98", "sqlfluff98"})

_SQ = "cp -r __SQ__ shop && cd shop\n"
_MAIN = "db:pg://postgres@127.0.0.1:__PG__"

SQITCH: list[ToolCase] = [
    ("sqitch_deploy_missing_column", "programming", "does not exist", _SQ + """cat > deploy/orders.sql <<'SQL'
BEGIN;

CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id int NOT NULL REFERENCES users (id),
    total numeric(10, 2) NOT NULL
);
CREATE INDEX orders_customer_idx ON orders (customer_id);

COMMIT;
SQL
sqitch deploy """ + _MAIN + "/sq_column"),
    ("sqitch_deploy_syntax_error", "programming", "syntax error", _SQ + """cat > deploy/orders.sql <<'SQL'
BEGIN;

CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id int NOT NULL REFERENCES users (id)
    total numeric(10, 2) NOT NULL
);

COMMIT;
SQL
sqitch deploy """ + _MAIN + "/sq_syntax"),
    ("sqitch_verify_assertion", "programming", "division by zero", _SQ + """cat > verify/users.sql <<'SQL'
-- the users change must have added the verification timestamp
SELECT 1/COUNT(*) FROM information_schema.columns
 WHERE table_name = 'users' AND column_name = 'email_verified_at';
SQL
sqitch deploy --verify """ + _MAIN + "/sq_verify"),
    ("sqitch_seed_duplicate_key", "validation", "duplicate key", _SQ + """cat > deploy/users.sql <<'SQL'
BEGIN;

CREATE TABLE users (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    nickname text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO users (email, nickname) VALUES
    ('ann@example.org', 'ann'),
    ('bob@example.org', 'bob'),
    ('ann@example.org', 'annie');

COMMIT;
SQL
sqitch deploy """ + _MAIN + "/sq_seed"),
    ("sqitch_revert_dependent_table", "programming", "depend", _SQ + """printf -- '-- orders are kept on purpose\\n' \
    > revert/orders.sql
sqitch deploy """ + _MAIN + """/sq_revert > /dev/null || exit 0
sqitch revert -y """ + _MAIN + "/sq_revert"),
    ("sqitch_wrong_password", "auth", "password authentication failed",
     _SQ + "sqitch deploy db:pg://app:wrong-password@127.0.0.1:__PG__/sq_auth"),
    ("sqitch_no_create_privilege", "auth", "permission denied",
     _SQ + "sqitch deploy db:pg://app:right-password@127.0.0.1:__PG__/inventory"),
    ("sqitch_refused", "network", "refused", _SQ + "sqitch deploy db:pg://postgres@127.0.0.1:__CLOSED__/shop"),
    ("sqitch_connect_timeout", "network", "timeout",
     _SQ + "PGCONNECT_TIMEOUT=2 sqitch deploy db:pg://postgres@127.0.0.1:__HANG__/shop"),
    ("sqitch_standby", "service", "not accepting|starting up|recovery",
     _SQ + "sqitch deploy db:pg://postgres@127.0.0.1:__PGSTANDBY__/postgres"),
    ("sqitch_shutting_down", "service", "shutting down",
     _SQ + "sqitch deploy db:pg://postgres@127.0.0.1:__PGCLOSING__/postgres"),
    ("sqitch_too_many_clients", "resource", "slots|too many", _SQ + """for i in 1 2 3; do
    psql "postgresql://app:right-password@127.0.0.1:__PGSENDERS__/postgres" -c 'SELECT pg_sleep(6)' \
        > /dev/null 2>&1 &
done
sleep 1.5
sqitch deploy db:pg://app:right-password@127.0.0.1:__PGSENDERS__/postgres
rc=$?
wait
exit $rc"""),
    ("sqitch_lock_timeout", "resource", "timed out", _SQ + """psql -h 127.0.0.1 -p __PG__ -U postgres -d sq_lock \
    -c 'SELECT pg_advisory_lock(75474063), pg_sleep(5)' > /dev/null 2>&1 &
sleep 1
sqitch deploy --lock-timeout 2 """ + _MAIN + """/sq_lock
rc=$?
wait
exit $rc"""),
    ("sqitch_tablespace_full", "resource", "no space left", _SQ + """cat > deploy/orders.sql <<'SQL'
BEGIN;

CREATE TABLE orders (
    id serial PRIMARY KEY,
    user_id int,
    total numeric(10, 2) NOT NULL,
    note text
) TABLESPACE orders_archive;

INSERT INTO orders (total, note)
SELECT g / 7.0, repeat(md5(g::text), 20) FROM generate_series(1, 200000) g;

COMMIT;
SQL
sqitch deploy """ + _MAIN + "/sq_disk"),
    ("sqitch_missing_deploy_script", "filesystem", "no such file",
     _SQ + "rm deploy/orders.sql\nsqitch deploy " + _MAIN + "/sq_script"),
    ("sqitch_plan_syntax", "validation", "syntax error", _SQ + """echo 'add orders index @ 2026-11-29T10:00:00Z \
Corpus Batch <corpus@example.org> # index' >> sqitch.plan
sqitch deploy """ + _MAIN + "/sq_plan"),
    ("sqitch_unknown_target", "validation", "cannot find target", _SQ + "sqitch deploy --target staging"),
]

_BB = "__PGBIN__/pg_basebackup"

BASEBACKUP: list[ToolCase] = [
    ("pgbb_no_hba_replication", "auth", "pg_hba.conf",
     _BB + " -h 127.0.0.1 -p __PG__ -U app -w -D standby1 -X stream -P"),
    ("pgbb_wrong_password", "auth", "password authentication failed",
     "PGPASSWORD=wrong-password " + _BB + " -h 127.0.0.1 -p __PG__ -U repl -D standby1 -X stream"),
    ("pgbb_no_replication_role", "auth", "replication role|permission denied",
     "PGPASSWORD=right-password " + _BB + " -h 127.0.0.1 -p __PG__ -U norepl -D standby1 -X stream"),
    ("pgbb_refused", "network", "refused", _BB + " -h 127.0.0.1 -p __CLOSED__ -U postgres -D standby1"),
    ("pgbb_standby", "service", "not accepting|starting up|recovery",
     _BB + " -h 127.0.0.1 -p __PGSTANDBY__ -U postgres -D standby1 -X stream"),
    ("pgbb_target_not_empty", "filesystem", "not empty",
     "mkdir -p standby1 && echo keep > standby1/README\n"
     + _BB + " -h 127.0.0.1 -p __PG__ -U postgres -D standby1 -X stream"),
    ("pgbb_disk_full", "resource", "no space left",
     _BB + " -h 127.0.0.1 -p __PG__ -U postgres -D __FULL2M__/standby1 -F t -X fetch -c fast"),
    ("pgbb_wal_senders_taken", "resource", "max_wal_senders",
     _BB + " -h 127.0.0.1 -p __PGSENDERS__ -U postgres -D standby1 -X stream"),
    ("pgbb_bad_checkpoint_option", "validation", "invalid checkpoint argument",
     _BB + " -h 127.0.0.1 -p __PG__ -U postgres -D standby1 -c medium"),
]

_RW = "__PGBIN__/pg_receivewal"

RECEIVEWAL: list[ToolCase] = [
    ("recv_no_hba_replication", "auth", "pg_hba.conf",
     "mkdir wal && " + _RW + " -h 127.0.0.1 -p __PG__ -U app -w -D wal -n"),
    ("recv_missing_directory", "filesystem", "no such file",
     _RW + " -h 127.0.0.1 -p __PG__ -U postgres -D /var/backups/wal-archive-98 -n"),
    ("recv_disk_full", "resource", "no space left", _RW + " -h 127.0.0.1 -p __PG__ -U postgres -D __FULL1M__ -n"),
    ("recv_wal_senders_taken", "resource", "max_wal_senders",
     "mkdir wal && " + _RW + " -h 127.0.0.1 -p __PGSENDERS__ -U postgres -D wal -n"),
    ("recv_shutting_down", "service", "shutting down",
     "mkdir wal && " + _RW + " -h 127.0.0.1 -p __PGCLOSING__ -U postgres -D wal -n"),
    ("recv_connect_timeout", "network", "timeout",
     "mkdir wal && PGCONNECT_TIMEOUT=2 " + _RW + " -h 127.0.0.1 -p __HANG__ -U postgres -D wal -n"),
]

_VB = "cp -a __BACKUP__ backup && "

VERIFYBACKUP: list[ToolCase] = [
    ("verify_checksum_mismatch", "validation", "checksum mismatch", _VB + """
f=$(ls backup/base/5 | grep -E '^[0-9]+$' | head -1)
printf 'X' | dd of=backup/base/5/$f bs=1 seek=100 conv=notrunc 2> /dev/null
__PGBIN__/pg_verifybackup backup"""),
    ("verify_file_missing", "filesystem", "not on disk", _VB + "rm backup/global/pg_control\n"
     "__PGBIN__/pg_verifybackup backup"),
    ("verify_manifest_truncated", "validation", "could not parse", _VB + "truncate -s 3000 backup/backup_manifest\n"
     "__PGBIN__/pg_verifybackup backup"),
    ("verify_wal_missing", "filesystem", "could not find", _VB + "rm backup/pg_wal/0*\n"
     "__PGBIN__/pg_verifybackup backup"),
]

_REWIND = "cd / && runuser -u postgres -- __PGBIN__/pg_rewind -D __OTHER__/data --source-server="

REWIND: list[ToolCase] = [
    ("rewind_other_system", "validation", "different systems",
     _REWIND + "'host=127.0.0.1 port=__PG__ user=postgres dbname=postgres'"),
    ("rewind_refused", "network", "refused",
     _REWIND + "'host=127.0.0.1 port=__CLOSED__ user=postgres dbname=postgres'"),
    ("rewind_wrong_password", "auth", "password authentication failed",
     _REWIND + "'host=127.0.0.1 port=__PG__ user=app password=wrong-password dbname=postgres'"),
    ("rewind_source_standby", "service", "not accepting|starting up|recovery",
     _REWIND + "'host=127.0.0.1 port=__PGSTANDBY__ user=postgres dbname=postgres'"),
    ("rewind_target_missing", "filesystem", "no such file",
     "cd / && runuser -u postgres -- __PGBIN__/pg_rewind -D __OTHER__/data-restored "
     "--source-server='host=127.0.0.1 port=__PG__ user=postgres dbname=postgres'"),
]

_UPG = "cd __OTHER__ && runuser -u postgres -- __PGBIN__/pg_upgrade --check -b __PGBIN__ -B __PGBIN__ -D __OTHER__/new"

UPGRADE: list[ToolCase] = [
    ("upgrade_old_cluster_missing", "filesystem", "no such file", _UPG + " -d __OTHER__/data-14"),
    ("upgrade_version_mismatch", "validation", "different major versions", _UPG + " -d __OTHER__/old14"),
]

_MB = "mariadb-backup --backup --host=127.0.0.1 --protocol=tcp "

MARIABACKUP: list[ToolCase] = [
    ("mbk_wrong_password", "auth", "access denied", _MB + "--port=__MY__ --user=root --password=wrong-password "
     "--target-dir=nightly"),
    ("mbk_missing_privileges", "auth", "missing required privilege",
     _MB + "--port=__MY__ --user=app --password=right-password --target-dir=nightly"),
    ("mbk_refused", "network", "refused", _MB + "--port=__CLOSED__ --user=root --target-dir=nightly"),
    ("mbk_disk_full", "resource", "no space left", _MB + "--port=__MY__ --user=root --target-dir=__FULLMY__/nightly"),
    ("mbk_target_exists", "filesystem", "file exists", "mkdir nightly && touch nightly/ib_logfile0\n"
     + _MB + "--port=__MY__ --user=root --target-dir=nightly"),
]

_MD = "mariadb-dump --single-transaction -h 127.0.0.1 --protocol=tcp "
_HOLD = """for i in $(seq 10); do
    mariadb -h 127.0.0.1 -P __MY__ -u app -pright-password -e 'SELECT SLEEP(5)' > /dev/null 2>&1 &
done
sleep 1.5
"""

MARIADUMP: list[ToolCase] = [
    ("mdump_wrong_password", "auth", "access denied",
     _MD + "-P __MY__ -u app -pwrong-password shop > shop.sql"),
    ("mdump_flush_denied", "auth", "access denied",
     _MD + "--flush-logs -P __MY__ -u app -pright-password shop orders > shop.sql"),
    ("mdump_refused", "network", "can't connect", _MD + "-P __CLOSED__ -u root shop > shop.sql"),
    ("mdump_handshake_lost", "network", "lost connection", _MD + "-P __EMPTY__ -u root shop > shop.sql"),
    ("mdump_disk_full", "resource", "errno 28|no space",
     _MD + "-P __MY__ -u root shop --result-file=__FULLDUMP__/shop.sql"),
    ("mdump_missing_directory", "filesystem", "no such file",
     _MD + "-P __MY__ -u root shop --result-file=/var/backups/mariadb-98/shop.sql"),
    ("mdump_too_many_connections", "resource", "too many connections", _HOLD + _MD
     + "-P __MY__ -u app -pright-password shop orders > shop.sql\nrc=$?\nwait\nexit $rc"),
    ("mbk_too_many_connections", "resource", "too many connections", _HOLD + _MB
     + "--port=__MY__ --user=app --password=right-password --target-dir=nightly\nrc=$?\nwait\nexit $rc"),
]

_SF = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "sqlfluff")
_REPORT_SQL = """cat > revenue_report.sql <<'SQL'
select o.user_id,sum(o.total) as revenue,count(*) from orders o join users u on u.id=o.user_id
where o.created_at>now()-interval '30 days' group by 1
SQL
"""

SQLFLUFF: list[ToolCase] = [
    ("sqlfluff_lint_violations", "validation", "FAIL",
     _REPORT_SQL + _SF + " lint --dialect postgres revenue_report.sql"),
    ("sqlfluff_parse_unparsable", "validation", "unparsable", """cat > backfill.sql <<'SQL'
UPDATE orders SET total = total * 1.19, WHERE created_at < '2026-01-01';
SQL
""" + _SF + " parse --dialect postgres backfill.sql"),
    ("sqlfluff_unknown_dialect", "validation", "unknown dialect",
     _REPORT_SQL + _SF + " lint --dialect postgress revenue_report.sql"),
    ("sqlfluff_missing_path", "filesystem", "does not exist", _SF + " lint --dialect postgres models/staging/"),
    ("sqlfluff_bad_config", "validation", "section header", _REPORT_SQL + """printf '[sqlfluff\\ndialect = postgres\\n\
max_line_length = 120\\n' > .sqlfluff
""" + _SF + " lint revenue_report.sql"),
    ("sqlfluff_fix_read_only", "filesystem", "read-only", _REPORT_SQL + """mkdir ro \
&& mount -t tmpfs -o size=64k tmpfs ro && cp revenue_report.sql ro/ && mount -o remount,ro ro || exit 0
""" + _SF + """ fix --dialect postgres ro/revenue_report.sql
rc=$?
umount ro
exit $rc"""),
]


def _sqlfluff_api_cases(env: Env) -> list[PyCase]:
    import sqlfluff
    from sqlfluff.core import Linter

    def parse_migration() -> None:
        sqlfluff.parse("ALTER TABLE orders ADD COLUMN shipped_at timestamptz DEFAULT,;", dialect="postgres")

    def lint_statements() -> None:
        statements = ["select id from users", "select id,total from orders"]
        for violation in sqlfluff.lint(statements, dialect="postgres"):  # type: ignore[arg-type]
            print(violation["code"])

    def fix_one_rule() -> None:
        sqlfluff.fix("select id,total from orders", dialect="postgres", rule="LT01")  # type: ignore[call-arg]

    def lint_project() -> None:
        Linter(dialect="postgres").lint_paths((str(env.tmp / "dbt" / "models"),))

    return [
        ("sqlfluff_api_parse_error", "validation", "sqlfluff98", "APIParsingError", parse_migration),
        ("sqlfluff_api_list_argument", "programming", "sqlfluff98", "AttributeError", lint_statements),
        ("sqlfluff_api_bad_keyword", "programming", "sqlfluff98", "TypeError", fix_one_rule),
        ("sqlfluff_api_missing_models", "filesystem", "sqlfluff98", "SQLFluffUserError", lint_project),
    ]


def make_records(env: Env) -> list[Record]:
    places = batch98_places(env)
    places.update({"__CLOSED__": str(env.closed_port), "__HANG__": str(env.hang_port),
                   "__EMPTY__": str(env.empty_port)})
    home = Path(places["__WORK__"]) / "home"
    home.mkdir()
    prelude = (f"exec 2>&1\nexport HOME={home} " + " ".join(f"{k}='{v}'" for k, v in SQITCH_ENV.items())
               + "\ncd \"$(mktemp -d -p __WORK__ case.XXXXXX)\"\n")

    def fill(script: str) -> str:
        text = prelude + script
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    cwd = Path(places["__WORK__"])
    out: list[Record] = []
    for cases, source in ((SQITCH, "sqitch98"), (BASEBACKUP, "pg-basebackup98"), (RECEIVEWAL, "pg-receivewal98"),
                          (VERIFYBACKUP, "pg-verifybackup98"), (REWIND, "pg-rewind98"), (UPGRADE, "pg-upgrade98"),
                          (MARIABACKUP, "mariadb-backup98"), (SQLFLUFF, "sqlfluff98")):
        out.extend(tool_records(cases, source, cwd, fill))
    for case in MARIADUMP:
        out.extend(tool_records([case], "mariadb-backup98" if case[0].startswith("mbk") else "mariadb-dump98", cwd,
                                fill))
    out.extend(python_records(_sqlfluff_api_cases(env)))
    return out


if __name__ == "__main__":
    write_batch(make_records)
