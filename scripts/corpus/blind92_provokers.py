"""Ninety-second batch of blind provokers: Ruby libraries as Debian packages them (Sequel, ActiveRecord 6.1,
Faraday 1.1, Rack 2.2 and Sinatra 2.2, Nokogiri, JSON, Psych, Net::SMTP), each small program dying for real
and recorded through batch 33's harness (Ruby's uncaught-exception print with its backtrace, and the
`Class: message` line a rescue would log). Sequel and ActiveRecord against a private PostgreSQL (closed port,
wrong password, a standby refusing connections, every slot taken, a pool of one held by another thread, a
unique email, a missing table, a table without grants) and SQLite (a lock held by another connection, a full
tmpfs, a database path in a missing directory); Faraday against the status server, a closed port, a resetting
port and a certificate for another name; a Sinatra app on WEBrick whose handlers fail, seen by a client, and
in-process through Rack::MockRequest; Nokogiri in strict mode; Net::SMTP against aiosmtpd (busy, refused
login) and a port that never greets; file errors (ENOENT, EACCES as `nobody`, EROFS, EISDIR). Only 127.0.0.1."""

from __future__ import annotations

from blind33_support import RubyCase, ruby_records, shared_dir
from blind92_support import postgres_places, sinatra_app, smtp_servers
from common import Env, Record, write_batch
from servers import mount_tmpfs, tls_server

BLIND92_SOURCES = frozenset({"faraday92", "sequel92", "activerecord92", "sinatra92", "rack92", "nokogiri92",
                             "psych92", "ruby-json92", "ruby92", "net-smtp92"})

_PG_APP = 'Sequel.connect("postgres://app:right-password@127.0.0.1:__PGPORT__/postgres", connect_timeout: 5)'
_AR_APP = """ActiveRecord::Base.establish_connection(adapter: "postgresql", host: "127.0.0.1", port: __PGPORT__,
                                        username: "app", password: "right-password", database: "postgres")"""

NETWORK = [
    RubyCase("faraday_refused", "network", "faraday92", "Faraday::ConnectionFailed", """require "faraday"

class InventoryClient
  def initialize(base_url)
    @conn = Faraday.new(url: base_url) do |f|
      f.options.open_timeout = 3
      f.options.timeout = 5
      f.response :raise_error
      f.adapter Faraday.default_adapter
    end
  end

  def stock_level(sku)
    @conn.get("/api/v2/stock/#{sku}").body
  end
end

puts InventoryClient.new("http://127.0.0.1:__CLOSED__").stock_level("SKU-88412")
""", token="refused"),
    RubyCase("faraday_reset", "network", "faraday92", "Faraday::ConnectionFailed", """require "faraday"
require "json"

conn = Faraday.new(url: "http://127.0.0.1:__RESET__", headers: { "Content-Type" => "application/json" }) do |f|
  f.options.timeout = 5
  f.adapter :net_http
end

resp = conn.post("/v1/events", { type: "deploy.finished", service: "checkout", sha: "9f3c2e1" }.to_json)
puts resp.status
""", token="reset"),
    RubyCase("faraday_tls_hostname", "network", "faraday92", "Faraday::SSLError", """require "faraday"

conn = Faraday.new(url: "https://127.0.0.1:__TLSNAME__", ssl: { verify: true, ca_file: "__TLSCA__" }) do |f|
  f.options.open_timeout = 3
  f.adapter Faraday.default_adapter
end

puts conn.get("/healthz").status
""", token="hostname|match"),
    RubyCase("sequel_pg_refused", "network", "sequel92", "Sequel::DatabaseConnectionError", """require "sequel"

DB = Sequel.connect(adapter: "postgres", host: "127.0.0.1", port: __CLOSED__, user: "app",
                    password: "right-password", database: "orders", connect_timeout: 3)

def open_orders
  DB[:orders].where(status: "open").order(:id).limit(50).all
end

open_orders.each { |row| puts row[:id] }
""", token="refused"),
    RubyCase("smtp_greeting_timeout", "network", "net-smtp92", "Net::ReadTimeout", """require "net/smtp"

smtp = Net::SMTP.new("127.0.0.1", __HANG__)
smtp.open_timeout = 3
smtp.read_timeout = 2
smtp.start("ci.example.org") do |s|
  s.send_message("Subject: nightly build\\r\\n\\r\\nbuild 4411 passed\\r\\n", "ci@example.org", ["dev@example.org"])
end
"""),
]

