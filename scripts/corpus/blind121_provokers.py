"""Hundred-and-twenty-first batch of blind provokers: Ruby libraries and tools from Debian not seen before, run as the
scripts of one ledger platform (blind121_support sets up the servers and the project tree). HTTParty (`raise_on`
401/403/503, a refused port, a hung peer, a self-signed certificate, a cut-off JSON answer, an ftp:// URL);
RestClient (401, 403, 429, 422, 503, a refused port, an open timeout, a missing upload file, a request without a
method); Net::SSH against a private sshd (a refused password, a refused port, a hung and a closing peer, a missing
and a garbled key, an unknown option); Bunny on a vhost pair created here (a wrong password, a user without
permission on the vhost, a queue outside the user's configure rights, the vhost's connection limit, an inequivalent
redeclaration, a refused port); Dalli against a private memcached that does not evict (out of memory), a refused
port, a hung peer and a blank key; mysql2 against a private MariaDB (access denied, too many connections, a lock wait
timeout, a duplicate entry, data too long, an SQL syntax error, a refused port, a read timeout); a Thor CLI (missing
argument, unknown switch, a non-numeric option, a missing and a malformed config file, a NoMethodError); RSpec specs
revealing code bugs; Rake tasks (a missing prerequisite file, a full and a read-only tmpfs, a bad task argument, a
NoMethodError); Puma (a port in use, a bad thread count, a broken rackup file, an app error, a file-descriptor
limit); Sidekiq clients and CLI against private Redis servers (a refused port, a wrong password, maxmemory, strict
job arguments, a malformed config file)."""

from __future__ import annotations

from blind121_support import Rig, prepare
from checked import ToolCase, tool_records
from common import Env, Record

BLIND121_SOURCES = frozenset({"httparty121", "rest-client121", "net-ssh121", "bunny121", "dalli121",
                              "ruby-mysql2121", "thor121", "rspec121", "rake121", "puma121", "sidekiq121"})

# --------------------------------------------------------------------------- HTTParty

_SYNC_INVOICES = """\
require "httparty"
require "json"

# Pull the open invoices of one tenant from the billing API into the ledger.
url = ARGV.fetch(0)
response = HTTParty.get(url, timeout: 2,
                             headers: { "Accept" => "application/json",
                                        "Authorization" => "Bearer lt_9f2c1e77a0b4" },
                             raise_on: [401, 403, 429, 500, 502, 503, 504])
invoices = response.parsed_response.fetch("invoices")
puts "synced #{invoices.size} invoices"
"""


def _httparty(rig: Rig) -> list[ToolCase]:
    rig.write("bin/sync_invoices.rb", _SYNC_INVOICES)

    def get(url: str) -> list[str]:
        return ["ruby", "bin/sync_invoices.rb", rig.fill(url)]

    return [
        ("httparty_401", "auth", "Code 401", get("@HTTP@/status/401?tenant=northwind&state=open")),
        ("httparty_403", "auth", "Code 403", get("@HTTP@/status/403?tenant=contoso&state=open")),
        ("httparty_503", "service", "Code 503", get("@HTTP@/status/503?tenant=northwind&state=open")),
        ("httparty_refused", "network", "ECONNREFUSED|Connection refused",
         get("http://127.0.0.1:@CLOSED@/api/v2/invoices?state=open")),
        ("httparty_read_timeout", "network", "ReadTimeout|timed out",
         get("http://127.0.0.1:@HANG@/api/v2/invoices?state=open")),
        ("httparty_self_signed", "network", "certificate verify failed",
         get("https://127.0.0.1:@TLS@/api/v2/invoices?state=open")),
        ("httparty_cut_json", "validation", "ParserError|unexpected",
         get("http://127.0.0.1:@BADJSON@/api/v2/invoices?state=open")),
        ("httparty_ftp_scheme", "validation", "UnsupportedURIScheme",
         get("ftp://billing.northwind-ledger.internal/exports/invoices.json")),
    ]


# --------------------------------------------------------------------------- RestClient

