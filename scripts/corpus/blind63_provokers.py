"""Sixty-third batch of blind provokers: the R language as data pipelines run it, a runtime new to the corpus.
Small R jobs of the kind a scheduled `Rscript job.R` runs stop for real and what Rscript printed is recorded:
DBI through RPostgreSQL against the local PostgreSQL and private clusters (refused, a port that never answers,
wrong password, a cluster still starting up, table privilege, unique and not-null violations, bad integer
input, an unknown column, lock timeout, every connection slot taken); httr against local servers answering
400/401/403/422/429/500/502/503/504 with stop_for_status, a closed port, a port that never answers under
timeout(), a reset, a truncated body, a `.invalid` host and a body that is not JSON; base R, readr, jsonlite
and yaml on pipeline input (missing and unreadable files, malformed CSV/JSON/YAML/RDS, bad numbers and dates
rejected with stop()), writes to a read-only and a full tmpfs and under a file, the memory and connection
limits, base R url(), download.file() and sockets against local endpoints, and defects of the script itself
(unknown object or function, arithmetic on a string, subscript out of bounds, a zero-length condition, `$` on
an atomic vector, an unused argument, a missing package, endless recursion). Only 127.0.0.1."""

from __future__ import annotations

import json

from blind63_support import RCase, r_records, scratch_dir, write_inputs
from cloudapi import ANSWERS, cloud_api
from common import Env, Record, run, write_batch
from servers import mount_tmpfs, private_postgres

BLIND63_SOURCES = frozenset({"r63", "r-httr63", "r-dbi63"})

ANSWERS.update({
    "r63notjson": (200, "application/json", '{"rows": [{"id": 1, "amount": 12.5}, {"id": 2, "amount": '),
    "r63bad400": (400, "application/json", json.dumps({"error": "invalid_request",
                                                       "message": "field 'start_date' must be YYYY-MM-DD"})),
})

_PG_SETUP = """DROP TABLE IF EXISTS b63_events, b63_payroll, b63_metrics;
CREATE TABLE b63_events (event_id int PRIMARY KEY, kind text NOT NULL, value int);
INSERT INTO b63_events VALUES (1, 'signup', 3);
CREATE TABLE b63_payroll (employee text, amount numeric);
CREATE TABLE b63_metrics (day date PRIMARY KEY, visits int);
INSERT INTO b63_metrics VALUES ('2024-01-01', 10);
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'b63_analyst') THEN
CREATE ROLE b63_analyst LOGIN; END IF; END $$;
"""
_PG_CLEANUP = "DROP TABLE IF EXISTS b63_events, b63_payroll, b63_metrics; DROP ROLE IF EXISTS b63_analyst;"

_DBI_HEAD = """suppressPackageStartupMessages(library(RPostgreSQL))
drv <- dbDriver("PostgreSQL")
"""
_PG_TEST = 'con <- dbConnect(drv, host = "127.0.0.1", port = 5432, user = "postgres", dbname = "test")\n'


def _dbi(name: str, category: str, token: str, body: str) -> RCase:
    return RCase(name, category, "r-dbi63", token, _DBI_HEAD + body)


