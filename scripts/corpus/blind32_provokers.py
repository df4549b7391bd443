"""Thirty-second batch of blind provokers, the second of the two scored after the last change of round 2 and NOT
trained on (see batch 31). A mix of every category from wordings not yet in the corpus: Redis scripting and
commands through redis-py, PostgreSQL constraint, privilege and server-side errors through psycopg and psql,
hosted-API SDK errors (slack_sdk refused, openai 403/503, stripe 503), Jinja2 strict templates, stdlib parsers
vs misuse, Node.js child processes and timers, Java, git and coreutils on tmpfs mounts that are
full or read-only. Only 127.0.0.1."""

from __future__ import annotations

import time
from typing import Any

from checked import PyCase, ToolCase, has_token, python_records, tool_records
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, git_env, run, write_batch
from runtime_provokers import java_records
from servers import mount_tmpfs

BLIND32_SOURCES = frozenset({"redis32", "pg32", "sdk32", "stdlib32", "node32", "java-extra32", "shell32", "git32"})
_GIT_ENV = git_env("blind32")

ANSWERS.update({
    "openai403": (403, "application/json", '{"error": {"message": "You are not allowed to access this project.", '
                  '"type": "invalid_request_error", "code": "unsupported_country_region_territory"}}'),
    "openai503": (503, "application/json", '{"error": {"message": "The engine is currently overloaded, please try '
                  'again later.", "type": "server_error"}}'),
    "stripe503": (503, "application/json", '{"error": {"type": "api_error", "message": "An unknown error occurred"}}'),
})


def _py_cases(api: str, env: Env) -> list[PyCase]:
    def redis_script_error() -> None:
        import redis

        redis.Redis(host="127.0.0.1", port=6379).eval("return redis.call('hgetall')", 0)

    def redis_bad_int() -> None:
        import redis

        r = redis.Redis(host="127.0.0.1", port=6379)
        r.set("b32:counter", "ten")
        try:
            r.incr("b32:counter")
        finally:
            r.delete("b32:counter")

    def pg_check() -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
            conn.execute("CREATE TEMP TABLE b32_order (qty int CHECK (qty > 0))")
            conn.execute("INSERT INTO b32_order VALUES (%s)", (-2,))

    def pg_permission() -> None:
        import psycopg

        with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True) as admin:
            admin.execute("DROP TABLE IF EXISTS b32_payroll")
            admin.execute("CREATE TABLE b32_payroll (amount int)")
            admin.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b32_reader') THEN "
                          "CREATE ROLE b32_reader LOGIN; END IF; END $$")
            try:
                with psycopg.connect("host=127.0.0.1 port=5432 user=b32_reader dbname=test") as conn:
                    conn.execute("SELECT * FROM b32_payroll")
            finally:
                admin.execute("DROP TABLE IF EXISTS b32_payroll")

    def slack_refused() -> None:
        from slack_sdk import WebClient

        WebClient(token="xoxb-b32", base_url=f"http://127.0.0.1:{env.closed_port}/api/", timeout=2).auth_test()

    def openai_status(name: str) -> Any:
        import openai

        client = openai.OpenAI(api_key="sk-b32", base_url=f"{api}/{name}/v1", max_retries=0, timeout=3)
        return client.models.list()

    def stripe_503() -> None:
        import stripe

        stripe.api_base = f"{api}/stripe503"
        stripe.max_network_retries = 0
        stripe.Refund.create(api_key="sk_test_b32", payment_intent="pi_b32")

    def jinja_strict() -> None:
        import jinja2

        env_ = jinja2.Environment(undefined=jinja2.StrictUndefined)
        env_.from_string("Deploy {{ release.version }} to {{ target }}").render(target="prod")

    def int_from_env() -> None:
        int("30s")

    def getattr_none() -> None:
        config: dict[str, Any] = {"retry": None}
        print(config["retry"].attempts)

    def isoformat_time() -> None:
        import datetime

        datetime.time.fromisoformat("25:61")

    return [
        ("redis_script_wrong_args", "programming", "redis32", "ResponseError", redis_script_error),
        ("redis_incr_not_integer", "validation", "redis32", "ResponseError", redis_bad_int),
        ("psycopg_check_violation", "validation", "pg32", "CheckViolation|IntegrityError", pg_check),
        ("psycopg_table_permission", "auth", "pg32", "InsufficientPrivilege", pg_permission),
        ("slack_refused", "network", "sdk32", "URLError|ConnectionRefusedError|OSError", slack_refused),
        ("openai_403", "auth", "sdk32", "PermissionDeniedError|APIStatusError", lambda: openai_status("openai403")),
        ("openai_503", "service", "sdk32", "InternalServerError|APIStatusError", lambda: openai_status("openai503")),
        ("stripe_503", "service", "sdk32", "APIError|StripeError", stripe_503),
        ("jinja_strict_undefined", "programming", "stdlib32", "UndefinedError", jinja_strict),
        ("int_duration_suffix", "validation", "stdlib32", "ValueError", int_from_env),
        ("none_attribute", "programming", "stdlib32", "AttributeError", getattr_none),
        ("time_fromisoformat", "validation", "stdlib32", "ValueError", isoformat_time),
    ]


