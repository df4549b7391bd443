"""Servers of batch 92 (Ruby libraries from Debian packages): a Sinatra application served by WEBrick that
fails in its own handlers, two aiosmtpd servers (one answering DATA with 421, one refusing every login) and
the tables of a private PostgreSQL. Each is started on a free 127.0.0.1 port and stopped with the batch; the
Ruby cases themselves run through batch 33's harness (`blind33_support.ruby_records`)."""

from __future__ import annotations

import logging
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

from common import Env, free_port, run
from servers import _wait_port, private_postgres

SINATRA_APP = r"""require "sinatra/base"
require "json"

class OrdersApi < Sinatra::Base
  set :environment, :production
  set :logging, false
  set :dump_errors, false
  set :show_exceptions, false
  set :raise_errors, false

  ADMIN_TOKEN = "s3cr3t-admin-token"

  post "/api/v1/orders" do
    order = JSON.parse(request.body.read)
    email = order["customer"]["email"].downcase
    content_type :json
    { id: 1024, customer: email }.to_json
  end

  post "/api/v1/imports" do
    begin
      rows = JSON.parse(request.body.read)
    rescue JSON::ParserError => e
      halt 400, { "Content-Type" => "application/json" }, { error: "invalid JSON", detail: e.message }.to_json
    end
    content_type :json
    { imported: rows.size }.to_json
  end

  get "/api/v1/admin/reports" do
    unless request.env["HTTP_AUTHORIZATION"] == "Bearer #{ADMIN_TOKEN}"
      halt 403, { "Content-Type" => "application/json" }, { error: "forbidden" }.to_json
    end
    content_type :json
    { reports: [] }.to_json
  end
end

OrdersApi.run!(bind: "127.0.0.1", port: Integer(ARGV.fetch(0)), server: "webrick", quiet: true,
               server_settings: { Logger: WEBrick::Log.new(File::NULL), AccessLog: [] })
"""


def sinatra_app(env: Env) -> int:
    """Serve the Sinatra application on a free port (RACK_ENV=production); stopped with `env`."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-sinatra92-", dir=env.tmp))
    (root / "orders_api.rb").write_text(SINATRA_APP)
    port = free_port()
    proc = subprocess.Popen(["ruby", "-rwebrick", "orders_api.rb", str(port)], cwd=root, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "RACK_ENV": "production",
                                                             "HOME": str(root)})
    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=10)

    env._closers.append(stop)
    _wait_port(port)
    return port


def smtp_servers(env: Env) -> tuple[int, int]:
    """Two aiosmtpd servers: the first answers DATA with 421 (busy), the second refuses every AUTH."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Busy:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "421 4.3.2 Service not available, closing transmission channel"

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 OK"

    def refuse(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # aiosmtpd's note on AUTH without TLS
    busy_port, auth_port = free_port(), free_port()
    busy = Controller(Busy(), hostname="127.0.0.1", port=busy_port)
    auth = Controller(Accept(), hostname="127.0.0.1", port=auth_port, authenticator=refuse, auth_required=True,
                      auth_require_tls=False)
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS", category=UserWarning)
    for controller in (busy, auth):
        controller.start()
        env._closers.append(controller.stop)
    return busy_port, auth_port


def postgres_places(env: Env) -> dict[str, str]:
    """A private cluster (three slots for `app`) with the tables the cases use, and a standby that refuses
    connections; returns their placeholders."""
    pg = private_postgres(env, max_connections=4, reserved=1)
    sql = ("CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);"
           "CREATE TABLE orders (id serial PRIMARY KEY, customer_id int, status text, total_cents int);"
           "CREATE TABLE payroll (employee_id int, amount_cents int, period text);"
           "GRANT SELECT, INSERT, UPDATE ON customers, orders TO app;"
           "GRANT USAGE ON SEQUENCE customers_id_seq, orders_id_seq TO app;"
           "INSERT INTO customers (email, name) VALUES ('ann@example.org', 'Ann');")
    setup = run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "postgres", "-v",
                 "ON_ERROR_STOP=1", "-c", sql])
    if setup.returncode:
        raise RuntimeError("batch 92 table setup failed")
    standby = private_postgres(env, standby=True)
    return {"__PGPORT__": str(pg.port), "__STANDBY__": str(standby.port)}


__all__ = ["postgres_places", "sinatra_app", "smtp_servers"]