_PUSH_SETTLEMENT = """\
require "rest-client"
require "json"

url = ARGV.fetch(0)
payload = { settlement_id: "STL-2026-11-29-0007", amount_cents: 1_840_050, currency: "EUR",
            iban: "DE89370400440532013000" }.to_json
response = RestClient::Request.execute(method: :post, url: url, payload: payload,
                                       headers: { content_type: :json, accept: :json,
                                                  authorization: "Token stl_live_51f0" },
                                       open_timeout: 2, read_timeout: 2)
puts JSON.parse(response.body).fetch("detail")
"""

_UPLOAD_STATEMENT = """\
require "rest-client"

statement = ARGV.fetch(1)
RestClient.post(ARGV.fetch(0), statement: File.new(statement, "rb"), period: "2026-10")
"""

_FETCH_RATES = """\
require "rest-client"

# Nightly FX rates for the ledger's EUR conversions.
response = RestClient::Request.execute(url: ARGV.fetch(0), headers: { accept: :json }, timeout: 5)
puts response.body
"""


def _rest_client(rig: Rig) -> list[ToolCase]:
    rig.write("bin/push_settlement.rb", _PUSH_SETTLEMENT)
    rig.write("bin/upload_statement.rb", _UPLOAD_STATEMENT)
    rig.write("bin/fetch_rates.rb", _FETCH_RATES)

    def push(url: str) -> list[str]:
        return ["ruby", "bin/push_settlement.rb", rig.fill(url)]

    return [
        ("rest_client_401", "auth", "401|Unauthorized", push("@HTTP@/status/401?route=settlements")),
        ("rest_client_403", "auth", "403|Forbidden", push("@HTTP@/status/403?route=settlements")),
        ("rest_client_429", "resource", "429|Too Many Requests", push("@HTTP@/status/429?route=settlements")),
        ("rest_client_422", "validation", "422|Unprocessable", push("@HTTP@/status/422?route=settlements")),
        ("rest_client_503", "service", "503|Service Unavailable", push("@HTTP@/status/503?route=settlements")),
        ("rest_client_refused", "network", "ECONNREFUSED|Connection refused",
         push("http://127.0.0.1:@CLOSED@/v1/settlements")),
        ("rest_client_open_timeout", "network", "OpenTimeout|timed out",
         push("http://127.0.0.1:@BACKLOG@/v1/settlements")),
        ("rest_client_missing_upload", "filesystem", "ENOENT|No such file",
         ["ruby", "bin/upload_statement.rb", rig.fill("@HTTP@/ok"),
          rig.fill("@ROOT@/var/statements/2026-10/DE89370400440532013000.camt053.xml")]),
        ("rest_client_no_method", "programming", "must pass :method|ArgumentError",
         ["ruby", "bin/fetch_rates.rb", rig.fill("@HTTP@/ok")]),
    ]


# --------------------------------------------------------------------------- Net::SSH

_DEPLOY_RELEASE = """\
require "net/ssh"

host, port = ARGV.fetch(0), Integer(ARGV.fetch(1))
options = { port: port, non_interactive: true, verify_host_key: :never, timeout: 2,
            auth_methods: %w[publickey password] }
options[:password] = ENV["DEPLOY_PASSWORD"] if ENV["DEPLOY_PASSWORD"]
if (identity = ENV["DEPLOY_IDENTITY"])
  Net::SSH::KeyFactory.load_private_key(identity)  # fail early on a bad key, before touching the host
  options[:keys] = [identity]
  options[:keys_only] = true
end
Net::SSH.start(host, "deploy", **options) do |ssh|
  puts ssh.exec!("cd /srv/ledger/releases && ls -1t | head -5")
end
"""

_TAIL_LOGS = """\
require "net/ssh"

Net::SSH.start("127.0.0.1", "deploy", port: Integer(ARGV.fetch(0)), passwd: ENV.fetch("DEPLOY_PASSWORD", ""),
               verify_host_key: :never) do |ssh|
  puts ssh.exec!("tail -n 200 /srv/ledger/shared/log/production.log")
end
"""

_GARBLED_KEY = """\
-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDk2Zx0ledger-deploy-key-was-pasted-here-with-lines-missing
-----END OPENSSH PRIVATE KEY-----
"""