NODE: list[ToolCase] = [
    ("node_exec_missing", "filesystem", "not found|ENOENT", "require('child_process').execSync('deployctl-b32 "
     "--env prod', { stdio: 'pipe' });"),
    ("node_spawn_enoent", "filesystem", "ENOENT", "const r = require('child_process')"
     ".spawnSync('/opt/b32/bin/migrate'); if (r.error) throw r.error;"),
    ("node_json_trailing", "validation", "JSON", "JSON.parse('{\"replicas\": 3,}');"),
    ("node_undefined_call", "programming", "TypeError", "const cfg = {}; cfg.retry.backoff();"),
]

JAVA: dict[str, tuple[str, str]] = {
    "list_index": ("programming", 'var hosts = java.util.List.of("a", "b"); System.out.println(hosts.get(2));'),
    "duration_parse": ("validation", 'java.time.Duration.parse("30 seconds");'),
    "reset": ("network", 'try (var s = new java.net.Socket("127.0.0.1", RESET)) { s.getOutputStream().write('
                         '"GET /\\r\\n\\r\\n".getBytes()); s.getInputStream().read(); s.getInputStream()'
                         '.read(); }'),
}
_JAVA_EXPECTED = {"list_index": "IndexOutOfBounds", "duration_parse": "DateTimeParseException",
                  "reset": "reset|SocketException"}

SHELL: list[ToolCase] = [
    ("cp_disk_full", "resource", "No space left", "head -c 600000 /dev/urandom > TMP/artifact32.bin && "
     "cp TMP/artifact32.bin DISK/"),
    ("touch_read_only", "filesystem", "Read-only", "touch RODIR/stamp"),
    ("psql_division", "programming", "division by zero", "psql -h 127.0.0.1 -U postgres -d test -v ON_ERROR_STOP=1 "
     "-c 'SELECT sum(qty) / count(*) FROM (SELECT 1 AS qty WHERE false) t'"),
    ("psql_statement_syntax", "programming", "syntax error", "psql -h 127.0.0.1 -U postgres -d test -c "
     "'SELECT id, FROM orders'"),
    ("curl_openai_401", "auth", "401", "curl -sS --fail-with-body -H 'Authorization: Bearer sk-b32' "
     "API/openai401/v1/models"),
]

GIT: list[ToolCase] = [
    ("git_tag_exists", "git", "already exists", ["git", "tag", "v1.0.0"]),
    ("git_switch_missing", "git", "invalid reference|nope", ["git", "switch", "release/nope-b32"]),
    ("git_rebase_dirty", "git", "unstaged|changes|commit or stash", "echo change >> a.txt && git rebase HEAD~1; "
     "status=$?; git checkout -q -- a.txt; exit $status"),
]


def blind32_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    disk = mount_tmpfs(env, "disk32", "size=256k")
    ro = mount_tmpfs(env, "ro32", "size=64k,ro")

    def fill(text: str) -> str:
        return (text.replace("API", api).replace("DISK", str(disk)).replace("RODIR", str(ro))
                .replace("TMP", str(env.tmp)))

    out = python_records(_py_cases(api, env))
    time.sleep(0.2)
    out += tool_records([(n, c, t, ["node", "-e", s]) for n, c, t, s in NODE], "node32", env.tmp)
    for rec in java_records(env, JAVA, "java-extra32"):
        if has_token(rec["provoker"], rec["text"], _JAVA_EXPECTED[rec["provoker"].removeprefix("java-extra32_")]):
            out.append(rec)
    out += tool_records(SHELL, "shell32", env.tmp, fill)
    repo = env.tmp / "repo32"
    repo.mkdir()
    run(["bash", "-c", "git init -q -b main && echo a > a.txt && git add a.txt && git commit -q -m one && "
         "echo b >> a.txt && git commit -q -am two && git tag v1.0.0"], cwd=repo, env=_GIT_ENV)
    out += tool_records(GIT, "git32", repo)
    return out


if __name__ == "__main__":
    write_batch(blind32_records)


__all__ = ["BLIND32_SOURCES", "blind32_records"]
