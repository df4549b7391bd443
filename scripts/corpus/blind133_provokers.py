"""Hundred-and-thirty-third batch of blind provokers: GraphQL and API server frameworks not seen before, each
failing for a cause provoked here (blind133_support; the frameworks live in the batch venv
/tmp/recoup-corpus-133). ariadne (schemas that reference unknown types or bind missing fields; resolvers whose
upstream answers 503 or refuses, as ariadne logs them); graphene (fields of a non-graphene type, queries of
unknown fields or with wrong variable values, resolvers failing on an upstream 503, a refused or reset port, and
on a bug); django-ninja (TestClient views on a 503 or refused upstream, a missing template, a buggy view; a
served API answering 422 for a bad body and 401 for a wrong API key); Flask-RESTful (duplicate endpoints, a
missing export file, upstream 503 and refused ports, reqparse 400s and 403 aborts from a served API); BlackSheep
(unresolvable handler parameters, missing static folders and templates); Robyn (port already in use, bearer
authentication refused); spyne (SOAP schema validation faults, credential faults, a 503 and a refused endpoint
through spyne's HttpClient, service definitions with bad types)."""

from __future__ import annotations

import asyncio
import json
import sys
import types
import urllib.request
from pathlib import Path
from typing import Any

from blind133_support import PYTHON, serve_wsgi, write
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND133_SOURCES = frozenset({"ariadne133", "graphene133", "djangoninja133", "flaskrestful133", "blacksheep133",
                              "robyn133", "spyne133"})


def _fetch(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _raise_first(result: Any) -> None:
    """What an API gateway does with a GraphQL result that carries errors."""
    if result.errors:
        raise result.errors[0]


# --------------------------------------------------------------------------- ariadne

def _ariadne_cases(env: Env) -> list[PyCase]:
    from ariadne import QueryType, make_executable_schema

    def bind_missing() -> None:
        query = QueryType()
        query.set_field("outstandingBalance", lambda *_: 0)
        make_executable_schema("type Query { invoice(id: ID!): Float\n  customerCount: Int }", query)

    return [
        ("ariadne_unknown_type", "programming", "ariadne133", "TypeError",
         lambda: make_executable_schema("type Query {\n  invoice(id: ID!): Invoice\n  customers: [Customer!]!\n}\n"
                                        "type Customer { id: ID! name: String! }")),
        ("ariadne_bind_missing_field", "programming", "ariadne133", "ValueError", bind_missing),
    ]


_ARIADNE_APP = """
import logging, sys, urllib.request, json
from ariadne import QueryType, graphql_sync, make_executable_schema
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
query = QueryType()

@query.field("shipment")
def resolve_shipment(_, info, trackingId):
    with urllib.request.urlopen("{upstream}/v2/shipments/" + trackingId, timeout=5) as resp:
        return json.load(resp)

schema = make_executable_schema('''
type Query {{ shipment(trackingId: String!): Shipment }}
type Shipment {{ trackingId: String! status: String! carrier: String }}
''', query)
ok, result = graphql_sync(schema, {{"query": "query($t: String!) {{ shipment(trackingId: $t) {{ status carrier }} }}",
                                   "variables": {{"t": "1Z999AA10123456784"}}}}, debug=False)
sys.exit(1 if result.get("errors") else 0)
"""


def _ariadne_tools(env: Env) -> list[ToolCase]:
    return [
        ("ariadne_resolver_upstream_503", "service", "503",
         [PYTHON, "-c", _ARIADNE_APP.format(upstream=env.url(503))]),
        ("ariadne_resolver_refused", "network", "Connection refused",
         [PYTHON, "-c", _ARIADNE_APP.format(upstream=f"http://127.0.0.1:{env.closed_port}")]),
    ]


# --------------------------------------------------------------------------- graphene

def _graphene_cases(env: Env) -> list[PyCase]:
    import graphene

    def bad_field_type() -> None:
        class Order(graphene.ObjectType):
            order_id = graphene.ID(required=True)
            placed_at = graphene.Field(str)

        class Query(graphene.ObjectType):
            order = graphene.Field(Order, order_id=graphene.ID(required=True))

        graphene.Schema(query=Query)

    class Warehouse(graphene.ObjectType):
        code = graphene.String(required=True)
        stock_level = graphene.Int()

    class Query(graphene.ObjectType):
        warehouse = graphene.Field(Warehouse, code=graphene.String(required=True))
        stock = graphene.Int(sku=graphene.String(required=True), warehouse_id=graphene.Int(required=True))
        reorder_point = graphene.Int(sku=graphene.String(required=True))

        def resolve_warehouse(root: Any, info: Any, code: str) -> Any:
            port = {"FRA1": env.reset_port, "AMS2": env.closed_port}.get(code)
            url = f"http://127.0.0.1:{port}/inventory/{code}" if port else env.url(503) + f"?warehouse={code}"
            return _fetch(url)

        def resolve_stock(root: Any, info: Any, sku: str, warehouse_id: int) -> int:
            return 0

        def resolve_reorder_point(root: Any, info: Any, sku: str) -> int:
            levels: dict[str, dict[str, int]] = {"SKU-1042": {"min": 12}}
            return levels.get(sku).get("min")  # type: ignore[union-attr]

    schema = graphene.Schema(query=Query)

    def run(query: str, variables: dict[str, Any] | None = None) -> Any:
        return lambda: _raise_first(schema.execute(query, variable_values=variables))

    return [
        ("graphene_field_python_type", "programming", "graphene133", "TypeError", bad_field_type),
        ("graphene_unknown_field", "validation", "graphene133", "GraphQLError",
         run('{ warehouse(code: "FRA1") { code stockLevl } }')),
        ("graphene_variable_wrong_type", "validation", "graphene133", "GraphQLError",
         run("query($wh: Int!) { stock(sku: \"SKU-1042\", warehouseId: $wh) }", {"wh": "FRA-1"})),
        ("graphene_missing_argument", "validation", "graphene133", "GraphQLError",
         run("{ stock(sku: \"SKU-1042\") }")),
        ("graphene_resolver_503", "service", "graphene133", "GraphQLError",
         run('{ warehouse(code: "LHR3") { code stockLevel } }')),
        ("graphene_resolver_refused", "network", "graphene133", "GraphQLError",
         run('{ warehouse(code: "AMS2") { code stockLevel } }')),
        ("graphene_resolver_reset", "network", "graphene133", "GraphQLError",
         run('{ warehouse(code: "FRA1") { code stockLevel } }')),
        ("graphene_resolver_none_attr", "programming", "graphene133", "GraphQLError",
         run('{ reorderPoint(sku: "SKU-7781") }')),
    ]


# --------------------------------------------------------------------------- django-ninja

def _django_setup(env: Env) -> Path:
    import django
    from django.conf import settings

    templates = env.tmp / "srv" / "billing" / "templates"
    templates.mkdir(parents=True)
    settings.configure(
        DEBUG=False, SECRET_KEY="blind133-not-a-secret", ALLOWED_HOSTS=["*"], ROOT_URLCONF="billing_urls",
        INSTALLED_APPS=["django.contrib.contenttypes"], DATABASES={},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [str(templates)]}],
        LOGGING_CONFIG=None,
    )
    django.setup()
    return templates


