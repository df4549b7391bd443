"""Fixtures of the hundred-and-eighth batch: small but realistic applications written to a temp dir (an ASGI
ledger service for daphne and granian, a CherryPy storefront, a Connexion orders API with its OpenAPI specs,
flask-restx and flask-smorest apps), broken spec files, and a driver that starts a real server on a free port,
sends one request and prints what the server logged for it (or the response body the client got), so that the
record is the text the server or the framework really printed.

Run as ``python blind108_support.py '<json spec>'``: the driver; it always exits 1 after printing."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent
SELF = str(Path(__file__).resolve())

LEDGER_ASGI = '''\
"""Ledger service: FX rates from the treasury upstream, month-end reports and exports."""
import json
import os

import httpx

FX_UPSTREAM = os.environ.get("FX_UPSTREAM", "http://fx-gateway.treasury.svc:8080")
EXPORT_DIR = os.environ.get("LEDGER_EXPORT_DIR", "/var/lib/ledger/exports")


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _reply(send, status, body):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def _summarise(entries, period):
    totals = entries.get(period)
    return {account: sum(lines) for account, lines in totals.items()}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    path = scope["path"]
    if path == "/api/v1/rates":
        async with httpx.AsyncClient(timeout=3) as client:
            resp = await client.get(FX_UPSTREAM + "/v2/latest", params={"base": "EUR", "symbols": "USD,GBP,CHF"})
            resp.raise_for_status()
            return await _reply(send, 200, resp.json())
    if path == "/api/v1/reports/month-end":
        return await _reply(send, 200, _summarise({"2026-10": {"4000": [120, 80]}}, "2026-11"))
    if path == "/api/v1/exports/latest":
        with open(os.path.join(EXPORT_DIR, "gl-2026-11.csv"), "rb") as fh:
            return await _reply(send, 200, {"size": len(fh.read())})
    return await _reply(send, 200, {"status": "ok"})
'''

STOREFRONT_CP = '''\
"""Storefront back office on CherryPy: stock lookups against the warehouse API, baskets, an admin area."""
import os
import sys

import cherrypy
import requests
from cherrypy.lib import auth_basic

WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", "http://warehouse.internal:8081")
ADMINS = {"ops": "Vw8-rotated-2026"}


class Storefront:
    @cherrypy.expose
    def index(self):
        return "storefront ok"

    @cherrypy.expose
    @cherrypy.tools.json_out()
    def stock(self, sku=None):
        resp = requests.get(WAREHOUSE_URL + "/api/stock", params={"sku": sku}, timeout=3)
        resp.raise_for_status()
        return resp.json()

    @cherrypy.expose
    def basket(self, basket_id=None):
        basket = cherrypy.session.get("basket")
        return str(basket.total())


class Admin:
    @cherrypy.expose
    def index(self):
        return "admin"


cherrypy.config.update({"server.socket_host": "127.0.0.1", "server.socket_port": int(sys.argv[1]),
                        "engine.autoreload.on": False, "log.screen": True})
cherrypy.tree.mount(Storefront(), "/", {"/": {"request.show_tracebacks": False}})
cherrypy.tree.mount(Admin(), "/admin", {"/": {
    "tools.auth_basic.on": True, "tools.auth_basic.realm": "storefront-admin",
    "tools.auth_basic.checkpassword": auth_basic.checkpassword_dict(ADMINS), "request.show_tracebacks": False}})
cherrypy.engine.start()
cherrypy.engine.block()
'''

CHERRYPY_QUICKSTART = '''\
import sys

import cherrypy


class HealthCheck:
    @cherrypy.expose
    def index(self):
        return "ok"


cherrypy.config.update({"server.socket_host": "127.0.0.1", "server.socket_port": int(sys.argv[1]),
                        "engine.autoreload.on": False})
cherrypy.quickstart(HealthCheck(), "/")
'''

ORDERS_SPEC = '''\
openapi: 3.0.3
info:
  title: Orders API
  version: "1.4.0"
paths:
  /v1/orders:
    post:
      operationId: orders_api.create_order
      security:
        - api_key: []
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [sku, quantity, ship_to]
              properties:
                sku: {type: string, pattern: "^[A-Z]{3}-[0-9]{4}$"}
                quantity: {type: integer, minimum: 1}
                ship_to: {type: string}
      responses:
        "201": {description: created}
    get:
      operationId: orders_api.list_orders
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 100}}
        - {name: since, in: query, schema: {type: string, format: date}}
      responses:
        "200": {description: ok}
  /v1/orders/{order_id}/shipment:
    get:
      operationId: orders_api.shipment
      parameters:
        - {name: order_id, in: path, required: true, schema: {type: integer}}
      responses:
        "200": {description: ok}
components:
  securitySchemes:
    api_key:
      type: apiKey
      in: header
      name: X-API-Key
      x-apikeyInfoFunc: orders_api.check_api_key
'''

ORDERS_API = '''\
"""Handlers of the Orders API (Connexion resolves them from the spec's operationId)."""
import os

import httpx

CARRIER_URL = os.environ.get("CARRIER_URL", "http://carrier-gw.logistics.svc:9000")
KEYS = {"k-7f3a9c21": {"sub": "checkout-service"}}


def check_api_key(key, required_scopes=None):
    return KEYS.get(key)


def create_order(body):
    return {"id": 1042, **body}, 201


def list_orders(limit=20, since=None):
    return []


def shipment(order_id):
    resp = httpx.get(f"{CARRIER_URL}/v1/tracking/{order_id}", timeout=3)
    resp.raise_for_status()
    return resp.json()
'''

ORDERS_APP = '''\
import logging

import connexion

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
app = connexion.FlaskApp(__name__, specification_dir="spec")
app.add_api("openapi.yaml")
'''

RESTX_APP = '''\
import sys

from flask import Flask
from flask_restx import Api, Resource, fields, reqparse

app = Flask("inventory")
api = Api(app, title="Inventory", version="2.3", prefix="/api")
item = api.model("Item", {"sku": fields.String(required=True), "warehouse": fields.String(required=True),
                          "quantity": fields.Integer(min=1)})
pages = reqparse.RequestParser()
pages.add_argument("page", type=int, location="args", required=True)
pages.add_argument("per_page", type=int, location="args", default=50)


@api.route("/items")
class Items(Resource):
    @api.expect(item, validate=True)
    def post(self):
        return {"created": True}, 201

    def get(self):
        args = pages.parse_args()
        return {"page": args["page"], "items": []}


def probe(method, path, payload=None):
    resp = app.test_client().open(path, method=method, json=payload)
    print(resp.get_data(as_text=True).strip(), file=sys.stderr)
    sys.exit(1 if resp.status_code >= 400 else 0)
'''

SMOREST_APP = '''\
import sys

import marshmallow as ma
from flask import Flask
from flask_smorest import Api, Blueprint

app = Flask("billing")
app.config.update(API_TITLE="Billing", API_VERSION="v1", OPENAPI_VERSION="3.0.3")
api = Api(app)
blp = Blueprint("invoices", __name__, url_prefix="/invoices")


class InvoiceSchema(ma.Schema):
    customer_id = ma.fields.Int(required=True)
    email = ma.fields.Email(required=True)
    amount = ma.fields.Decimal(required=True, places=2)
    due_date = ma.fields.Date(required=True)


@blp.route("/", methods=["POST"])
@blp.arguments(InvoiceSchema)
def create_invoice(data):
    return {"id": 1}


api.register_blueprint(blp)


def probe(method, path, payload=None):
    resp = app.test_client().open(path, method=method, json=payload)
    print(resp.get_data(as_text=True).strip(), file=sys.stderr)
    sys.exit(1 if resp.status_code >= 400 else 0)
'''

PAYMENTS_BAD_YAML = '''\
openapi: 3.0.3
info:
  title: Payments
  version: "2.1"
paths:
  /v2/payments:
    post:
      summary: Create a payment
      responses:
        "201":
      description: created
     tags: [payments
'''

PAYMENTS_NO_VERSION = '''\
openapi: 3.1.0
info:
  title: Payments
paths:
  /v2/payments/{payment_id}:
    get:
      operationId: getPayment
      responses:
        "200":
          description: ok
'''


@dataclass
class Apps:
    """Where the batch's applications and spec files are."""

    root: Path
    cherry_conf: Path
    payments_bad_yaml: Path
    payments_no_version: Path


def prepare_apps(tmp: Path) -> Apps:
    root = tmp / "apps108"
    (root / "spec").mkdir(parents=True)
    files = {"ledger_asgi.py": LEDGER_ASGI, "storefront_cp.py": STOREFRONT_CP, "healthcheck_cp.py": CHERRYPY_QUICKSTART,
             "orders_api.py": ORDERS_API, "orders_app.py": ORDERS_APP, "inventory_restx.py": RESTX_APP,
             "billing_smorest.py": SMOREST_APP, "spec/openapi.yaml": ORDERS_SPEC,
             "spec/openapi-v2-draft.yaml": ORDERS_SPEC.replace('      responses:\n        "201"',
                                                               '      responsez:\n        "201"'),
             "spec/openapi-rc.yaml": ORDERS_SPEC.replace("orders_api.list_orders", "orders_api.list_order"),
             "payments-v2.yaml": PAYMENTS_BAD_YAML, "payments-v3.yaml": PAYMENTS_NO_VERSION,
             "storefront.conf": "[global]\nserver.socket_host = '0.0.0.0'\nserver.socket_port = 80 80\n"
                                "server.thread_pool = 30\n"}
    for name, text in files.items():
        (root / name).write_text(text)
    return Apps(root, root / "storefront.conf", root / "payments-v2.yaml", root / "payments-v3.yaml")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def serve_hit(server: list[str], path: str, *, mode: str = "log", method: str = "GET", body: object = None,
              headers: dict[str, str] | None = None, env: dict[str, str] | None = None) -> list[str]:
    """argv of this driver: start `server` (PORT in it is replaced by a free port), send one request, print
    what the server logged for that request (`log`) or the body the client got (`body`)."""
    spec = {"server": server, "path": path, "mode": mode, "method": method, "body": body,
            "headers": headers or {}, "env": env or {}}
    return [PY, SELF, json.dumps(spec)]


def _drive(spec: dict[str, object]) -> None:
    port = free_port()
    argv = [str(a).replace("PORT", str(port)) for a in spec["server"]]  # type: ignore[attr-defined]
    environment = dict(os.environ, **spec["env"])  # type: ignore[arg-type]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()  # type: ignore[union-attr]
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.2)
    time.sleep(1.0)
    mark = len(lines)
    payload = None if spec["body"] is None else json.dumps(spec["body"]).encode()
    headers = dict(spec["headers"])  # type: ignore[call-overload]
    if payload is not None:
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(str(spec["method"]), str(spec["path"]), body=payload, headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode("utf-8", "replace")
    time.sleep(1.5)
    logged = "".join(lines[mark:]).strip()  # what the server logged for the request, before any shutdown noise
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    out = text.strip() if spec["mode"] == "body" else logged
    print(out, file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    _drive(json.loads(sys.argv[1]))


__all__ = ["BIN", "PY", "Apps", "free_port", "prepare_apps", "serve_hit"]
