"""Thirty-third batch of blind provokers: the Ruby runtime, new to the corpus. Small Ruby scripts of the kind
CI jobs, deploy scripts and data pipelines run die for real, and Ruby's own uncaught-exception print (with
its backtrace) plus the `Class: message` line a rescue would log are recorded: Net::HTTP and open-uri against
local servers answering 401/403/429/500/502/503 (plain and hosted-API bodies), a hanging port (read timeout),
a port whose listen queue is full (open timeout), a `.invalid` host, a self-signed TLS server; ruby-pg
against a private PostgreSQL (wrong password, table privilege, every connection slot taken, a standby that
refuses connections); ruby-redis against a closed port and a private Redis at its memory limit; JSON, YAML,
CSV, Integer() and Date parsing of bad input; file errors (missing config, a log directory `nobody` cannot
write, a non-empty directory, a read-only and a full tmpfs, the open-file limit); defects of the script
itself (nil, TypeError, a frozen literal, endless recursion, a misspelt key, a syntax error); git through
Open3 (outside a repository, a merge conflict). Only 127.0.0.1."""

from __future__ import annotations

from blind33_support import RubyCase, ruby_records, shared_dir
from checked import ToolCase, tool_records
from cloudapi import cloud_api
from common import Env, Record, git_env, run, write_batch
from servers import client_cert_server, mount_tmpfs, private_postgres, private_redis
from servers import full_backlog_port as backlog_port

BLIND33_SOURCES = frozenset({"ruby33", "ruby-net33", "ruby-pg33", "ruby-redis33", "ruby-git33"})
_GIT_ENV = git_env("blind33")

_GIT_HELPER = """require "open3"

def git(*args, chdir: Dir.pwd)
  out, err, status = Open3.capture3("git", *args, chdir: chdir)
  raise "git #{args.join(" ")} failed (exit #{status.exitstatus}): #{(out + err).strip}" unless status.success?
  out
end
"""

NETWORK = [
    RubyCase("redis_refused", "network", "ruby-redis33", "Redis::CannotConnectError", """require "redis"

def enqueue_job(redis, payload)
  redis.lpush("jobs:deploy", payload)
end

redis = Redis.new(host: "127.0.0.1", port: __CLOSED__, connect_timeout: 2)
enqueue_job(redis, '{"release":"2026.11.29","service":"billing"}')
"""),
    RubyCase("http_read_timeout", "network", "ruby-net33", "Net::ReadTimeout", """require "net/http"
require "uri"

def fetch_manifest(url)
  uri = URI(url)
  Net::HTTP.start(uri.host, uri.port, open_timeout: 3, read_timeout: 2) do |http|
    http.get(uri.path).body
  end
end

puts fetch_manifest("http://127.0.0.1:__HANG__/v1/releases/manifest.json")
"""),
    RubyCase("http_open_timeout", "network", "ruby-net33", "Net::OpenTimeout", """require "net/http"
require "json"

http = Net::HTTP.new("127.0.0.1", __BACKLOG__)
http.open_timeout = 2
http.start do |h|
  h.post("/v1/events", JSON.generate(event: "deploy_finished", sha: "9f1c2e7"), "Content-Type" => "application/json")
end
"""),
    RubyCase("open_uri_dns", "network", "ruby-net33", "SocketError", """require "open-uri"

def download(url, dest)
  URI.open(url, open_timeout: 5) { |io| File.binwrite(dest, io.read) }
end

download("https://artifacts.build-cache.invalid/releases/app-1.4.2.tar.gz", "app-1.4.2.tar.gz")
""", token="getaddrinfo|name"),
    RubyCase("tls_self_signed", "network", "ruby-net33", "OpenSSL::SSL::SSLError", """require "net/http"

uri = URI("https://127.0.0.1:__TLS__/api/v2/health")
res = Net::HTTP.start(uri.host, uri.port, use_ssl: true, open_timeout: 3, read_timeout: 3) do |http|
  http.get(uri.path)
end
puts res.code
""", token="certificate verify failed"),
]