DBI_CASES = [
    _dbi("dbi_refused", "network", "Connection refused", """\
con <- dbConnect(drv, host = "127.0.0.1", port = __CLOSED__, dbname = "warehouse",
                 user = "etl", password = "etl-pass")
daily <- dbGetQuery(con, "SELECT day, sum(amount) FROM sales GROUP BY day")
print(nrow(daily))
"""),
    _dbi("dbi_connect_timeout", "network", "timeout expired|timed out", """\
Sys.setenv(PGCONNECT_TIMEOUT = "2")
con <- dbConnect(drv, host = "127.0.0.1", port = __HANG__, dbname = "warehouse", user = "etl")
dbDisconnect(con)
"""),
    _dbi("dbi_wrong_password", "auth", "password authentication failed", """\
creds <- list(user = "app", password = "wrong-password")
con <- dbConnect(drv, host = "127.0.0.1", port = __PGPRIV__, dbname = "postgres",
                 user = creds$user, password = creds$password)
dbListTables(con)
"""),
    _dbi("dbi_starting_up", "service", "database system is", """\
con <- dbConnect(drv, host = "127.0.0.1", port = __PGSTANDBY__, dbname = "postgres", user = "postgres")
dbGetQuery(con, "SELECT now()")
"""),
    _dbi("dbi_table_permission", "auth", "permission denied", """\
con <- dbConnect(drv, host = "127.0.0.1", port = 5432, user = "b63_analyst", dbname = "test")
res <- dbSendQuery(con, "SELECT employee, sum(amount) AS total FROM b63_payroll GROUP BY employee")
payroll <- dbFetch(res)
write.csv(payroll, "payroll_summary.csv", row.names = FALSE)
"""),
    _dbi("dbi_unique", "validation", "duplicate key value", _PG_TEST + """\
batch <- data.frame(event_id = c(2L, 1L), kind = c("login", "signup"), value = c(1L, 3L))
for (i in seq_len(nrow(batch))) {
  dbSendQuery(con, sprintf("INSERT INTO b63_events VALUES (%d, '%s', %d)",
                           batch$event_id[i], batch$kind[i], batch$value[i]))
}
"""),
    _dbi("dbi_not_null", "validation", "null value in column", _PG_TEST + """\
dbSendQuery(con, "INSERT INTO b63_events (event_id, kind, value) VALUES (10, NULL, 4)")
"""),
    _dbi("dbi_bad_integer", "validation", "invalid input syntax", _PG_TEST + """\
row <- list(id = 11, kind = "purchase", value = "12 items")
dbSendQuery(con, sprintf("INSERT INTO b63_events VALUES (%s, '%s', '%s')", row$id, row$kind, row$value))
"""),
    _dbi("dbi_unknown_column", "programming", "does not exist", _PG_TEST + """\
res <- dbSendQuery(con, "SELECT kind, count(*) FROM b63_events GROUP BY kind ORDER BY total_count DESC")
print(dbFetch(res))
"""),
    _dbi("dbi_lock_timeout", "resource", "lock timeout", """\
holder <- dbConnect(drv, host = "127.0.0.1", port = 5432, user = "postgres", dbname = "test")
dbSendQuery(holder, "BEGIN")
dbSendQuery(holder, "LOCK TABLE b63_metrics IN ACCESS EXCLUSIVE MODE")
con <- dbConnect(drv, host = "127.0.0.1", port = 5432, user = "postgres", dbname = "test")
dbSendQuery(con, "SET lock_timeout = '1s'")
dbSendQuery(con, "UPDATE b63_metrics SET visits = visits + 1 WHERE day = '2024-01-01'")
"""),
    _dbi("dbi_too_many_clients", "resource", "too many clients|connection slots", """\
pool <- list()
for (worker in 1:8) {
  pool[[worker]] <- dbConnect(drv, host = "127.0.0.1", port = __PGPRIV__, dbname = "postgres", user = "postgres")
}
cat("opened", length(pool), "connections\\n")
"""),
]

_HTTR_HEAD = "suppressPackageStartupMessages(library(httr))\n"


def _httr(name: str, category: str, token: str, body: str) -> RCase:
    return RCase(name, category, "r-httr63", token, _HTTR_HEAD + body)


def _httr_status(name: str, category: str, token: str, url: str, post: bool = False) -> RCase:
    call = ('POST(url, body = list(report = "daily", rows = 1200L), encode = "json")' if post
            else 'GET(url, query = list(since = "2024-01-01"))')
    return _httr(name, category, token, f"""\
url <- "{url}"
resp <- {call}
stop_for_status(resp)
payload <- content(resp, as = "parsed")
str(payload)
""")