def _ninja_api(env: Env, spool: Path) -> Any:
    from django.shortcuts import render
    from ninja import NinjaAPI, Schema
    from ninja.security import APIKeyHeader
    from ninja.throttling import AnonRateThrottle

    class PartnerKey(APIKeyHeader):
        param_name = "X-Partner-Key"

        def authenticate(self, request: Any, key: str | None) -> Any:
            return "acme-logistics" if key == "pk_live_7f3a9c" else None

    class InvoiceIn(Schema):
        customer_id: int
        amount_cents: int
        currency: str
        due_date: str

    api = NinjaAPI(title="billing", urls_namespace="billing")

    def create_invoice(request, payload):  # type: ignore[no-untyped-def]
        return {"id": 1}

    create_invoice.__annotations__ = {"payload": InvoiceIn}
    api.post("/invoices")(create_invoice)

    @api.get("/partners/usage", auth=PartnerKey())
    def partner_usage(request: Any) -> Any:
        return {"requests": 0}

    @api.get("/exchange-rates/{currency}")
    def exchange_rate(request: Any, currency: str) -> Any:
        port = {"CHF": env.closed_port}.get(currency)
        url = f"http://127.0.0.1:{port}/rates/{currency}" if port else env.url(503) + f"?base={currency}"
        return _fetch(url)

    @api.get("/invoices/{invoice_id}/print")
    def print_invoice(request: Any, invoice_id: int) -> Any:
        return render(request, "invoices/print.html", {"invoice_id": invoice_id})

    @api.get("/invoices/{invoice_id}/total")
    def invoice_total(request: Any, invoice_id: int) -> Any:
        lines = [{"sku": "SKU-1042", "qty": 2, "unit_cents": "1250"}]
        return {"total": sum(line["qty"] * line["unit_cents"] + 0 for line in lines)}

    @api.get("/reports/ledger.csv", throttle=[AnonRateThrottle("2/m")])
    def ledger_report(request: Any) -> Any:
        return {"rows": 0}

    @api.post("/ledger/{period}/snapshot")
    def ledger_snapshot(request: Any, period: str) -> Any:
        entries = [{"account": f"4000-{n:05d}", "debit_cents": n * 37, "memo": "settlement batch"} for n in range(6000)]
        (spool / "billing" / f"ledger-{period}.json").write_text(json.dumps(entries))
        return {"entries": len(entries)}

    urls = types.ModuleType("billing_urls")
    from django.urls import path

    urls.urlpatterns = [path("api/", api.urls)]  # type: ignore[attr-defined]
    sys.modules["billing_urls"] = urls
    return api