def _net_ssh(rig: Rig) -> list[ToolCase]:
    rig.write("bin/deploy_release.rb", _DEPLOY_RELEASE)
    rig.write("bin/tail_logs.rb", _TAIL_LOGS)
    rig.write("config/deploy/id_ed25519_ci", _GARBLED_KEY)
    deploy = "ruby bin/deploy_release.rb 127.0.0.1 "
    return [
        ("net_ssh_wrong_password", "auth", "AuthenticationFailed|Authentication failed",
         rig.fill(f"DEPLOY_PASSWORD='Winter2026!' {deploy}@SSHD@")),
        ("net_ssh_refused", "network", "ECONNREFUSED|Connection refused",
         rig.fill(f"DEPLOY_PASSWORD=x {deploy}@CLOSED@")),
        ("net_ssh_timeout", "network", "ConnectionTimeout|timeout|timed out",
         rig.fill(f"DEPLOY_PASSWORD=x {deploy}@HANG@")),
        ("net_ssh_peer_closed", "network", "Disconnect|closed",
         rig.fill(f"DEPLOY_PASSWORD=x {deploy}@EMPTY@")),
        ("net_ssh_missing_key", "filesystem", "ENOENT|No such file",
         rig.fill(f"DEPLOY_IDENTITY=/root/.ssh/ledger_deploy_ed25519 {deploy}@SSHD@")),
        ("net_ssh_garbled_key", "validation", "PKeyError|could not parse|Exception|invalid|ArgumentError",
         rig.fill(f"DEPLOY_IDENTITY=config/deploy/id_ed25519_ci {deploy}@SSHD@")),
        ("net_ssh_unknown_option", "programming", "invalid option", rig.fill("ruby bin/tail_logs.rb @SSHD@")),
    ]


# --------------------------------------------------------------------------- Bunny

_CONSUMER = """\
require "bunny"
require "logger"

def connect(user, password)
  Bunny.new(host: "127.0.0.1", port: Integer(ENV.fetch("AMQP_PORT", "5672")), vhost: ENV.fetch("AMQP_VHOST"),
            user: user, password: password, connection_timeout: 3, automatically_recover: false,
            logger: Logger.new($stderr, level: Logger::WARN)).tap(&:start)
end

user = ENV.fetch("AMQP_USER", "@RABBIT_USER@")
password = ENV.fetch("AMQP_PASSWORD", "@RABBIT_PASSWORD@")
held = connect(user, password) if ENV["SIDECAR"]  # the audit sidecar keeps its own connection open
conn = connect(user, password)
channel = conn.create_channel
queue = channel.queue(ENV.fetch("QUEUE", "ledger.settlements"), durable: ENV["DURABLE"] != "0")
queue.subscribe(manual_ack: true) { |info, _props, body| puts body; channel.ack(info.delivery_tag) }
sleep 0.2
conn.close
held&.close
"""


def _bunny(rig: Rig) -> list[ToolCase]:
    rig.write("bin/settlement_consumer.rb", _CONSUMER)
    run_consumer = "AMQP_VHOST=@VHOST@ ruby bin/settlement_consumer.rb"
    # declare the durable queue once, so that a non-durable redeclaration conflicts with it
    declare = rig.fill(f"{run_consumer} >/dev/null 2>&1; ")
    return [
        ("bunny_wrong_password", "auth", "AuthenticationFailure|ACCESS_REFUSED",
         rig.fill(f"AMQP_PASSWORD=ledger-sync-2025 {run_consumer}")),
        ("bunny_vhost_not_allowed", "auth", "NOT_ALLOWED|access to vhost|AccessRefused",
         rig.fill(f"AMQP_USER=@RABBIT_READER@ {run_consumer}")),
        ("bunny_queue_access_refused", "auth", "ACCESS_REFUSED|AccessRefused",
         rig.fill(f"QUEUE=audit.settlement-events {run_consumer}")),
        ("bunny_vhost_connection_limit", "resource", "connection limit",
         rig.fill("SIDECAR=1 AMQP_VHOST=@LIMITED_VHOST@ ruby bin/settlement_consumer.rb")),
        ("bunny_inequivalent_durable", "validation", "PRECONDITION_FAILED|inequivalent",
         declare + rig.fill(f"DURABLE=0 {run_consumer}")),
        ("bunny_refused", "network", "TCPConnectionFailed|refused",
         rig.fill(f"AMQP_PORT=@CLOSED@ {run_consumer}")),
    ]