HTTR_CASES = [
    _httr_status("httr_401", "auth", "Unauthorized|401", "__HTTP__/status/401"),
    _httr_status("httr_403", "auth", "Forbidden|403", "__API__/gcp403/v1/projects/etl/datasets"),
    _httr_status("httr_429", "resource", "Too Many Requests|429", "__API__/gcp429/v1/metrics:query", post=True),
    _httr_status("httr_500", "service", "Internal Server Error|500", "__API__/plain500/api/v2/exports", post=True),
    _httr_status("httr_502", "service", "Bad Gateway|502", "__API__/nginx502/api/v2/reports"),
    _httr_status("httr_503", "service", "Service Unavailable|503", "__HTTP__/status/503"),
    _httr_status("httr_504", "service", "Gateway Timeout|504", "__HTTP__/status/504"),
    _httr_status("httr_401_token", "auth", "Unauthorized|401", "__API__/stripe401/v1/charges", post=True),
    _httr_status("httr_400", "validation", "Bad Request|400", "__API__/r63bad400/api/v2/reports", post=True),
    _httr_status("httr_422", "validation", "Unprocessable|422", "__API__/fastapi422/items"),
    _httr("httr_refused", "network", "Connection refused|Failed to connect", """\
resp <- GET("http://127.0.0.1:__CLOSED__/api/v1/health", timeout(5))
stop_for_status(resp)
"""),
    _httr("httr_timeout", "network", "Timeout was reached|timed out", """\
resp <- GET("http://127.0.0.1:__HANG__/api/v1/extract", timeout(1))
stop_for_status(resp)
"""),
    _httr("httr_reset", "network", "reset by peer|Recv failure", """\
resp <- POST("http://127.0.0.1:__RESET__/ingest", body = list(batch = 7L), encode = "json")
stop_for_status(resp)
"""),
    _httr("httr_truncated", "network", "transfer closed|bytes remaining|end of file", """\
resp <- GET("http://127.0.0.1:__CLOSEPORT__/exports/customers.csv", timeout(5))
stop_for_status(resp)
"""),
    _httr("httr_invalid_host", "network", "resolve host|resolve", """\
resp <- GET("http://warehouse-api.pipeline.invalid/v1/tables", timeout(5))
stop_for_status(resp)
"""),
    _httr("httr_not_json", "validation", "parse error|lexical error|premature EOF", """\
resp <- GET("__API__/r63notjson/v1/rows")
stop_for_status(resp)
rows <- content(resp, as = "parsed", type = "application/json")
print(length(rows$rows))
"""),
]


def _r(name: str, category: str, token: str, body: str, **opts: int | bool) -> RCase:
    return RCase(name, category, "r63", token, body, **opts)  # type: ignore[arg-type]