def _ninja_cases(env: Env, api: Any) -> list[PyCase]:
    from ninja.testing import TestClient

    client = TestClient(api)

    return [
        ("ninja_upstream_503", "service", "djangoninja133", "HTTPError",
         lambda: client.get("/exchange-rates/EUR")),
        ("ninja_upstream_refused", "network", "djangoninja133", "URLError|ConnectionRefusedError",
         lambda: client.get("/exchange-rates/CHF")),
        ("ninja_template_missing", "filesystem", "djangoninja133", "TemplateDoesNotExist",
         lambda: client.get("/invoices/88/print")),
        ("ninja_view_type_bug", "programming", "djangoninja133", "TypeError",
         lambda: client.get("/invoices/88/total")),
        ("ninja_snapshot_full_disk", "resource", "djangoninja133", "OSError",
         lambda: client.post("/ledger/2026-11/snapshot")),
    ]


def _ninja_tools(env: Env) -> list[ToolCase]:
    from django.core.wsgi import get_wsgi_application

    port = serve_wsgi(env, get_wsgi_application())
    base = f"http://127.0.0.1:{port}/api"
    body = json.dumps({"customer_id": "ACME-77", "amount_cents": 129.5, "currency": "EUR"})
    return [
        ("ninja_422_body", "validation", "422",
         f"curl --fail-with-body -sS -X POST -H 'Content-Type: application/json' -d '{body}' {base}/invoices 2>&1"),
        ("ninja_401_api_key", "auth", "401",
         f"curl --fail-with-body -sS -H 'X-Partner-Key: pk_live_0000' {base}/partners/usage 2>&1"),
        ("ninja_429_throttled", "resource", "429",
         f"for i in 1 2; do curl -s -o /dev/null {base}/reports/ledger.csv; done; "
         f"curl --fail-with-body -sS {base}/reports/ledger.csv 2>&1"),
    ]


# --------------------------------------------------------------------------- Flask-RESTful

def _flask_app(env: Env, spool: Path) -> Any:
    from flask import Flask, send_file
    from flask_restful import Api, Resource, abort, reqparse

    app = Flask("fleet")
    app.config["PROPAGATE_EXCEPTIONS"] = True
    api = Api(app, prefix="/api/v1")
    exports = env.tmp / "var" / "fleet" / "exports"
    exports.mkdir(parents=True)

    booking = reqparse.RequestParser()
    booking.add_argument("vehicle_id", type=int, required=True, location="json", help="vehicle id: {error_msg}")
    booking.add_argument("start", type=str, required=True, location="json")

    class Bookings(Resource):
        def post(self) -> Any:
            args = booking.parse_args()
            return {"vehicle_id": args["vehicle_id"]}, 201

    class Vehicle(Resource):
        def delete(self, vehicle_id: int) -> Any:
            abort(403, message=f"role 'dispatcher' may not delete vehicle {vehicle_id}; requires 'fleet-admin'")

    class Telemetry(Resource):
        def get(self, vehicle_id: int) -> Any:
            port = {7: env.closed_port}.get(vehicle_id)
            url = f"http://127.0.0.1:{port}/gps/{vehicle_id}" if port else env.url(503) + f"?vehicle={vehicle_id}"
            return _fetch(url)

    class Export(Resource):
        def get(self, month: str) -> Any:
            return send_file(exports / f"mileage-{month}.csv")

    class TripLog(Resource):
        def put(self, vehicle_id: int) -> Any:
            target = spool / "fleet" / f"trips-{vehicle_id}.ndjson"
            with target.open("w") as out:
                for n in range(8000):
                    out.write(json.dumps({"vehicle": vehicle_id, "seq": n, "lat": 50.11, "lon": 8.68}) + "\n")
            return {"written": 8000}

    api.add_resource(TripLog, "/vehicles/<int:vehicle_id>/trips")
    api.add_resource(Bookings, "/bookings")
    api.add_resource(Vehicle, "/vehicles/<int:vehicle_id>")
    api.add_resource(Telemetry, "/vehicles/<int:vehicle_id>/telemetry")
    api.add_resource(Export, "/exports/<month>")
    return app, api, Resource


