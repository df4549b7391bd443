"""Local API servers for batch 73, all on 127.0.0.1: a Strawberry GraphQL schema behind uvicorn, a small SOAP
responder (http.server) that reads the request envelope and answers with SOAP Fault envelopes as a real
service would, its WSDL, and a JSON-RPC 2.0 endpoint whose dispatch is jsonrpcserver's."""

from __future__ import annotations

import http.server
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import strawberry
from common import Env, free_port
from servers import _wait_port
from strawberry.asgi import GraphQL
from strawberry.permission import BasePermission

# the servers' own error logs would print the failures on the batch's stderr: keep them quiet
for _name in ("strawberry", "jsonrpcserver"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)

# --------------------------------------------------------------------------- GraphQL (strawberry + uvicorn)

GRAPHQL_TOKEN = "b73-ops-token"


class IsAuthenticated(BasePermission):
    message = "User is not authenticated"

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        request = info.context["request"]
        return bool(request.headers.get("authorization") == f"Bearer {GRAPHQL_TOKEN}")


@strawberry.type
class Order:
    id: int
    status: str
    total: float


@strawberry.type
class Query:
    @strawberry.field
    def order(self, id: int) -> Order:
        return Order(id=id, status="paid", total=12.5)

    @strawberry.field(permission_classes=[IsAuthenticated])
    def payroll(self) -> list[Order]:
        return []


@strawberry.type
class Mutation:
    @strawberry.mutation
    def create_order(self, quantity: int, sku: str) -> Order:
        if quantity <= 0:
            raise ValueError(f"quantity must be a positive integer, got {quantity}")
        return Order(id=1, status="new", total=0.0)

    @strawberry.mutation
    def refund_order(self, info: strawberry.Info, order_id: int) -> Order:
        if "billing" not in info.context["request"].headers.get("x-roles", ""):
            raise PermissionError(f"Forbidden: refunding order {order_id} requires the billing role")
        return Order(id=order_id, status="refunded", total=0.0)


def graphql_server(env: Env) -> str:
    """Start the GraphQL API under uvicorn in a thread; return its URL (stopped when the env closes)."""
    import uvicorn

    port = free_port()
    app = GraphQL(strawberry.Schema(query=Query, mutation=Mutation))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    env._closers.append(stop)
    _wait_port(port)
    return f"http://127.0.0.1:{port}/graphql"


# --------------------------------------------------------------------------- SOAP

SOAP_NS = "urn:b73:shipping"

WSDL = f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions name="Shipping" targetNamespace="{SOAP_NS}" xmlns="http://schemas.xmlsoap.org/wsdl/"
    xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:tns="{SOAP_NS}"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <types>
    <xsd:schema targetNamespace="{SOAP_NS}" elementFormDefault="qualified">
      <xsd:element name="GetRate">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="postalCode" type="xsd:string"/>
          <xsd:element name="weightKg" type="xsd:decimal"/>
          <xsd:element name="apiKey" type="xsd:string"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
      <xsd:element name="GetRateResponse">
        <xsd:complexType><xsd:sequence>
          <xsd:element name="amount" type="xsd:decimal"/>
        </xsd:sequence></xsd:complexType>
      </xsd:element>
    </xsd:schema>
  </types>
  <message name="GetRateIn"><part name="parameters" element="tns:GetRate"/></message>
  <message name="GetRateOut"><part name="parameters" element="tns:GetRateResponse"/></message>
  <portType name="ShippingPort">
    <operation name="GetRate"><input message="tns:GetRateIn"/><output message="tns:GetRateOut"/></operation>
  </portType>
  <binding name="ShippingBinding" type="tns:ShippingPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="GetRate">
      <soap:operation soapAction="{SOAP_NS}#GetRate"/>
      <input><soap:body use="literal"/></input>
      <output><soap:body use="literal"/></output>
    </operation>
  </binding>
  <service name="ShippingService">
    <port name="ShippingPort" binding="tns:ShippingBinding"><soap:address location="ADDRESS"/></port>
  </service>