BASE_CASES = [
    # filesystem
    _r("read_csv_missing", "filesystem", "No such file", """\
sales <- read.csv("__DATA__/sales_2024-06-30.csv", stringsAsFactors = FALSE)
print(summary(sales))
"""),
    _r("readr_missing", "filesystem", "does not exist", """\
suppressPackageStartupMessages(library(readr))
orders <- read_csv("__DATA__/incoming/orders.csv", show_col_types = FALSE)
print(nrow(orders))
"""),
    _r("read_unreadable", "filesystem", "Permission denied", """\
cfg <- readLines("__DATA__/credentials.env")
print(length(cfg))
""", nobody=True),
    _r("write_read_only", "filesystem", "Read-only file system", """\
report <- data.frame(day = as.Date("2024-06-01") + 0:2, visits = c(10L, 12L, 9L))
write.csv(report, "__RODIR__/daily_visits.csv", row.names = FALSE)
"""),
    _r("write_missing_dir", "filesystem", "No such file", """\
out_dir <- "__SCRATCH__/exports/2024/06"
saveRDS(mtcars, file.path(out_dir, "model_input.rds"))
"""),
    _r("write_not_a_directory", "filesystem", "Not a directory", """\
out <- file.path("__DATA__/ragged.csv", "cleaned.csv")
writeLines(c("id,amount", "1,10.5"), out)
"""),
    _r("setwd_missing", "filesystem", "cannot change working directory", """\
setwd("__SCRATCH__/pipelines/nightly")
source("steps.R")
"""),
    # validation
    _r("read_csv_columns", "validation", "more columns than column names", """\
raw <- read.csv("__DATA__/ragged.csv", header = TRUE, row.names = NULL, fill = FALSE)
print(dim(raw))
"""),
    _r("readr_problems", "validation", "problem|parsing failure", """\
suppressPackageStartupMessages(library(readr))
tx <- read_csv("__DATA__/transactions.csv", col_types = cols(id = col_integer(), amount = col_double()))
stop_for_problems(tx)
cat(sum(tx$amount), "\\n")
"""),
    _r("fromjson_malformed", "validation", "parse error|lexical error", """\
suppressPackageStartupMessages(library(jsonlite))
events <- fromJSON("__DATA__/events.json")
print(nrow(events))
"""),
    _r("yaml_malformed", "validation", "Scanner error|Parser error", """\
suppressPackageStartupMessages(library(yaml))
cfg <- yaml::read_yaml("__DATA__/pipeline.yml")
cat("steps:", length(cfg$steps), "\\n")
"""),
    _r("readrds_corrupt", "validation", "unknown input format|magic number|not in RDS format|error reading", """\
model <- readRDS("__DATA__/model.rds")
print(class(model))
"""),
    _r("as_integer_na", "validation", "not a valid", """\
args <- c(port = "eighty", batch_size = "500")
port <- suppressWarnings(as.integer(args[["port"]]))
if (is.na(port)) stop(sprintf("'%s' is not a valid port number", args[["port"]]))
"""),
    _r("as_numeric_column_na", "validation", "non-numeric", """\
prices <- c("12.50", "7.25", "N/A", "3.10")
values <- suppressWarnings(as.numeric(prices))
bad <- which(is.na(values))
if (length(bad) > 0) stop("non-numeric price in rows ", paste(bad, collapse = ", "), ": ", prices[bad])
"""),
    _r("as_date_invalid", "validation", "standard unambiguous format", """\
run_date <- as.Date("06/31/2024x")
cat("running for", format(run_date), "\\n")
"""),
    # resource
    _r("write_full_disk", "resource", "No space left|error writing|Problem closing", """\
con <- file("__DISK__/extract.csv", open = "w")
row <- paste(rep("0123456789", 20), collapse = ",")
for (i in 1:20000) writeLines(row, con)
close(con)
"""),
    _r("memory_limit", "resource", "cannot allocate", """\
n <- 1.5e8
x <- numeric(n)
cat(length(x), "\\n")
""", max_memory=700 * 1024 * 1024),
    _r("connections_in_use", "resource", "all connections are in use", """\
shards <- lapply(1:200, function(i) file(tempfile(fileext = ".csv"), open = "w"))
cat(length(shards), "\\n")
"""),
    # network, base R
    _r("socket_refused", "network", "cannot be opened|cannot open the connection", """\
con <- socketConnection(host = "127.0.0.1", port = __CLOSED__, blocking = TRUE, open = "r+", timeout = 5)
writeLines("PING", con)
"""),
    _r("url_invalid_host", "network", "resolve host|cannot open", """\
lines <- readLines(url("http://files.pipeline.invalid/exports/latest.csv", method = "libcurl"))
print(length(lines))
"""),
    _r("download_refused", "network", "Connection refused|Failed to connect|cannot open URL", """\
download.file("http://127.0.0.1:__CLOSED__/exports/latest.csv", "latest.csv", method = "libcurl", quiet = TRUE)
"""),
    _r("download_503", "service", "503", """\
download.file("__HTTP__/status/503", "latest.csv", method = "libcurl", quiet = TRUE)
"""),
    _r("download_429", "resource", "429", """\
download.file("__API__/gcp429/v1/exports/latest.csv", "latest.csv", method = "libcurl", quiet = TRUE)
"""),
    _r("download_401", "auth", "401", """\
download.file("__HTTP__/status/401", "private.csv", method = "libcurl", quiet = TRUE)
"""),
    # programming
    _r("object_not_found", "programming", "not found", """\
sales <- data.frame(region = c("n", "s"), amount = c(10, 20))
totals <- aggregate(amount ~ region, data = sales, FUN = sum)
print(totlas)
"""),
    _r("function_not_found", "programming", "could not find function", """\
df <- data.frame(id = 1:3, amount = c(5, 7, 9))
clean <- df |> mutate(amount = amount * 1.2)
"""),
    _r("non_numeric_argument", "programming", "non-numeric argument", """\
row <- list(qty = "3", price = 2.5)
total <- row$qty * row$price
"""),
    _r("subscript_out_of_bounds", "programming", "subscript out of bounds", """\
batches <- list(list(id = 1), list(id = 2))
for (i in 1:3) cat("batch", batches[[i]]$id, "\\n")
"""),
    _r("argument_length_zero", "programming", "argument is of length zero", """\
cfg <- list(mode = "full")
if (cfg$incremental) cat("incremental load\\n") else cat("full load\\n")
"""),
    _r("dollar_atomic", "programming", "atomic vector", """\
record <- c(id = 1, amount = 9.5)
print(record$amount)
"""),
    _r("unused_argument", "programming", "unused argument", """\
summarise_day <- function(df) colSums(df)
summarise_day(data.frame(a = 1:2), na.rm = TRUE)
"""),
    _r("missing_package", "programming", "there is no package", """\
library(data.table.extras)
"""),
    _r("infinite_recursion", "programming", "nested too deeply|infinite recursion|stack", """\
walk <- function(node) walk(list(parent = node))
walk(list(id = 1))
"""),
]


