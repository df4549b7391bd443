"""Hundred-and-eighth batch of blind provokers: Python web frameworks, servers and API layers not seen before,
each failing for a cause provoked here (apps and specs in blind108_support). Pyramid (a missing paste ini, an
include typo, conflicting views, a malformed JSON body, a view refused by the security policy, an upstream 503
and read timeout inside a view); CherryPy (a port already bound, a missing or malformed config file, and the
error log of a live server for an upstream 503, a refused warehouse API, a handler bug, plus the 401 page of
auth_basic); cheroot (bind on a busy port, a missing TLS certificate); Connexion 3 served by granian (request
validation problems, API-key refusals, an upstream 503 logged by the middleware, invalid or missing spec files,
an unresolvable operationId); openapi-spec-validator and openapi-core (broken specs, invalid request bodies,
missing security credentials, a missing spec file); daphne and granian (busy port, app import typos, exceptions
inside the ASGI app from an upstream 503, a hanging upstream, a missing export file and a handler bug);
flask-restx and flask-smorest (payload validation bodies, a missing API title), apispec and webargs."""

from __future__ import annotations

import json
import socket
from typing import Any

from blind108_support import BIN, PY, Apps, prepare_apps, serve_hit
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND108_SOURCES = frozenset({"pyramid108", "cherrypy108", "cheroot108", "connexion108", "openapi-spec-validator108",
                              "openapi-core108", "daphne108", "granian108", "flask-restx108", "flask-smorest108",
                              "apispec108", "webargs108"})