# --------------------------------------------------------------------------- Dalli

_SESSION_CACHE = """\
require "dalli"
require "logger"
require "securerandom"

Dalli.logger = Logger.new($stderr, level: Logger::WARN)
cache = Dalli::Client.new(ENV.fetch("MEMCACHE_SERVERS"), namespace: "ledger-web", socket_timeout: 1,
                          socket_max_failures: 1, expires_in: 3600)
case ARGV.fetch(0)
when "warm"
  # Pre-render the dashboard fragments of every active account.
  (1..2000).each { |id| cache.set("dashboard:account:#{id}", SecureRandom.random_bytes(40_000)) }
when "session"
  cache.set(ENV["SESSION_ID"], { user_id: 42, roles: %w[accountant] })
else
  puts cache.get("session:7c1f0e2a")
end
"""


def _dalli(rig: Rig) -> list[ToolCase]:
    rig.write("bin/session_cache.rb", _SESSION_CACHE)
    return [
        ("dalli_refused", "network", "ECONNREFUSED",
         rig.fill("MEMCACHE_SERVERS=127.0.0.1:@CLOSED@ ruby bin/session_cache.rb get")),
        ("dalli_out_of_memory", "resource", "Out of memory",
         rig.fill("MEMCACHE_SERVERS=127.0.0.1:@MEMCACHED_FULL@ ruby bin/session_cache.rb warm")),
        ("dalli_blank_key", "programming", "key cannot be blank|ArgumentError",
         rig.fill("MEMCACHE_SERVERS=127.0.0.1:@MEMCACHED_FULL@ ruby bin/session_cache.rb session")),
        ("dalli_hung_server", "network", "Timeout|timed out|timeout",
         rig.fill("MEMCACHE_SERVERS=127.0.0.1:@HANG@ ruby bin/session_cache.rb get")),
    ]


# --------------------------------------------------------------------------- mysql2

_LEDGER_JOB = """\
require "mysql2"

def client(**extra)
  Mysql2::Client.new(host: "127.0.0.1", port: Integer(ENV.fetch("DB_PORT", "@MYSQL@")), database: "ledger",
                     username: "ledger_app", password: ENV.fetch("DB_PASSWORD", "ledger-app-pass"),
                     connect_timeout: 3, **extra)
end

case ARGV.fetch(0)
when "balances"
  client.query("SELECT id, balance_cents FROM accounts").each { |row| puts row }
when "shard-workers"
  workers = (1..16).map { |n| client.tap { |c| c.query("SET @worker = #{n}") } }
  puts "#{workers.size} workers connected"
when "transfer"
  holder = client
  holder.query("BEGIN")
  holder.query("UPDATE accounts SET balance_cents = balance_cents - 5000 WHERE id = 1")
  db = client
  db.query("SET SESSION innodb_lock_wait_timeout = 1")
  db.query("UPDATE accounts SET balance_cents = balance_cents + 5000 WHERE id = 1")
when "import-account"
  client.query("INSERT INTO accounts (id, email, iban, balance_cents) " \\
               "VALUES (3, 'ops@northwind-ledger.example', 'NL91ABNA0417164300', 0)")
when "import-iban"
  client.query("INSERT INTO accounts (id, email, iban, balance_cents) " \\
               "VALUES (4, 'treasury@northwind-ledger.example', 'GB29 NWBK 6016 1331 9268 19 / legacy ref 0042', 0)")
when "top-balances"
  client.query("SELEC id, balance_cents FROM accounts ORDER BY balance_cents DESC LIMIT 10").each { |r| puts r }
when "slow-report"
  client(read_timeout: 1).query("SELECT SLEEP(5), SUM(balance_cents) FROM accounts")
end
"""