SERVICE = [
    RubyCase("faraday_503", "service", "faraday92", "Faraday::ServerError", """require "faraday"

conn = Faraday.new(url: "__HTTP__") do |f|
  f.response :raise_error
  f.adapter Faraday.default_adapter
end

def publish_release(conn, version)
  conn.post("/status/503", "version=#{version}&channel=stable")
end

publish_release(conn, "4.12.0")
""", token="503"),
    RubyCase("sinatra_500", "service", "sinatra92", "Faraday::ServerError", """require "faraday"
require "json"

api = Faraday.new(url: "http://127.0.0.1:__APP__", headers: { "Content-Type" => "application/json" }) do |f|
  f.response :raise_error
  f.adapter Faraday.default_adapter
end

order = { sku: "SKU-1182", quantity: 2, shipping: { country: "DE" } }
resp = api.post("/api/v1/orders", order.to_json)
puts JSON.parse(resp.body)["id"]
""", token="500"),
    RubyCase("sequel_standby", "service", "sequel92", "Sequel::DatabaseConnectionError", """require "sequel"

DB = Sequel.connect("postgres://postgres@127.0.0.1:__STANDBY__/postgres", connect_timeout: 5)
DB.test_connection
puts DB[:pg_stat_activity].count
""", token="not accepting|starting up|standby|recovery"),
    RubyCase("smtp_421", "service", "net-smtp92", "Net::SMTPServerBusy", """require "net/smtp"

message = <<~MAIL
  From: billing@example.org
  To: finance@example.org
  Subject: Invoice run 2026-11 finished

  412 invoices generated.
MAIL

Net::SMTP.start("127.0.0.1", __SMTPBUSY__, "billing.example.org") do |smtp|
  smtp.send_message(message, "billing@example.org", "finance@example.org")
end
""", token="421"),
]

RESOURCE = [
    RubyCase("sequel_pool_timeout", "resource", "sequel92", "Sequel::PoolTimeout", """require "sequel"

DB = Sequel.connect("postgres://app:right-password@127.0.0.1:__PGPORT__/postgres", max_connections: 1,
                    pool_timeout: 1)

worker = Thread.new do
  DB.transaction { DB[:orders].where(status: "open").update(status: "processing"); sleep 4 }
end
sleep 0.5
puts DB[:orders].count
worker.join
"""),
    RubyCase("sequel_sqlite_locked", "resource", "sequel92", "Sequel::DatabaseError", """require "sequel"

path = File.join(Dir.pwd, "jobs.sqlite3")
migrator = Sequel.connect("sqlite://#{path}", single_threaded: true)
migrator.create_table?(:jobs) { primary_key :id; String :queue; String :payload }
migrator.run("BEGIN EXCLUSIVE")
migrator[:jobs].insert(queue: "mailers", payload: "{}")

DB = Sequel.connect("sqlite://#{path}", timeout: 200)
DB[:jobs].insert(queue: "default", payload: '{"job":"ReindexProducts"}')
""", token="locked"),
    RubyCase("sequel_sqlite_full", "resource", "sequel92", "Sequel::DatabaseError", """require "sequel"

DB = Sequel.sqlite("__DISK__/events.sqlite3")
DB.create_table?(:events) { primary_key :id; String :kind; String :payload, text: true }
10_000.times do |i|
  DB[:events].insert(kind: "page_view", payload: "x" * 4000 + i.to_s)
end
""", token="full"),
    RubyCase("ar_too_many_clients", "resource", "activerecord92",
             "ActiveRecord::ConnectionNotEstablished|PG::ConnectionBad", """require "pg"
require "active_record"

held = 3.times.map do
  PG.connect(host: "127.0.0.1", port: __PGPORT__, user: "app", password: "right-password", dbname: "postgres")
end

""" + _AR_APP + """

class Order < ActiveRecord::Base
end

puts Order.where(status: "open").count
held.each(&:close)
""", token="too many|slots|reserved"),
    RubyCase("faraday_429", "resource", "faraday92", "Faraday::ClientError", """require "faraday"

search = Faraday.new(url: "__HTTP__") do |f|
  f.request :url_encoded
  f.response :raise_error
  f.adapter Faraday.default_adapter
end

%w[laptop phone tablet].each do |term|
  puts search.get("/status/429", q: term, page: 1).body
end
""", token="429"),
]