def _busy_port(env: Env) -> int:
    """A port some other process already listens on (held until the batch ends)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    env._closers.append(sock.close)
    port: int = sock.getsockname()[1]
    return port


def _pyramid_cases(env: Env, apps: Apps) -> list[PyCase]:
    import requests
    from pyramid.config import Configurator
    from pyramid.paster import get_app
    from pyramid.request import Request
    from pyramid.security import Denied

    class TokenPolicy:
        def identity(self, request: Any) -> None:
            return None

        def authenticated_userid(self, request: Any) -> None:
            return None

        def permits(self, request: Any, context: Any, permission: str) -> Any:
            return Denied("no valid session cookie for the request")

    def import_invoice(request: Any) -> Any:
        return {"received": len(request.json_body["lines"])}

    def manage_users(request: Any) -> Any:
        return {"users": []}

    def warehouse_stock(request: Any) -> Any:
        resp = requests.get(env.url(503) + "?sku=CHR-2231", timeout=5)
        resp.raise_for_status()
        return resp.json()

    def pricing_quote(request: Any) -> Any:
        resp = requests.get(f"http://127.0.0.1:{env.hang_port}/v1/quote?sku=CHR-2231", timeout=2)
        return resp.json()

    def app_with(route: str, pattern: str, view: Any, **kw: Any) -> Any:
        config = Configurator()
        config.set_security_policy(TokenPolicy())
        config.add_route(route, pattern)
        config.add_view(view, route_name=route, renderer="json", **kw)
        return config.make_wsgi_app()

    def request_to(app: Any, path: str, **kw: Any) -> Any:
        def fn() -> None:
            req = Request.blank(path, **kw)
            req.registry = app.registry
            app.invoke_request(req, _use_tweens=False)
        return fn

    def include_typo() -> None:
        config = Configurator(settings={"sqlalchemy.url": "postgresql://billing@db.internal/billing"})
        config.include("billing.routes_v2")

    def conflict() -> None:
        config = Configurator()
        config.add_route("invoice_detail", "/invoices/{invoice_id}")
        config.add_view(import_invoice, route_name="invoice_detail", renderer="json")
        config.add_view(manage_users, route_name="invoice_detail", renderer="json")
        config.commit()

    return [
        ("pyramid_paster_missing_ini", "filesystem", "pyramid108", "FileNotFoundError",
         lambda: get_app(str(apps.root / "deploy" / "production.ini"))),
        ("pyramid_include_typo", "programming", "pyramid108", "ModuleNotFoundError", include_typo),
        ("pyramid_view_conflict", "programming", "pyramid108", "ConfigurationConflictError", conflict),
        ("pyramid_json_body_malformed", "validation", "pyramid108", "JSONDecodeError",
         request_to(app_with("import", "/api/invoices/import", import_invoice), "/api/invoices/import",
                    method="POST", body=b'{"lines": [{"sku": "CHR-2231", "qty": 2},]}',
                    content_type="application/json")),
        ("pyramid_permission_denied", "auth", "pyramid108", "HTTPForbidden",
         request_to(app_with("admin_users", "/admin/users", manage_users, permission="manage"), "/admin/users")),
        ("pyramid_upstream_503", "service", "pyramid108", "HTTPError",
         request_to(app_with("stock", "/api/stock", warehouse_stock), "/api/stock")),
        ("pyramid_upstream_read_timeout", "network", "pyramid108", "ReadTimeout",
         request_to(app_with("quote", "/api/quote", pricing_quote), "/api/quote")),
    ]


def _cheroot_cherrypy_py_cases(env: Env, apps: Apps) -> list[PyCase]:
    import cherrypy
    from cheroot import wsgi
    from cheroot.ssl.builtin import BuiltinSSLAdapter

    busy = _busy_port(env)

    def bind_busy() -> None:
        server = wsgi.Server(("127.0.0.1", busy), lambda environ, start: [], server_name="reports.internal")
        server.prepare()

    return [
        ("cheroot_bind_in_use", "resource", "cheroot108", "OSError", bind_busy),
        ("cheroot_tls_cert_missing", "filesystem", "cheroot108", "FileNotFoundError",
         lambda: BuiltinSSLAdapter("/etc/ssl/reports/fullchain.pem", "/etc/ssl/reports/privkey.pem")),
        ("cherrypy_config_missing", "filesystem", "cherrypy108", "FileNotFoundError",
         lambda: cherrypy.config.update("/etc/storefront/server.conf")),
        ("cherrypy_config_bad_value", "validation", "cherrypy108", "ValueError",
         lambda: cherrypy.config.update(str(apps.cherry_conf))),
    ]


def _cherrypy_tool_cases(env: Env, apps: Apps) -> list[ToolCase]:
    busy = _busy_port(env)
    store = [PY, "storefront_cp.py", "PORT"]
    return [
        ("cherrypy_port_not_free", "resource", "not free|Address already in use",
         f"timeout 60 {PY} healthcheck_cp.py {busy}"),
        ("cherrypy_handler_upstream_503", "service", "503 Server Error",
         serve_hit(store, "/stock?sku=CHR-2231", env={"WAREHOUSE_URL": env.url(503)})),
        ("cherrypy_handler_upstream_refused", "network", "Connection refused",
         serve_hit(store, "/stock?sku=CHR-2231", env={"WAREHOUSE_URL": f"http://127.0.0.1:{env.closed_port}"})),
        ("cherrypy_handler_bug", "programming", "AttributeError", serve_hit(store, "/basket?basket_id=88120")),
        ("cherrypy_auth_basic_401", "auth", "401 Unauthorized",
         serve_hit(store, "/admin/", mode="body", headers={"Authorization": "Basic b3BzOmhhbnRlcjI="})),
    ]


def _connexion_tool_cases(env: Env) -> list[ToolCase]:
    server = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", "PORT",
              "orders_app:app"]
    key = {"X-API-Key": "k-7f3a9c21"}
    return [
        ("connexion_pattern_mismatch", "validation", "does not match",
         serve_hit(server, "/v1/orders", mode="body", method="POST", headers=key,
                   body={"sku": "chr2231", "quantity": 2, "ship_to": "DE-10115"})),
        ("connexion_required_property", "validation", "required property",
         serve_hit(server, "/v1/orders", method="POST", headers=key, body={"sku": "CHR-2231", "quantity": 2})),
        ("connexion_query_type", "validation", "not of type",
         serve_hit(server, "/v1/orders?limit=fifty", mode="body")),
        ("connexion_api_key_invalid", "auth", "not valid",
         serve_hit(server, "/v1/orders", mode="body", method="POST", headers={"X-API-Key": "k-0000expired"},
                   body={"sku": "CHR-2231", "quantity": 2, "ship_to": "DE-10115"})),
        ("connexion_api_key_missing", "auth", "No authorization token",
         serve_hit(server, "/v1/orders", method="POST",
                   body={"sku": "CHR-2231", "quantity": 2, "ship_to": "DE-10115"})),
        ("connexion_upstream_503", "service", "503",
         serve_hit(server, "/v1/orders/1042/shipment", env={"CARRIER_URL": env.http + "/status/503"})),
    ]


def _connexion_py_cases(env: Env, apps: Apps) -> list[PyCase]:
    import connexion

    def add(spec_dir: str, name: str, hit: str | None = None) -> Any:
        def fn() -> None:
            app = connexion.FlaskApp("orders_app", specification_dir=spec_dir)
            app.add_api(name)
            if hit:
                app.test_client().get(hit)
        return fn

    spec = str(apps.root / "spec")
    return [
        ("connexion_invalid_spec", "validation", "connexion108", "InvalidSpecification",
         add(spec, "openapi-v2-draft.yaml")),
        ("connexion_spec_missing", "filesystem", "connexion108", "FileNotFoundError",
         add("/srv/orders/current/spec", "openapi.yaml")),
        ("connexion_operation_id_typo", "programming", "connexion108", "ResolverError",
         add(spec, "openapi-rc.yaml", "/v1/orders")),
    ]


def _openapi_cases(env: Env, apps: Apps) -> list[PyCase]:
    import requests
    from openapi_core import OpenAPI
    from openapi_core.contrib.requests import RequestsOpenAPIRequest
    from openapi_spec_validator import validate

    unresolved = {"openapi": "3.0.3", "info": {"title": "Payments", "version": "2.1"},
                  "paths": {"/v2/payments/{payment_id}/refunds": {
                      "post": {"responses": {"201": {"description": "ok"}}}}}}
    spec = {"openapi": "3.0.3", "info": {"title": "Payments", "version": "2.1"},
            "servers": [{"url": "https://payments.internal.example"}],
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
            "paths": {"/v2/payments": {"post": {
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["amount", "currency", "merchant_id"],
                    "properties": {"amount": {"type": "integer", "minimum": 1},
                                   "currency": {"type": "string", "enum": ["EUR", "USD", "CHF"]},
                                   "merchant_id": {"type": "string"}}}}}},
                "responses": {"201": {"description": "created"}}}}}}
    openapi = OpenAPI.from_dict(spec)

    def payment(body: dict[str, Any], headers: dict[str, str]) -> Any:
        prepared = requests.Request("POST", "https://payments.internal.example/v2/payments", data=json.dumps(body),
                                    headers={"Content-Type": "application/json", **headers}).prepare()
        return lambda: openapi.validate_request(RequestsOpenAPIRequest(prepared))

    return [
        ("osv_unresolved_path_param", "validation", "openapi-spec-validator108", "OpenAPIValidationError",
         lambda: validate(unresolved)),
        ("openapi_core_invalid_body", "validation", "openapi-core108", "InvalidRequestBody|RequestBodyValidationError",
         payment({"amount": 0, "currency": "GBP", "merchant_id": "m-2231"}, {"Authorization": "Bearer eyJhbGciOi"})),
        ("openapi_core_security_missing", "auth", "openapi-core108", "SecurityValidationError",
         payment({"amount": 1250, "currency": "EUR", "merchant_id": "m-2231"}, {})),
        ("openapi_core_spec_missing", "filesystem", "openapi-core108", "OSError",
         lambda: OpenAPI.from_file_path("/srv/payments/openapi/v2.yaml")),
    ]


def _osv_tool_cases(apps: Apps) -> list[ToolCase]:
    cli = str(BIN / "openapi-spec-validator")
    return [
        ("osv_cli_yaml_syntax", "validation", "did not find expected|while parsing",
         [cli, str(apps.payments_bad_yaml)]),
        ("osv_cli_missing_version", "validation", "required property", [cli, str(apps.payments_no_version)]),
        ("osv_cli_file_missing", "filesystem", "No such file", [cli, "/srv/payments/openapi/v3.yaml"]),
    ]


def _asgi_tool_cases(env: Env) -> tuple[list[ToolCase], list[ToolCase]]:
    busy = _busy_port(env)
    daphne = [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", "PORT", "ledger_asgi:app"]
    granian = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", "PORT",
               "ledger_asgi:app"]
    daphne_cases: list[ToolCase] = [
        ("daphne_port_in_use", "resource", "Address already in use",
         f"timeout 30 {BIN}/daphne -b 127.0.0.1 -p {busy} ledger_asgi:app"),
        ("daphne_app_attr_typo", "programming", "has no attribute",
         f"timeout 30 {BIN}/daphne -b 127.0.0.1 -p {busy} ledger_asgi:application"),
        ("daphne_app_upstream_503", "service", "503",
         serve_hit(daphne, "/api/v1/rates", env={"FX_UPSTREAM": env.http + "/status/503"})),
        ("daphne_app_export_missing", "filesystem", "FileNotFoundError",
         serve_hit(daphne, "/api/v1/exports/latest", env={"LEDGER_EXPORT_DIR": "/var/lib/ledger/exports"})),
    ]
    granian_cases: list[ToolCase] = [
        ("granian_port_in_use", "resource", "Address already in use",
         f"RUST_BACKTRACE=0 timeout 30 {BIN}/granian --interface asgi --host 127.0.0.1 --port {busy} ledger_asgi:app"),
        ("granian_module_typo", "programming", "Could not import",
         f"timeout 30 {BIN}/granian --interface asgi --host 127.0.0.1 --port 0 ledger_asgi_v2:app"),
        ("granian_app_bug", "programming", "AttributeError", serve_hit(granian, "/api/v1/reports/month-end")),
        ("granian_app_upstream_timeout", "network", "ReadTimeout",
         serve_hit(granian, "/api/v1/rates", env={"FX_UPSTREAM": f"http://127.0.0.1:{env.hang_port}"})),
    ]
    return daphne_cases, granian_cases


def _flask_ext_tool_cases() -> tuple[list[ToolCase], list[ToolCase]]:
    restx: list[ToolCase] = [
        ("restx_payload_validation", "validation", "validation failed",
         [PY, "-c", "from inventory_restx import probe; "
                    "probe('POST', '/api/items', {'sku': 'CHR-2231', 'quantity': 'twelve'})"]),
        ("restx_reqparse_bad_int", "validation", "invalid literal",
         [PY, "-c", "from inventory_restx import probe; probe('GET', '/api/items?page=last')"]),
    ]
    smorest: list[ToolCase] = [
        ("smorest_arguments_422", "validation", "Not a valid",
         [PY, "-c", "from billing_smorest import probe; probe('POST', '/invoices/', "
                    "{'customer_id': 'C-88', 'email': 'billing(at)acme', 'amount': '12,50', "
                    "'due_date': '2026-02-30'})"]),
    ]
    return restx, smorest


def _flask_ext_py_cases(env: Env) -> list[PyCase]:
    import marshmallow as ma
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin
    from flask import Flask
    from flask_smorest import Api
    from webargs import fields
    from webargs.flaskparser import parser

    class InvoiceSchema(ma.Schema):
        customer_id = ma.fields.Int(required=True)
        amount = ma.fields.Decimal(required=True)

    def smorest_no_title() -> None:
        app = Flask("billing")
        app.config.update(API_VERSION="v1", OPENAPI_VERSION="3.0.3")
        Api(app)

    def duplicate_schema() -> None:
        spec = APISpec(title="Billing", version="v1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
        spec.components.schema("Invoice", schema=InvoiceSchema)
        spec.components.schema("Invoice", schema=InvoiceSchema)

    def webargs_query() -> None:
        app = Flask("reports")
        with app.test_request_context("/reports/revenue?from=2026-13-01&to=2026-11-30&granularity=weekly"):
            parser.parse({"from": fields.Date(required=True), "to": fields.Date(required=True),
                          "granularity": fields.Str(validate=lambda g: g in ("day", "month"))}, location="query")

    return [
        ("smorest_missing_api_title", "validation", "flask-smorest108", "MissingAPIParameterError", smorest_no_title),
        ("apispec_bad_openapi_version", "validation", "apispec108", "APISpecError",
         lambda: APISpec(title="Billing", version="v1", openapi_version="4.1.0", plugins=[MarshmallowPlugin()])),
        ("apispec_duplicate_schema", "programming", "apispec108", "DuplicateComponentNameError", duplicate_schema),
        ("webargs_query_422", "validation", "webargs108", "UnprocessableEntity", webargs_query),
    ]


def blind108_records(env: Env) -> list[Record]:
    import sys

    apps = prepare_apps(env.tmp)
    sys.path.insert(0, str(apps.root))
    out = python_records(_pyramid_cases(env, apps) + _cheroot_cherrypy_py_cases(env, apps)
                         + _connexion_py_cases(env, apps) + _openapi_cases(env, apps) + _flask_ext_py_cases(env))
    daphne, granian = _asgi_tool_cases(env)
    restx, smorest = _flask_ext_tool_cases()
    for source, cases in (("cherrypy108", _cherrypy_tool_cases(env, apps)),
                          ("connexion108", _connexion_tool_cases(env)),
                          ("openapi-spec-validator108", _osv_tool_cases(apps)), ("daphne108", daphne),
                          ("granian108", granian), ("flask-restx108", restx), ("flask-smorest108", smorest)):
        out += tool_records(cases, source, apps.root, timeout=90)
    return out


if __name__ == "__main__":
    write_batch(blind108_records)


__all__ = ["BLIND108_SOURCES", "blind108_records"]