SERVICE = [
    RubyCase("http_500_value", "service", "ruby-net33", "Net::HTTPFatalError", """require "net/http"
require "json"

def post_build_status(base, sha, state)
  uri = URI("#{base}/status/500")
  res = Net::HTTP.post(uri, JSON.generate(sha: sha, state: state), "Content-Type" => "application/json")
  res.value
  JSON.parse(res.body)
end

post_build_status("__HTTP__", "9f1c2e7", "success")
""", token="500"),
    RubyCase("open_uri_502", "service", "ruby-net33", "OpenURI::HTTPError", """require "open-uri"
require "json"

body = URI.open("__API__/nginx502/api/v1/releases/latest", read_timeout: 5).read
puts JSON.parse(body).fetch("tag_name")
""", token="502"),
    RubyCase("deploy_api_503", "service", "ruby-net33", "StandardError", """require "net/http"
require "json"

class DeployClient
  class Error < StandardError; end

  def initialize(base)
    @base = URI(base)
  end

  def trigger(service)
    req = Net::HTTP::Post.new(URI("#{@base}/gcp503/v1/projects/ci/deployments"), "Content-Type" => "application/json")
    req.body = JSON.generate(service: service)
    res = Net::HTTP.start(@base.host, @base.port, read_timeout: 5) { |http| http.request(req) }
    raise Error, "deploy API returned #{res.code} #{res.message}: #{res.body}" unless res.is_a?(Net::HTTPSuccess)

    JSON.parse(res.body)
  end
end

DeployClient.new("__API__").trigger("billing")
""", token="503"),
    RubyCase("pg_standby", "service", "ruby-pg33", "PG::ConnectionBad", """require "pg"

conn = PG.connect(host: "127.0.0.1", port: __STANDBY__, user: "postgres", dbname: "postgres", connect_timeout: 5)
conn.exec("SELECT count(*) FROM pg_stat_activity")
""", token="not accepting|starting up|standby"),
]

RESOURCE = [
    RubyCase("http_429_value", "resource", "ruby-net33", "Net::HTTPClientException|Net::HTTPServerException",
             """require "net/http"

def list_artifacts(base, page)
  res = Net::HTTP.get_response(URI("#{base}/status/429?page=#{page}"))
  res.value
  res.body
end

(1..3).each { |page| puts list_artifacts("__HTTP__", page) }
""", token="429"),
    RubyCase("disk_full", "resource", "ruby33", "Errno::ENOSPC", """require "fileutils"

def write_artifact(dir, name, bytes)
  FileUtils.mkdir_p(dir)
  File.binwrite(File.join(dir, name), bytes)
end

write_artifact("__DISK__/cache", "bundle-2026.11.29.tar", Random.new(33).bytes(600_000))
"""),
    RubyCase("too_many_open_files", "resource", "ruby33", "Errno::EMFILE", """shards = (1..200).map do |i|
  File.open(format("shard-%03d.jsonl", i), "a")
end
shards.each_with_index { |f, i| f.puts(%({"shard": #{i}})) }
""", max_files=48),
    RubyCase("pg_too_many_connections", "resource", "ruby-pg33", "PG::ConnectionBad", """require "pg"

POOL_SIZE = 8

pool = Array.new(POOL_SIZE) do
  PG.connect(host: "127.0.0.1", port: __PGPORT__, user: "app", password: "right-password", dbname: "postgres")
end
pool.each { |conn| conn.exec("SELECT 1") }
""", token="too many|slots"),
    RubyCase("redis_maxmemory", "resource", "ruby-redis33", "Redis::CommandError", """require "redis"

redis = Redis.new(host: "127.0.0.1", port: __REDIS__, password: "right-password")
fragment = "<div>" + ("x" * 65_536) + "</div>"
200.times { |i| redis.set("cache:render:#{i}", fragment) }
""", token="OOM"),
]

FILESYSTEM = [
    RubyCase("config_missing", "filesystem", "ruby33", "Errno::ENOENT", """require "yaml"

def load_config(env)
  YAML.safe_load(File.read(File.join("config", "deploy.#{env}.yml")))
end

config = load_config(ENV.fetch("DEPLOY_ENV", "production"))
puts config.fetch("hosts")
""", files={"config/deploy.staging.yml": "hosts: [staging-1]\n"}),
    RubyCase("log_permission", "filesystem", "ruby33", "Errno::EACCES", """require "logger"

logger = Logger.new("__SHARED__/locked/release.log")
logger.info("release 2026.11.29 started")
""", as_nobody=True),
    RubyCase("rmdir_not_empty", "filesystem", "ruby33", "Errno::ENOTEMPTY", """def clean_build_dir(path)
  Dir.rmdir(path)
end

clean_build_dir("build")
""", files={"build/app.o": "obj\n"}),
    RubyCase("read_only_mount", "filesystem", "ruby33", "Errno::EROFS", """require "fileutils"

release = "__RODIR__/releases/2026.11.29"
FileUtils.mkdir_p(release)
FileUtils.cp("Gemfile.lock", release)
""", files={"Gemfile.lock": "GEM\n  specs:\n"}),
]