def _mysql2(rig: Rig) -> list[ToolCase]:
    rig.write("bin/ledger_job.rb", _LEDGER_JOB)
    job = "ruby bin/ledger_job.rb "
    return [
        ("mysql2_access_denied", "auth", "Access denied", rig.fill(f"DB_PASSWORD=ledger-app-2025 {job}balances")),
        ("mysql2_too_many_connections", "resource", "Too many connections", job + "shard-workers"),
        ("mysql2_lock_wait", "resource", "Lock wait timeout", job + "transfer"),
        ("mysql2_duplicate_email", "validation", "Duplicate entry", job + "import-account"),
        ("mysql2_data_too_long", "validation", "Data too long", job + "import-iban"),
        ("mysql2_sql_syntax", "programming", "SQL syntax", job + "top-balances"),
        ("mysql2_refused", "network", "Can't connect|refused", rig.fill(f"DB_PORT=@CLOSED@ {job}balances")),
        ("mysql2_read_timeout", "network", "Timeout waiting|timeout", job + "slow-report"),
    ]


# --------------------------------------------------------------------------- Thor

_LEDGERCTL = """\
#!/usr/bin/env ruby
require "thor"
require "yaml"

class LedgerCtl < Thor
  check_unknown_options!

  def self.exit_on_failure?
    true
  end

  desc "reconcile ACCOUNT", "Reconcile an account against its bank feed"
  method_option :since, type: :string, required: true
  method_option :batch_size, type: :numeric, default: 500
  method_option :env, type: :string, enum: %w[staging production], default: "staging"
  def reconcile(account)
    puts "reconciling #{account} since #{options[:since]} in #{options[:env]}"
  end

  desc "sync-feeds", "Pull every configured bank feed"
  method_option :config, type: :string, default: "config/bank_feeds.yml"
  def sync_feeds
    feeds = YAML.safe_load_file(options[:config]).fetch("feeds")
    feeds.each { |name, feed| puts "#{name}: #{feed.fetch('url')}" }
  end

  desc "summary", "Print the balance total per currency"
  def summary
    accounts = YAML.safe_load_file("config/accounts.yml")
    totals = accounts.group_by { |a| a["currency"] }.transform_values { |list| list.sum(&:balance_cents) }
    totals.each { |currency, cents| puts format("%s %.2f", currency, cents / 100.0) }
  end
end

LedgerCtl.start(ARGV)
"""

_BANK_FEEDS = """\
feeds:
  deutsche-bank:
    url: https://feeds.db.example/camt053
    account: DE89370400440532013000
  bnp:
    url: https://feeds.bnp.example/camt053
\taccount: FR1420041010050500013M02606
"""

_ACCOUNTS = """\
- {id: 1, currency: EUR, balance_cents: 125000}
- {id: 2, currency: EUR, balance_cents: 990}
- {id: 3, currency: GBP, balance_cents: 40210}
"""


def _thor(rig: Rig) -> list[ToolCase]:
    rig.write("bin/ledgerctl", _LEDGERCTL)
    rig.write("config/accounts.yml", _ACCOUNTS)
    rig.write("deploy/bank_feeds.yml", _BANK_FEEDS)
    ctl = ["ruby", "bin/ledgerctl"]
    return [
        ("thor_missing_argument", "validation", "called with no arguments",
         [*ctl, "reconcile", "--since", "2026-11-01"]),
        ("thor_unknown_switch", "validation", "Unknown switches",
         [*ctl, "reconcile", "DE89370400440532013000", "--since", "2026-11-01", "--dry"]),
        ("thor_non_numeric", "validation", "Expected numeric value",
         [*ctl, "reconcile", "DE89370400440532013000", "--since", "2026-11-01", "--batch-size", "fifty"]),
        ("thor_missing_config", "filesystem", "ENOENT|No such file", [*ctl, "sync-feeds"]),
        ("thor_malformed_config", "validation", "SyntaxError|found character",
         [*ctl, "sync-feeds", "--config", "deploy/bank_feeds.yml"]),
        ("thor_no_method", "programming", "NoMethodError|undefined method", [*ctl, "summary"]),
    ]


# --------------------------------------------------------------------------- RSpec

_FX = """\
module Ledger
  class FxConverter
    def initialize(rates)
      @rates = rates
    end

    # cents in `currency` -> cents in EUR
    def to_eur(cents, currency)
      return cents if currency == "EUR"
      (cents / @rates[currency]).round
    end
  end
end
"""