def _sql(sql: str) -> None:
    proc = run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-v", "ON_ERROR_STOP=1"], input=sql)
    if proc.returncode:
        raise RuntimeError(f"setup failed: {proc.stderr.strip()[:200]}")


_INPUTS: dict[str, tuple[bytes, int]] = {
    "credentials.env": (b"DB_PASSWORD=b63\n", 0o600),
    "ragged.csv": (b"id,amount\n1,10.5\n2,7.25,EUR,late\n3,1.0\n", 0o644),
    "transactions.csv": (b"id,amount\n1,10.5\n2,seven\nthree,1.0\n", 0o644),
    "events.json": (b'[{"id": 1, "kind": "signup"}, {"id": 2, "kind": "login",}]\n', 0o644),
    "pipeline.yml": (b"steps:\n  - name: extract\n    run: extract.R\n   - name: load\n  run: [load.R\n", 0o644),
    "model.rds": (b"this is not an rds file, it is a truncated upload\n", 0o644),
}


def blind63_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    scratch = scratch_dir(env)
    data = write_inputs(scratch, _INPUTS)
    disk = mount_tmpfs(env, "disk63", "size=256k")
    ro = mount_tmpfs(env, "ro63", "size=64k,ro")
    pg = private_postgres(env, max_connections=4)
    standby = private_postgres(env, max_connections=4, standby=True)
    _sql(_PG_SETUP)
    values = {"__CLOSED__": str(env.closed_port), "__HANG__": str(env.hang_port), "__RESET__": str(env.reset_port),
              "__CLOSEPORT__": str(env.close_port),
              "__HTTP__": env.http, "__API__": api, "__DISK__": str(disk), "__RODIR__": str(ro),
              "__PGPRIV__": str(pg.port), "__PGSTANDBY__": str(standby.port), "__DATA__": str(data),
              "__SCRATCH__": str(scratch)}

    def fill(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    try:
        return r_records([*DBI_CASES, *HTTR_CASES, *BASE_CASES], scratch, fill)
    finally:
        run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q"], input=_PG_CLEANUP)


if __name__ == "__main__":
    write_batch(blind63_records)


__all__ = ["BLIND63_SOURCES", "blind63_records"]
