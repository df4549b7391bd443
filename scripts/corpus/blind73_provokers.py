"""Seventy-third batch of blind provokers: API protocols beyond REST, each client against a server started here
on 127.0.0.1 (blind73_support). GraphQL through gql against a Strawberry schema behind uvicorn (a field typo and
a syntax error in the code's own documents, local schema validation, a variable of the wrong type from input, a
resolver rejecting input, a permission class and a resolver refusing the caller, 503/429 from the front proxy,
a closed port, a read timeout, the schema file missing, curl posting a broken body, strawberry's export-schema
writing to a read-only mount); SOAP through zeep against a responder answering real Fault envelopes (invalid
input, authentication, backend outage, quota, a bare 503, a gateway 401, an unknown operation or argument in
the calling code, a missing or malformed WSDL, a closed port); JSON-RPC 2.0 through jsonrpc-async against
jsonrpcserver's dispatch (method not found and invalid params from the calling code, invalid params from input,
a parse error from a corrupt forwarded payload, an application error for a refused downstream, unauthorized,
rate limited, a 503 from the proxy, a closed port)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from blind73_support import GRAPHQL_TOKEN, JSONRPC_TOKEN, graphql_server, jsonrpc_server, soap_server
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND73_SOURCES = frozenset({"graphql73", "soap73", "jsonrpc73"})

# --------------------------------------------------------------------------- GraphQL


def _graphql_cases(url: str, env: Env) -> list[PyCase]:
    from gql import Client, GraphQLRequest, gql
    from gql.transport.requests import RequestsHTTPTransport

    def execute(document: str, variables: dict[str, Any] | None = None, endpoint: str = url,
                headers: dict[str, str] | None = None, timeout: int = 5) -> Any:
        transport = RequestsHTTPTransport(url=endpoint, headers=headers, timeout=timeout, retries=0)
        with Client(transport=transport, fetch_schema_from_transport=False) as session:
            return session.execute(GraphQLRequest(gql(document), variable_values=variables))

    def field_typo() -> None:
        execute("query OrderStatus($id: Int!) { order(id: $id) { id status totl } }", {"id": 7})

    def syntax_error() -> None:
        execute("query OrderStatus($id: Int!) { order(id: $id) { id status ")

    def local_validation() -> None:
        sdl = "type Order { id: Int! status: String! total: Float! }\ntype Query { order(id: Int!): Order! }"
        client = Client(schema=sdl)
        client.validate(gql("{ order(id: 7) { id shippingAddress } }"))

    def variable_from_input() -> None:
        raw_arg = "A-1042"  # an order number pasted from a ticket, where an integer id is expected
        execute("query OrderStatus($id: Int!) { order(id: $id) { id status } }", {"id": raw_arg})

    def resolver_rejects() -> None:
        execute("mutation Place($q: Int!, $sku: String!) { createOrder(quantity: $q, sku: $sku) { id } }",
                {"q": -3, "sku": "KB-01"})

    def not_authenticated() -> None:
        execute("{ payroll { id total } }", headers={"Authorization": "Bearer expired-token"})

    def forbidden() -> None:
        execute("mutation { refundOrder(orderId: 7) { id status } }",
                headers={"Authorization": f"Bearer {GRAPHQL_TOKEN}", "X-Roles": "support"})

    def schema_file_missing() -> None:
        path = env.tmp / "schema" / "api73.graphql"
        Client(schema=path.read_text(encoding="utf-8"))

    query = "{ order(id: 7) { id } }"
    return [
        ("gql_field_typo", "programming", "graphql73", "TransportQueryError", field_typo),
        ("gql_syntax_error", "programming", "graphql73", "GraphQLSyntaxError|GraphQLError", syntax_error),
        ("gql_local_validation", "programming", "graphql73", "GraphQLError", local_validation),
        ("gql_variable_wrong_type", "validation", "graphql73", "TransportQueryError", variable_from_input),
        ("gql_resolver_rejects_input", "validation", "graphql73", "TransportQueryError", resolver_rejects),
        ("gql_not_authenticated", "auth", "graphql73", "TransportQueryError", not_authenticated),
        ("gql_forbidden", "auth", "graphql73", "TransportQueryError", forbidden),
        ("gql_503", "service", "graphql73", "TransportServerError", lambda: execute(query, endpoint=env.url(503))),
        ("gql_429", "resource", "graphql73", "TransportServerError", lambda: execute(query, endpoint=env.url(429))),
        ("gql_refused", "network", "graphql73", "ConnectionError|TransportConnectionFailed",
         lambda: execute(query, endpoint=f"http://127.0.0.1:{env.closed_port}/graphql")),
        ("gql_read_timeout", "network", "graphql73", "Timeout|TransportConnectionFailed",
         lambda: execute(query, endpoint=f"http://127.0.0.1:{env.hang_port}/graphql", timeout=2)),
        ("gql_schema_file_missing", "filesystem", "graphql73", "FileNotFoundError", schema_file_missing),
    ]


_SCHEMA_MODULE = '''import strawberry


@strawberry.type
class Query:
    version: str = "1.0"


schema = strawberry.Schema(query=Query)
'''


def _graphql_tools(url: str) -> list[ToolCase]:
    return [
        ("curl_graphql_bad_body", "validation", "400|JSON",
         f"curl -sS --fail-with-body -H 'Content-Type: application/json' --data '{{\"query\": \"{{ order(id: 7) "
         f"{{ id }} }}\", ' {url}"),
        ("strawberry_export_read_only", "filesystem", "Read-only",
         "cd TMP && PYTHONPATH=TMP VENV/strawberry export-schema api73_schema:schema --output RODIR/schema.graphql"),
    ]


# --------------------------------------------------------------------------- SOAP


def _soap_cases(base: str, wsdl: Path, env: Env) -> list[PyCase]:
    import zeep
    from zeep.transports import Transport

    def call(mode: str, postal: str = "10115", key: str = "carrier-key-73") -> Any:
        client = zeep.Client(str(wsdl), transport=Transport(timeout=5, operation_timeout=5))
        service = client.create_service("{urn:b73:shipping}ShippingBinding", f"{base}/{mode}")
        return service.GetRate(postalCode=postal, weightKg="2.5", apiKey=key)

    def unknown_operation() -> None:
        client = zeep.Client(str(wsdl))
        client.service.GetRates(postalCode="10115", weightKg="2.5", apiKey="carrier-key-73")

    def unknown_argument() -> None:
        client = zeep.Client(str(wsdl))
        client.service.GetRate(postcode="10115", weightKg="2.5", apiKey="carrier-key-73")

    def malformed_wsdl() -> None:
        broken = env.tmp / "carrier73_truncated.wsdl"
        text = wsdl.read_text(encoding="utf-8")
        broken.write_text(text[: len(text) // 2], encoding="utf-8")  # a download cut off half-way
        zeep.Client(str(broken))

    def refused() -> None:
        client = zeep.Client(str(wsdl), transport=Transport(timeout=3, operation_timeout=3))
        service = client.create_service("{urn:b73:shipping}ShippingBinding",
                                        f"http://127.0.0.1:{env.closed_port}/ship")
        service.GetRate(postalCode="10115", weightKg="2.5", apiKey="carrier-key-73")

    return [
        ("zeep_fault_invalid_input", "validation", "soap73", "Fault", lambda: call("ok", postal="1O1I5")),
        ("zeep_fault_authentication", "auth", "soap73", "Fault", lambda: call("ok", key="carrier-key-revoked")),
        ("zeep_fault_server", "service", "soap73", "Fault", lambda: call("down")),
        ("zeep_fault_quota", "resource", "soap73", "Fault", lambda: call("quota")),
        ("zeep_http_503", "service", "soap73", "TransportError", lambda: call("maintenance")),
        ("zeep_gateway_401", "auth", "soap73", "TransportError", lambda: call("basic")),
        ("zeep_unknown_operation", "programming", "soap73", "AttributeError", unknown_operation),
        ("zeep_unknown_argument", "programming", "soap73", "TypeError", unknown_argument),
        ("zeep_wsdl_missing", "filesystem", "soap73", "FileNotFoundError|OSError",
         lambda: zeep.Client(str(env.tmp / "wsdl" / "carrier73.wsdl"))),
        ("zeep_wsdl_malformed", "validation", "soap73", "XMLSyntaxError", malformed_wsdl),
        ("zeep_refused", "network", "soap73", "ConnectionError", refused),
    ]


# --------------------------------------------------------------------------- JSON-RPC


def _jsonrpc_cases(base: str, env: Env) -> list[PyCase]:
    import aiohttp
    import jsonrpc_async
    from jsonrpc_base import Request

    def rpc(method: str, *args: Any, endpoint: str = f"{base}/rpc", **kwargs: Any) -> Any:
        async def go() -> Any:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
                server = jsonrpc_async.Server(endpoint, session=session)
                return await getattr(server, method)(*args, **kwargs)

        return asyncio.run(go())

    def forward_corrupt_payload() -> None:
        # a relay forwards a request body it read from a spool file that was cut short
        spool = env.tmp / "rpc73_spool.json"
        spool.write_text('{"jsonrpc": "2.0", "method": "get_invoice", "params": {"invoice_id": 4', encoding="utf-8")

        async def go() -> Any:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{base}/rpc", data=spool.read_bytes(), headers={"Content-Type": "application/json"}) as resp:
                return Request("get_invoice", msg_id=1).parse_response(await resp.json())

        asyncio.run(go())

    def rate_limited() -> None:
        for _ in range(3):
            rpc("search", term="invoice 2026-11")

    return [
        ("jsonrpc_method_not_found", "programming", "jsonrpc73", "ProtocolError",
         lambda: rpc("get_invoices", invoice_id=4)),
        ("jsonrpc_params_from_code", "programming", "jsonrpc73", "ProtocolError",
         lambda: rpc("get_invoice", id=4)),
        ("jsonrpc_params_from_input", "validation", "jsonrpc73", "ProtocolError",
         lambda: rpc("get_invoice", invoice_id="INV-0004")),
        ("jsonrpc_parse_error", "validation", "jsonrpc73", "ProtocolError", forward_corrupt_payload),
        ("jsonrpc_downstream_refused", "network", "jsonrpc73", "ProtocolError",
         lambda: rpc("reserve_stock", sku="KB-01", quantity=2)),
        ("jsonrpc_unauthorized", "auth", "jsonrpc73", "ProtocolError",
         lambda: rpc("list_payouts", token=JSONRPC_TOKEN[::-1])),
        ("jsonrpc_rate_limited", "resource", "jsonrpc73", "ProtocolError", rate_limited),
        ("jsonrpc_http_503", "service", "jsonrpc73", "TransportError",
         lambda: rpc("get_invoice", invoice_id=4, endpoint=f"{base}/down/rpc")),
        ("jsonrpc_refused", "network", "jsonrpc73", "TransportError",
         lambda: rpc("get_invoice", invoice_id=4, endpoint=f"http://127.0.0.1:{env.closed_port}/rpc")),
    ]


def blind73_records(env: Env) -> list[Record]:
    gql_url = graphql_server(env)
    soap_base, wsdl = soap_server(env)
    rpc_base = jsonrpc_server(env)
    ro = mount_tmpfs(env, "ro73", "size=64k,ro")
    (env.tmp / "api73_schema.py").write_text(_SCHEMA_MODULE, encoding="utf-8")
    venv_bin = Path(__file__).resolve().parents[2] / ".venv" / "bin"

    def fill(text: str) -> str:
        return text.replace("RODIR", str(ro)).replace("TMP", str(env.tmp)).replace("VENV", str(venv_bin))

    out = python_records(_graphql_cases(gql_url, env))
    out += tool_records(_graphql_tools(gql_url), "graphql73", env.tmp, fill)
    out += python_records(_soap_cases(soap_base, wsdl, env))
    out += python_records(_jsonrpc_cases(rpc_base, env))
    return out


if __name__ == "__main__":
    write_batch(blind73_records)


__all__ = ["BLIND73_SOURCES", "blind73_records"]