_FX_SPEC = """\
require_relative "../../lib/ledger/fx_converter"

RSpec.describe Ledger::FxConverter do
  subject(:fx) { described_class.new("GBP" => 0.8573, "USD" => 1.0581) }

  it "converts GBP to EUR cents" do
    expect(fx.to_eur(40_210, "GBP")).to eq(46_903)
  end

  it "converts Swiss francs" do
    expect(fx.to_eur(10_000, "CHF")).to eq(10_672)
  end
end
"""

_FEES = """\
module Ledger
  module Fees
    module_function

    def wire_fee(amount_cents)
      [150, (amount_cents * 0.001).round].max
    end

    def total_with_fee(amount_cents, currency)
      amount_cents + wire_fee(amount_cents, currency)
    end

    def describe(amount_cents)
      "fee: " + wire_fee(amount_cents) + " cents"
    end

    def rounded_total(amounts)
      (amounts.sum * 1.19).floor
    end
  end
end
"""

_FEES_SPEC = """\
require_relative "../../lib/ledger/fees"

RSpec.describe Ledger::Fees do
  it "adds the wire fee" do
    expect(described_class.total_with_fee(200_000, "EUR")).to eq(200_200)
  end
end
"""

_FEES_DESCRIBE_SPEC = """\
require_relative "../../lib/ledger/fees"

RSpec.describe Ledger::Fees do
  it "describes the fee for the statement line" do
    expect(described_class.describe(200_000)).to eq("fee: 200 cents")
  end
end
"""

_VAT_SPEC = """\
require_relative "../../lib/ledger/fees"

RSpec.describe Ledger::Fees do
  it "adds 19% VAT to a batch of invoice lines" do
    expect(described_class.rounded_total([1000, 2500, 333])).to eq(4566)
  end
end
"""

_STATEMENT = """\
module Ledger
  class Statement
    def initialize(lines)
      @lines = lines
    end

    def closing_balance
      @lines.sum { |line| Money.new(line[:cents], line[:currency]) }
    end
  end
end
"""

_STATEMENT_SPEC = """\
require_relative "../../lib/ledger/statement"

RSpec.describe Ledger::Statement do
  it "sums the closing balance" do
    statement = described_class.new([{ cents: 1200, currency: "EUR" }, { cents: -200, currency: "EUR" }])
    expect(statement.closing_balance.cents).to eq(1000)
  end
end
"""

_IBAN = """\
module Ledger
  module Iban
    module_function

    def valid?(iban)
      digits = (iban[4..] + iban[0, 4]).chars.map { |c| c =~ /[A-Z]/ ? (c.ord - 55).to_s : c }.join
      digits.to_i % 97 == 1
    end
  end
"""

_IBAN_SPEC = """\
require_relative "../../lib/ledger/iban"

RSpec.describe Ledger::Iban do
  it "accepts a valid German IBAN" do
    expect(described_class.valid?("DE89370400440532013000")).to be(true)
  end
end
"""


def _rspec(rig: Rig) -> list[ToolCase]:
    for rel, text in (("lib/ledger/fx_converter.rb", _FX), ("spec/ledger/fx_converter_spec.rb", _FX_SPEC),
                      ("lib/ledger/fees.rb", _FEES), ("spec/ledger/fees_spec.rb", _FEES_SPEC),
                      ("spec/ledger/fee_description_spec.rb", _FEES_DESCRIBE_SPEC),
                      ("spec/ledger/vat_spec.rb", _VAT_SPEC),
                      ("lib/ledger/statement.rb", _STATEMENT), ("spec/ledger/statement_spec.rb", _STATEMENT_SPEC),
                      ("lib/ledger/iban.rb", _IBAN), ("spec/ledger/iban_spec.rb", _IBAN_SPEC)):
        rig.write(rel, text)
    spec = ["rspec", "--no-color"]
    return [
        ("rspec_nil_rate", "programming", "TypeError|NoMethodError",
         [*spec, "spec/ledger/fx_converter_spec.rb"]),
        ("rspec_wrong_arity", "programming", "wrong number of arguments", [*spec, "spec/ledger/fees_spec.rb"]),
        ("rspec_string_plus_integer", "programming", "TypeError|no implicit conversion",
         [*spec, "spec/ledger/fee_description_spec.rb"]),
        ("rspec_expectation_failed", "programming", "expected:", [*spec, "spec/ledger/vat_spec.rb"]),
        ("rspec_uninitialized_constant", "programming", "uninitialized constant",
         [*spec, "spec/ledger/statement_spec.rb"]),
        ("rspec_syntax_error", "programming", "syntax error|SyntaxError", [*spec, "spec/ledger/iban_spec.rb"]),
    ]