VALIDATION = [
    RubyCase("json_payload", "validation", "ruby33", "JSON::ParserError", """require "json"

def load_payload(path)
  JSON.parse(File.read(path))
end

payload = load_payload("payload.json")
puts payload.fetch("ref")
""", files={"payload.json": '{"ref": "refs/heads/main", "commits": [{"id": "9f1c2e7", "message": "fix retry",}\n'}),
    RubyCase("yaml_pipeline", "validation", "ruby33", "Psych::SyntaxError", """require "yaml"

pipeline = YAML.load_file(".ci/pipeline.yml")
pipeline.fetch("stages").each { |stage| puts stage }
""", files={".ci/pipeline.yml": "stages:\n  - build\n  - test\ndeploy:\n  script: make deploy\n   only: main\n"}),
    RubyCase("csv_invoices", "validation", "ruby33", "CSV::MalformedCSVError", """require "csv"

total = 0
CSV.foreach("invoices.csv", headers: true) do |row|
  total += Integer(row["amount_cents"])
end
puts total
""", files={"invoices.csv": 'id,customer,amount_cents\n1,"ACME Ltd",1200\n2,"Widgets, Inc,3400\n3,Globex,560\n'}),
    RubyCase("integer_env", "validation", "ruby33", "ArgumentError", """replicas = Integer(ENV.fetch("REPLICAS"))
puts "scaling to #{replicas} replicas"
""", token="invalid value", env={"REPLICAS": "three"}),
    RubyCase("date_argument", "validation", "ruby33", "Date::Error|ArgumentError", """require "date"

cutoff = Date.parse(ARGV.fetch(0))
puts "purging backups older than #{cutoff}"
""", token="invalid date", args=("2026-02-30",)),
]

AUTH = [
    RubyCase("http_401_value", "auth", "ruby-net33", "Net::HTTPClientException|Net::HTTPServerException",
             """require "net/http"

uri = URI("__HTTP__/status/401")
req = Net::HTTP::Get.new(uri)
req["Authorization"] = "Bearer #{ENV.fetch("CI_TOKEN", "ghp_expired")}"
res = Net::HTTP.start(uri.host, uri.port) { |http| http.request(req) }
res.value
puts res.body
""", token="401"),
    RubyCase("open_uri_403", "auth", "ruby-net33", "OpenURI::HTTPError", """require "open-uri"

URI.open("__API__/s3denied/build-artifacts/app-1.4.2.tar.gz") do |io|
  IO.copy_stream(io, "app-1.4.2.tar.gz")
end
""", token="403"),
    RubyCase("pg_password", "auth", "ruby-pg33", "PG::ConnectionBad", """require "pg"

conn = PG.connect(host: "127.0.0.1", port: __PGPORT__, user: "app", dbname: "postgres",
                  password: ENV.fetch("APP_DB_PASSWORD", "wrong-password"))
conn.exec("SELECT 1")
""", token="password authentication failed"),
    RubyCase("pg_table_privilege", "auth", "ruby-pg33", "PG::InsufficientPrivilege", """require "pg"

conn = PG.connect(host: "127.0.0.1", port: __PGPORT__, user: "app", password: "right-password", dbname: "postgres")
rows = conn.exec_params("SELECT employee_id, amount FROM payroll WHERE period = $1", ["2026-11"])
rows.each { |row| puts row.values_at("employee_id", "amount").join(",") }
"""),
]