FILESYSTEM = [
    RubyCase("psych_missing_config", "filesystem", "psych92", "Errno::ENOENT", """require "yaml"

env = ENV.fetch("RACK_ENV", "production")
config = YAML.load_file(File.join("config", "database.yml"), aliases: true).fetch(env)
puts config["adapter"]
"""),
    RubyCase("export_eacces", "filesystem", "ruby92", "Errno::EACCES", """require "csv"

rows = [%w[id email total], [1, "ann@example.org", "12.50"], [2, "bob@example.org", "7.00"]]
CSV.open("__SHARED__/locked/orders-2026-11.csv", "w") do |csv|
  rows.each { |row| csv << row }
end
""", as_nobody=True),
    RubyCase("cache_erofs", "filesystem", "ruby92", "Errno::EROFS", """require "fileutils"

cache_dir = File.join("__RODIR__", "tmp", "cache", "assets")
FileUtils.mkdir_p(cache_dir)
File.write(File.join(cache_dir, "manifest.json"), "{}")
"""),
    RubyCase("sequel_sqlite_cantopen", "filesystem", "sequel92", "Sequel::DatabaseConnectionError", """require "sequel"

DB = Sequel.sqlite(File.join(Dir.pwd, "var", "db", "production.sqlite3"))
puts DB.tables.inspect
""", token="unable to open"),
    RubyCase("nokogiri_eisdir", "filesystem", "nokogiri92", "Errno::EISDIR", """require "nokogiri"

def load_feed(path)
  Nokogiri::XML(File.read(path)) { |config| config.strict.nonet }
end

load_feed("feeds").xpath("//item/title").each { |t| puts t.text }
""", files={"feeds/.keep": ""}),
]