# --------------------------------------------------------------------------- Rake

_RAKEFILE = """\
require "csv"
require "fileutils"

namespace :db do
  desc "Run pending ledger migrations"
  task :migrate do
    puts "migrating"
  end
end

namespace :assets do
  desc "Bundle the dashboard assets"
  task bundle: ["app/assets/config/manifest.js"] do
    puts "bundled"
  end
end

namespace :export do
  desc "Export the October ledger for the auditors"
  task :ledger do
    path = File.join("@FULL@", "ledger-2026-10-full.csv")
    CSV.open(path, "w") do |csv|
      csv << %w[booking_date account iban amount_cents currency reference]
      20_000.times do |n|
        csv << ["2026-10-#{format('%02d', n % 31 + 1)}", n % 40 + 1, "DE89370400440532013000", n * 17, "EUR",
                "SEPA-CT-#{n.to_s.rjust(8, '0')}"]
      end
    end
  end
end

namespace :release do
  desc "Publish the built release"
  task :publish do
    FileUtils.mkdir_p(File.join("@RO@", "current", "20261129T2200"))
  end
end

namespace :reports do
  desc "Monthly balance report for the last N months"
  task :monthly, [:months] do |_t, args|
    months = Integer(args.fetch(:months, "3"))
    puts "report for #{months} months"
  end

  desc "Totals per currency"
  task :totals do
    entries = [{ currency: "EUR", cents: 1200 }, { currency: "GBP", cents: 900 }]
    totals = entries.group_by { |e| e[:currency] }
    totals.each { |currency, list| puts "#{currency} #{list.cents.sum}" }
  end
end
"""


def _rake(rig: Rig) -> list[ToolCase]:
    rig.write("Rakefile", _RAKEFILE)
    return [
        ("rake_missing_prerequisite_file", "filesystem", "Don't know how to build task", ["rake", "assets:bundle"]),
        ("rake_full_disk", "resource", "ENOSPC|No space left", ["rake", "export:ledger"]),
        ("rake_read_only", "filesystem", "EROFS|Read-only file system", ["rake", "release:publish"]),
        ("rake_bad_task_argument", "validation", "invalid value for Integer", ["rake", "reports:monthly[six]"]),
        ("rake_no_method", "programming", "NoMethodError|undefined method", ["rake", "reports:totals"]),
    ]


# --------------------------------------------------------------------------- Puma

_CONFIG_RU = """\
require "json"

class LedgerApi
  ACCOUNTS = { "1" => { balance_cents: 125_000 } }.freeze

  def call(env)
    return [200, { "content-type" => "text/plain" }, ["ok"]] if env["PATH_INFO"] == "/health"

    id = env["PATH_INFO"][%r{/accounts/(\\d+)}, 1]
    account = ACCOUNTS[id]
    [200, { "content-type" => "application/json" }, [JSON.dump(balance: account.fetch(:balance_cents))]]
  end
end

run LedgerApi.new
"""

_BROKEN_RU = """\
require "json"

use Rack::ContentLength
run LedgerApi::Application.new
"""