def _flask_cases(env: Env, app: Any, api: Any, resource: type) -> list[PyCase]:
    client = app.test_client()

    def duplicate_endpoint() -> None:
        class VehicleList(resource):  # type: ignore[misc, valid-type]
            def get(self) -> Any:
                return []

        api.add_resource(VehicleList, "/vehicles", endpoint="vehicle")

    return [
        ("flaskrestful_upstream_503", "service", "flaskrestful133", "HTTPError",
         lambda: client.get("/api/v1/vehicles/12/telemetry")),
        ("flaskrestful_upstream_refused", "network", "flaskrestful133", "URLError|ConnectionRefusedError",
         lambda: client.get("/api/v1/vehicles/7/telemetry")),
        ("flaskrestful_export_missing", "filesystem", "flaskrestful133", "FileNotFoundError",
         lambda: client.get("/api/v1/exports/2026-10")),
        ("flaskrestful_trips_full_disk", "resource", "flaskrestful133", "OSError",
         lambda: client.put("/api/v1/vehicles/12/trips")),
        ("flaskrestful_duplicate_endpoint", "programming", "flaskrestful133", "ValueError", duplicate_endpoint),
    ]


def _flask_tools(env: Env, app: Any) -> list[ToolCase]:
    port = serve_wsgi(env, app)
    base = f"http://127.0.0.1:{port}/api/v1"
    return [
        ("flaskrestful_reqparse_400", "validation", "400",
         f"curl --fail-with-body -sS -X POST -H 'Content-Type: application/json' "
         f"-d '{{\"vehicle_id\": \"VAN-12\", \"start\": \"2026-12-01T08:00\"}}' {base}/bookings 2>&1"),
        ("flaskrestful_abort_403", "auth", "403",
         f"curl --fail-with-body -sS -X DELETE {base}/vehicles/12 2>&1"),
    ]


# --------------------------------------------------------------------------- BlackSheep

def _blacksheep_cases(env: Env) -> list[PyCase]:
    from blacksheep import Application
    from blacksheep.server.routing import Router

    def duplicate_route() -> None:
        app = Application(router=Router())

        async def list_orders() -> Any:
            return None

        async def export_orders() -> Any:
            return None

        app.router.add_get("/api/orders/{customer_id}", list_orders)
        app.router.add_get("/api/orders/{customer_id}", export_orders)
        asyncio.run(app.start())

    def static_missing() -> None:
        app = Application(router=Router())
        app.serve_files(str(env.tmp / "srv" / "storefront" / "public"))
        asyncio.run(app.start())

    def template_missing() -> None:
        from blacksheep.server.rendering.jinja2 import JinjaRenderer
        from blacksheep.server.responses import view

        templates = env.tmp / "srv" / "storefront" / "views"
        templates.mkdir(parents=True, exist_ok=True)
        from blacksheep import settings as bs_settings
        from jinja2 import FileSystemLoader

        bs_settings.html.html_settings.use(JinjaRenderer(FileSystemLoader(str(templates))))
        view("orders/confirmation", {"order": "SO-20931"})

    return [
        ("blacksheep_duplicate_route", "programming", "blacksheep133", "RouteDuplicate|Exception", duplicate_route),
        ("blacksheep_static_missing", "filesystem", "blacksheep133", "InvalidArgument", static_missing),
        ("blacksheep_template_missing", "filesystem", "blacksheep133", "TemplateNotFound", template_missing),
    ]


# --------------------------------------------------------------------------- Robyn

_ROBYN_APP = """
from robyn import Robyn, Request
from robyn.authentication import AuthenticationHandler, BearerGetter, Identity

app = Robyn(__file__)

class OpsToken(AuthenticationHandler):
    def authenticate(self, request: Request):
        token = self.token_getter.get_token(request)
        return Identity(claims={"sub": "ops-bot"}) if token == "rbn_9c1f2e" else None

app.configure_authentication(OpsToken(token_getter=BearerGetter()))

@app.get("/metrics/queue-depth", auth_required=True)
def queue_depth(request):
    return {"depth": 0}

app.start(host="127.0.0.1", port=PORT, _check_port=False)
"""