VALIDATION = [
    RubyCase("sequel_unique", "validation", "sequel92", "Sequel::UniqueConstraintViolation", """require "sequel"

DB = """ + _PG_APP + """

def register(email, name)
  DB[:customers].insert(email: email, name: name)
end

register("ann@example.org", "Ann Other")
"""),
    RubyCase("ar_record_invalid", "validation", "activerecord92", "ActiveRecord::RecordInvalid",
             """require "active_record"

ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: ":memory:")
ActiveRecord::Base.connection.create_table(:subscribers) do |t|
  t.string :email
  t.string :plan
end

class Subscriber < ActiveRecord::Base
  validates :email, presence: true, format: { with: /\\A[^@\\s]+@[^@\\s]+\\z/ }
  validates :plan, inclusion: { in: %w[free pro team] }
end

Subscriber.create!(email: "carol at example.org", plan: "enterprise")
"""),
    RubyCase("nokogiri_strict_xml", "validation", "nokogiri92", "Nokogiri::XML::SyntaxError", """require "nokogiri"

xml = File.read("invoice.xml")
doc = Nokogiri::XML(xml) { |config| config.strict.nonet }
puts doc.at_xpath("//total").text
""", files={"invoice.xml": """<?xml version="1.0" encoding="UTF-8"?>
<invoice id="INV-2026-0412">
  <customer>ACME GmbH</customer>
  <line sku="SKU-1" qty="2"><price>12.50</price></line>
  <line sku="SKU-2" qty="1"><price>7.00</line>
  <total>32.00</total>
</invoice>
"""}),
    RubyCase("json_webhook", "validation", "ruby-json92", "JSON::ParserError", """require "json"

event = JSON.parse(File.read("webhook.json"), symbolize_names: true)
puts event[:type]
""", files={"webhook.json": """{
  "id": "evt_1NQx",
  "type": "invoice.paid",
  "data": {"amount": 3200, "currency": "eur",},
}
"""}),
    RubyCase("sinatra_400", "validation", "sinatra92", "Faraday::BadRequestError", """require "faraday"

api = Faraday.new(url: "http://127.0.0.1:__APP__", headers: { "Content-Type" => "application/json" }) do |f|
  f.response :raise_error
  f.adapter Faraday.default_adapter
end

batch = File.read("customers.json")
puts api.post("/api/v1/imports", batch).body
""", token="400", files={"customers.json": '[{"email": "ann@example.org"}, {"email": "bob@example.org"\n'}),
    RubyCase("rack_param_type", "validation", "rack92", "Rack::QueryParser::ParameterTypeError", """require "rack"

env = Rack::MockRequest.env_for("/search?filter[status]=open&filter[]=archived&page=2")
request = Rack::Request.new(env)
puts request.params.fetch("filter")
"""),
]

AUTH = [
    RubyCase("sequel_wrong_password", "auth", "sequel92", "Sequel::DatabaseConnectionError", """require "sequel"

DB = Sequel.connect(adapter: "postgres", host: "127.0.0.1", port: __PGPORT__, user: "app",
                    password: ENV.fetch("DATABASE_PASSWORD"), database: "postgres")
DB.test_connection
""", token="password authentication failed", env={"DATABASE_PASSWORD": "wrong-password"}),
    RubyCase("sinatra_403", "auth", "sinatra92", "Faraday::ForbiddenError", """require "faraday"

api = Faraday.new(url: "http://127.0.0.1:__APP__") do |f|
  f.request :authorization, "Bearer", ENV.fetch("ADMIN_TOKEN")
  f.response :raise_error
  f.adapter Faraday.default_adapter
end

puts api.get("/api/v1/admin/reports").body
""", token="403", env={"ADMIN_TOKEN": "expired-token-2025"}),
    RubyCase("smtp_535", "auth", "net-smtp92", "Net::SMTPAuthenticationError", """require "net/smtp"

message = "From: alerts@example.org\\r\\nTo: oncall@example.org\\r\\nSubject: disk 91%\\r\\n\\r\\n" \\
          "volume /data at 91%\\r\\n"
Net::SMTP.start("127.0.0.1", __SMTPAUTH__, "monitor.example.org", "alerts@example.org",
                ENV.fetch("SMTP_PASSWORD"), :plain) do |smtp|
  smtp.send_message(message, "alerts@example.org", "oncall@example.org")
end
""", token="535", env={"SMTP_PASSWORD": "not-the-password"}),
    RubyCase("ar_privilege", "auth", "activerecord92", "ActiveRecord::StatementInvalid", """require "active_record"

""" + _AR_APP + """

class Payroll < ActiveRecord::Base
  self.table_name = "payroll"
end

puts Payroll.where(period: "2026-11").sum(:amount_cents)
""", token="permission denied"),
]