def _puma(rig: Rig) -> list[ToolCase]:
    rig.write("config.ru", _CONFIG_RU)
    rig.write("admin/config.ru", _BROKEN_RU)
    app_error = rig.fill("""set -u
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
puma -b tcp://127.0.0.1:$port config.ru > log/puma.log 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:$port/health && break; sleep 0.1; done
curl -s -o /dev/null http://127.0.0.1:$port/accounts/7
kill -TERM $pid; wait $pid
grep -v '^\\*' log/puma.log >&2
exit 1""")
    (rig.root / "log").mkdir(exist_ok=True)
    return [
        ("puma_port_in_use", "resource", "EADDRINUSE|Address already in use",
         rig.fill("timeout 20 puma -b tcp://127.0.0.1:@BUSY@ config.ru")),
        ("puma_bad_threads", "validation", "invalid value for Integer", "timeout 20 puma -t 5:sixteen config.ru"),
        ("puma_broken_rackup", "programming", "uninitialized constant|NameError",
         "timeout 20 puma -b tcp://127.0.0.1:0 admin/config.ru"),
        ("puma_app_error", "programming", "NoMethodError|undefined method", app_error),
        ("puma_fd_limit", "resource", "EMFILE|Too many open files",
         "ulimit -n 8; timeout 20 puma -b tcp://127.0.0.1:0 config.ru"),
    ]


# --------------------------------------------------------------------------- Sidekiq

_ENQUEUE = """\
require "sidekiq"
require "securerandom"

Sidekiq.configure_client do |config|
  config.redis = { url: ENV.fetch("REDIS_URL"), network_timeout: 2 }
end
Sidekiq.strict_args! if ENV["STRICT_ARGS"]

class SettlementExportJob
  include Sidekiq::Job
  sidekiq_options queue: "exports", retry: 5
end

case ARGV.fetch(0, "one")
when "backfill"
  (1..5000).each do |n|
    SettlementExportJob.perform_async("STL-2026-11-#{n}", SecureRandom.hex(2048))
  end
when "scheduled"
  SettlementExportJob.perform_async("STL-2026-11-29-0007", Time.now, format: :camt053)
else
  SettlementExportJob.perform_async("STL-2026-11-29-0007")
end
"""

_WORKERS = """\
require "sidekiq"

class SettlementExportJob
  include Sidekiq::Job

  def perform(id)
    puts id
  end
end
"""

_SIDEKIQ_YML = """\
:concurrency: 5
:queues:
  - [exports, 2]
  - default
:timeout: 25
production:
  :concurrency: 20
  :queues: [exports, default
"""


def _sidekiq(rig: Rig) -> list[ToolCase]:
    rig.write("bin/enqueue_exports.rb", _ENQUEUE)
    rig.write("app/workers.rb", _WORKERS)
    rig.write("config/sidekiq.yml", _SIDEKIQ_YML)
    enqueue = "ruby bin/enqueue_exports.rb"
    return [
        ("sidekiq_refused", "network", "CannotConnect|ECONNREFUSED|refused",
         rig.fill(f"REDIS_URL=redis://127.0.0.1:@CLOSED@/3 {enqueue}")),
        ("sidekiq_wrong_password", "auth", "WRONGPASS|invalid password|NOAUTH",
         rig.fill(f"REDIS_URL=redis://:q-worker-secret-2025@127.0.0.1:@REDIS_AUTH@/3 {enqueue}")),
        ("sidekiq_maxmemory", "resource", "OOM|maxmemory",
         rig.fill(f"REDIS_URL=redis://127.0.0.1:@REDIS_FULL@/3 {enqueue} backfill")),
        ("sidekiq_strict_args", "programming", "native JSON|JSON-native|ArgumentError",
         rig.fill(f"STRICT_ARGS=1 REDIS_URL=redis://127.0.0.1:@REDIS_FULL@/4 {enqueue} scheduled")),
        ("sidekiq_malformed_config", "validation", "SyntaxError|did not find expected",
         "timeout 20 sidekiq -C config/sidekiq.yml -r ./app/workers.rb"),
    ]


def blind121_records(env: Env) -> list[Record]:
    rig = prepare(env)
    out: list[Record] = []
    for source, make in (("httparty121", _httparty), ("rest-client121", _rest_client), ("net-ssh121", _net_ssh),
                         ("bunny121", _bunny), ("dalli121", _dalli), ("ruby-mysql2121", _mysql2),
                         ("thor121", _thor), ("rspec121", _rspec), ("rake121", _rake), ("puma121", _puma),
                         ("sidekiq121", _sidekiq)):
        out += tool_records(make(rig), source, rig.root, timeout=90)
    return out


if __name__ == "__main__":
    from common import write_batch

    write_batch(blind121_records)


__all__ = ["BLIND121_SOURCES", "blind121_records"]