PROGRAMMING = [
    RubyCase("nil_method", "programming", "ruby33", "NoMethodError",
             """CONFIG = { "retry" => nil, "timeout" => 30 }.freeze

def retry_attempts(config)
  config["retry"]["attempts"]
end

puts retry_attempts(CONFIG)
"""),
    RubyCase("string_plus_integer", "programming", "ruby33", "TypeError", """build_number = 42
label = "Build #" + build_number
puts label
"""),
    RubyCase("frozen_literal", "programming", "ruby33", "FrozenError", """# frozen_string_literal: true

def add_suffix(tag)
  tag << "-rc1"
end

puts add_suffix("v1.4.2")
"""),
    RubyCase("endless_recursion", "programming", "ruby33", "SystemStackError", """def depth(node)
  node[:parent] ? 1 + depth(node[:parent]) : 0
end

root = { name: "root" }
root[:parent] = root
puts depth(root)
"""),
    RubyCase("misspelt_key", "programming", "ruby33", "KeyError",
             """SETTINGS = { timeout: 30, retries: 3, backoff: 2.0 }.freeze

def http_timeout
  SETTINGS.fetch(:time_out)
end

puts http_timeout
"""),
]

GIT = [
    RubyCase("git_outside_repo", "git", "ruby-git33", "RuntimeError", _GIT_HELPER + """
sha = git("rev-parse", "HEAD").strip
puts "building #{sha}"
""", token="not a git repository", env=_GIT_ENV),
    RubyCase("git_merge_conflict", "git", "ruby-git33", "RuntimeError", _GIT_HELPER + """
git("merge", "--no-edit", "feature/retry", chdir: "__REPO__")
puts git("log", "--oneline", "-1", chdir: "__REPO__")
""", token="conflict", env=_GIT_ENV),
]

SYNTAX: list[ToolCase] = [
    ("ruby_syntax_error", "programming", "syntax error", ["ruby", "__SYNTAX__"]),
]
_SYNTAX_SCRIPT = """def notify(channel, text)
  puts "[#{channel}] #{text}"

notify("#deploys", "release 2026.11.29 done")
"""


def _setup_private(env: Env) -> dict[str, str]:
    """Private servers the cases fail against; returns the placeholders they fill."""
    pg = private_postgres(env, max_connections=4, reserved=1)
    setup = run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-v",
                 "ON_ERROR_STOP=1", "-c", "CREATE TABLE payroll (employee_id int, amount int, period text)"])
    if setup.returncode:
        raise RuntimeError("payroll table setup failed")
    standby = private_postgres(env, standby=True)
    redis_port = private_redis(env, "--requirepass", "right-password", "--maxmemory", "2mb",
                               "--maxmemory-policy", "noeviction")
    return {"__PGPORT__": str(pg.port), "__STANDBY__": str(standby.port), "__REDIS__": str(redis_port)}


def _setup_repo(env: Env) -> str:
    repo = env.tmp / "repo33"
    repo.mkdir()
    script = ("git init -q -b main && printf 'retries = 3\\n' > settings.rb && git add . && git commit -q -m init && "
              "git checkout -q -b feature/retry && printf 'retries = 5\\n' > settings.rb && git commit -q -am five && "
              "git checkout -q main && printf 'retries = 1\\n' > settings.rb && git commit -q -am one")
    if run(["bash", "-c", script], cwd=repo, env=_GIT_ENV).returncode:
        raise RuntimeError("git repository setup failed")
    return str(repo)


def blind33_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    shared = shared_dir(env)
    (shared / "locked").mkdir(mode=0o755)
    places = {
        "__HTTP__": env.http, "__API__": api, "__CLOSED__": str(env.closed_port), "__HANG__": str(env.hang_port),
        "__BACKLOG__": str(backlog_port(env)), "__TLS__": str(client_cert_server(env).port),
        "__DISK__": str(mount_tmpfs(env, "disk33", "size=256k")),
        "__RODIR__": str(mount_tmpfs(env, "ro33", "size=64k,ro")), "__SHARED__": str(shared),
        "__REPO__": _setup_repo(env), "__SYNTAX__": str(env.tmp / "notify_release.rb"),
        **_setup_private(env),
    }

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    cases = NETWORK + SERVICE + RESOURCE + FILESYSTEM + VALIDATION + AUTH + PROGRAMMING + GIT
    out = ruby_records(env, cases, fill, shared)
    (env.tmp / "notify_release.rb").write_text(_SYNTAX_SCRIPT)
    out += tool_records(SYNTAX, "ruby33", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind33_records)


__all__ = ["BLIND33_SOURCES", "blind33_records"]