PROGRAMMING = [
    RubyCase("sequel_missing_table", "programming", "sequel92", "Sequel::DatabaseError", """require "sequel"

DB = """ + _PG_APP + """

class InvoiceReport
  def initialize(db)
    @lines = db[:invoice_lines]
  end

  def total_for(order_id)
    @lines.where(order_id: order_id).sum(:amount_cents)
  end
end

puts InvoiceReport.new(DB).total_for(1024)
""", token="does not exist"),
    RubyCase("sequel_frozen_dataset", "programming", "sequel92", "FrozenError", """require "sequel"

DB = Sequel.sqlite
DB.create_table(:orders) { primary_key :id; String :status; Integer :total_cents }

open_orders = DB[:orders].where(status: "open")
open_orders.opts[:order] = [Sequel.desc(:total_cents)]
puts open_orders.all.size
"""),
    RubyCase("sinatra_handler_nomethod", "programming", "sinatra92", "NoMethodError", """require "sinatra/base"
require "json"
require "rack/mock"

class Webhooks < Sinatra::Base
  set :environment, :test
  set :raise_errors, true
  set :show_exceptions, false

  post "/webhooks/payments" do
    event = JSON.parse(request.body.read)
    invoice_id = event["data"]["object"]["invoice"]
    "queued #{invoice_id}"
  end
end

response = Rack::MockRequest.new(Webhooks).post("/webhooks/payments", input: '{"type": "invoice.paid", "object": {}}')
puts response.status
""", token="undefined method"),
    RubyCase("sinatra_helper_arity", "programming", "sinatra92", "ArgumentError", """require "sinatra/base"
require "json"
require "rack/mock"

class Catalog < Sinatra::Base
  set :environment, :test
  set :raise_errors, true
  set :show_exceptions, false

  helpers do
    def paginate(items, page, per_page)
      items.each_slice(per_page).to_a.fetch(page - 1, [])
    end
  end

  get "/products" do
    products = (1..95).map { |i| { id: i, name: "product-#{i}" } }
    content_type :json
    paginate(products, Integer(params.fetch("page", "1"))).to_json
  end
end

puts Rack::MockRequest.new(Catalog).get("/products?page=2").body
""", token="wrong number"),
    RubyCase("faraday_unregistered", "programming", "faraday92", "Faraday::Error", """require "faraday"

conn = Faraday.new(url: "__HTTP__") do |f|
  f.request :url_encoded
  f.response :raise_errors
  f.adapter Faraday.default_adapter
end

puts conn.get("/ok").status
""", token="not registered"),
    RubyCase("sequel_values_keyerror", "programming", "sequel92", "KeyError", """require "sequel"

DB = Sequel.sqlite
DB.create_table(:customers) { primary_key :id; String :email; String :name }
DB[:customers].insert(email: "ann@example.org", name: "Ann")

class Customer < Sequel::Model(DB[:customers])
  def mailto
    "mailto:#{values.fetch(:emial)}"
  end
end

puts Customer.first.mailto
"""),
]


def blind92_records(env: Env) -> list[Record]:
    shared = shared_dir(env)
    (shared / "locked").mkdir(mode=0o755)
    other_name = tls_server(env, "billing.internal")
    smtp_busy, smtp_auth = smtp_servers(env)
    places = {
        "__HTTP__": env.http, "__CLOSED__": str(env.closed_port), "__RESET__": str(env.reset_port),
        "__HANG__": str(env.hang_port), "__TLSNAME__": str(other_name.port), "__TLSCA__": str(other_name.cafile),
        "__APP__": str(sinatra_app(env)), "__SMTPBUSY__": str(smtp_busy), "__SMTPAUTH__": str(smtp_auth),
        "__DISK__": str(mount_tmpfs(env, "disk92", "size=96k")),
        "__RODIR__": str(mount_tmpfs(env, "ro92", "size=64k,ro")), "__SHARED__": str(shared),
        **postgres_places(env),
    }

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    cases = NETWORK + SERVICE + RESOURCE + FILESYSTEM + VALIDATION + AUTH + PROGRAMMING
    return ruby_records(env, cases, fill, shared, extra_env={"RACK_ENV": "production"})


if __name__ == "__main__":
    write_batch(blind92_records)


__all__ = ["BLIND92_SOURCES", "blind92_records"]