def _robyn_tools(env: Env) -> list[ToolCase]:
    from common import free_port

    root = env.tmp / "srv" / "robyn"
    busy = write(root, "dispatch_busy.py", _ROBYN_APP.replace("PORT", str(env.http_port)))
    port = free_port()
    ok = write(root, "dispatch.py", _ROBYN_APP.replace("PORT", str(port)))
    auth = (f"setsid {PYTHON} {ok} >/dev/null 2>&1 & pid=$!; for i in $(seq 50); do curl -s -o /dev/null "
            f"http://127.0.0.1:{port}/ && break; sleep 0.2; done; "
            f"curl --fail-with-body -sS -H 'Authorization: Bearer rbn_expired_41' "
            f"http://127.0.0.1:{port}/metrics/queue-depth 2>&1; rc=$?; "
            "kill -KILL -- -$pid; wait $pid 2>/dev/null; exit $rc")
    return [
        ("robyn_port_in_use", "resource", "already in use", f"timeout 20 {PYTHON} {busy}"),
        ("robyn_bearer_refused", "auth", "401", auth),
    ]


# --------------------------------------------------------------------------- spyne

def _spyne(env: Env) -> tuple[list[PyCase], Any]:
    from spyne import Application, Integer, Iterable, ServiceBase, Unicode, rpc
    from spyne.client.http import HttpClient
    from spyne.error import InvalidCredentialsError
    from spyne.protocol.soap import Soap11
    from spyne.server.wsgi import WsgiApplication

    class ParcelService(ServiceBase):
        @rpc(Unicode(min_len=10, max_len=18, pattern="[0-9A-Z]+"), Integer(ge=1, le=30000), _returns=Unicode)
        def book_parcel(ctx: Any, tracking: str, weight_grams: int) -> str:
            return tracking

        @rpc(Unicode, Unicode, _returns=Iterable(Unicode))
        def list_manifests(ctx: Any, depot: str, api_token: str) -> Any:
            if api_token != "spn-depot-51":
                raise InvalidCredentialsError("manifest service", "api_token")
            return []

    app = Application([ParcelService], tns="urn:logistics.example:parcels", in_protocol=Soap11(validator="lxml"),
                      out_protocol=Soap11())
    port = serve_wsgi(env, WsgiApplication(app))
    client = HttpClient(f"http://127.0.0.1:{port}/", app)
    gone = HttpClient(f"http://127.0.0.1:{env.closed_port}/soap/parcels", app)

    def bad_service_type() -> None:
        class DepotService(ServiceBase):
            @rpc(Unicode, _returns=dict)
            def depot_info(ctx: Any, code: str) -> Any:
                return {}

        Application([DepotService], tns="urn:logistics.example:depots", in_protocol=Soap11(),
                    out_protocol=Soap11())

    cases: list[PyCase] = [
        ("spyne_schema_validation", "validation", "spyne133", "Fault",
         lambda: client.service.book_parcel("1z-9!", 45000)),
        ("spyne_invalid_credentials", "auth", "spyne133", "Fault",
         lambda: client.service.list_manifests("HAM-2", "spn-expired-00")),
        ("spyne_client_refused", "network", "spyne133", "URLError|ConnectionRefusedError|OSError",
         lambda: gone.service.book_parcel("1Z999AA1012", 900)),
        ("spyne_bad_return_type", "programming", "spyne133", "ValueError", bad_service_type),
    ]
    return cases, app


# --------------------------------------------------------------------------- batch

def blind133_records(env: Env) -> list[Record]:
    _django_setup(env)
    spool = mount_tmpfs(env, "spool", "size=64k")
    for sub in ("billing", "fleet"):
        (spool / sub).mkdir()
    api = _ninja_api(env, spool)
    app, flask_api, resource = _flask_app(env, spool)
    spyne_cases, _ = _spyne(env)
    cases: list[PyCase] = [*_ariadne_cases(env), *_graphene_cases(env), *_ninja_cases(env, api),
                           *_flask_cases(env, app, flask_api, resource), *_blacksheep_cases(env), *spyne_cases]
    out = python_records(cases)
    out += tool_records(_ariadne_tools(env), "ariadne133", env.tmp)
    out += tool_records(_ninja_tools(env), "djangoninja133", env.tmp)
    out += tool_records(_flask_tools(env, app), "flaskrestful133", env.tmp)
    out += tool_records(_robyn_tools(env), "robyn133", env.tmp, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind133_records)


__all__ = ["BLIND133_SOURCES", "blind133_records"]