</definitions>
"""


def _fault(code: str, text: str, detail: str = "") -> bytes:
    extra = f"<detail><tns:error xmlns:tns=\"{SOAP_NS}\">{detail}</tns:error></detail>" if detail else ""
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
            "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
            f"<soapenv:Fault><faultcode>{code}</faultcode><faultstring>{text}</faultstring>{extra}</soapenv:Fault>"
            "</soapenv:Body></soapenv:Envelope>").encode()


class _SoapHandler(http.server.BaseHTTPRequestHandler):
    """`/ship/<mode>`: reads the envelope, checks the key and postal code like a carrier's rating service would;
    mode `down` is a backend outage (Server fault), `quota` a quota fault; `maintenance` is the plain-text 503 of
    an Envoy-like sidecar in front, `basic` its empty 401."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/xml; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        from lxml import etree

        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        mode = self.path.rsplit("/", 1)[-1]
        if mode == "basic":
            self._send(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="carrier-gateway"'})
            return
        if mode == "maintenance":
            self._send(503, b"upstream connect error or disconnect/reset before headers. reset reason: "
                       b"connection failure", "text/plain")
            return
        doc = etree.fromstring(body)
        values = {el.tag.split("}")[-1]: (el.text or "") for el in doc.iter() if isinstance(el.tag, str)}
        if values.get("apiKey") != "carrier-key-73":
            self._send(500, _fault("soapenv:Client.Authentication", "Authentication failed: the API key is "
                                   "invalid or has been revoked", "code=AUTH-401"))
        elif mode == "quota":
            self._send(500, _fault("soapenv:Server.QuotaExceeded", "Daily request quota of 5000 calls exceeded "
                                   "for this account; retry after 00:00 UTC", "code=QUOTA-429"))
        elif mode == "down":
            self._send(500, _fault("soapenv:Server", "Rating engine unavailable: upstream tariff service is "
                                   "not responding", "code=SRV-503"))
        elif not values.get("postalCode", "").isdigit() or len(values["postalCode"]) != 5:
            self._send(500, _fault("soapenv:Client", f"Invalid postalCode '{values.get('postalCode')}': "
                                   "expected 5 digits", "field=postalCode"))
        else:
            self._send(200, b"")


class _Threaded(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _serve(env: Env, handler: type[http.server.BaseHTTPRequestHandler]) -> int:
    server = _Threaded(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return int(server.server_address[1])


def soap_server(env: Env) -> tuple[str, Path]:
    """Start the SOAP responder; return its base URL and the path of a WSDL pointing at `/ship/ok`."""
    base = f"http://127.0.0.1:{_serve(env, _SoapHandler)}/ship"
    wsdl = env.tmp / "shipping73.wsdl"
    wsdl.write_text(WSDL.replace("ADDRESS", f"{base}/ok"), encoding="utf-8")
    return base, wsdl


# --------------------------------------------------------------------------- JSON-RPC (jsonrpcserver)

JSONRPC_TOKEN = "rpc-token-73"


def _jsonrpc_methods(env: Env) -> dict[str, Any]:
    from jsonrpcserver import Error, InvalidParams, Result, Success

    calls: list[float] = []

    def get_invoice(invoice_id: int) -> Result:
        if not isinstance(invoice_id, int):
            return InvalidParams(f"invoice_id must be an integer, got {invoice_id!r}")
        return Success({"id": invoice_id, "total": 10})

    def reserve_stock(sku: str, quantity: int) -> Result:
        # the inventory backend this method calls is down: a real connect to a closed port
        with socket.create_connection(("127.0.0.1", env.closed_port), timeout=2):
            pass
        return Success(True)

    def list_payouts(token: str) -> Result:
        if token != JSONRPC_TOKEN:
            return Error(-32001, "Unauthorized: invalid or expired access token")
        return Success([])

    def search(term: str) -> Result:
        calls.append(time.monotonic())
        if len(calls) > 2:
            return Error(-32005, "Rate limit exceeded: 2 requests per minute", {"retry_after": 60})
        return Success([])

    return {"get_invoice": get_invoice, "reserve_stock": reserve_stock, "list_payouts": list_payouts,
            "search": search}


def jsonrpc_server(env: Env) -> str:
    """Start the JSON-RPC endpoint (`/rpc`; `/down/rpc` answers 503); return its base URL."""
    from jsonrpcserver import dispatch

    methods = _jsonrpc_methods(env)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            if self.path.startswith("/down"):
                status, out = 503, b"upstream connect error or disconnect/reset before headers"
            else:
                status, out = 200, dispatch(body, methods=methods).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if status == 200 else "text/plain")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    return f"http://127.0.0.1:{_serve(env, Handler)}"


__all__ = ["GRAPHQL_TOKEN", "JSONRPC_TOKEN", "graphql_server", "jsonrpc_server", "soap_server"]
