"""Web applications and servers for batch 77, all on 127.0.0.1: Starlette, Litestar and Falcon/Bottle apps with
their real servers (uvicorn in a thread, waitress in a thread), a Django + REST framework API (token
authentication in a sqlite file, a staff-only view, an anonymous throttle) behind waitress, Quart under a
hypercorn process and Sanic under its own server process (a separate venv, see SANIC_PYTHON), and a private
nginx reverse proxy in front of an upstream that is gone or too slow. Each start registers its own stop on the
`Env`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from common import Env, free_port
from servers import _wait_port

#: sanic would downgrade multidict in the project venv: it lives in its own venv (python3 -m venv)
SANIC_PYTHON = Path("/tmp/recoup-corpus-77/bin/python")
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"

# the servers' own access and error logs would print the failures on the batch's stderr: keep them quiet
for _name in ("waitress", "uvicorn", "uvicorn.error", "litestar", "django", "django.request"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)


def thread_uvicorn(env: Env, app: Any, **config: Any) -> int:
    """Serve an ASGI app with uvicorn in a thread on a free port; return the port (stopped with `env`)."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical",
                                           lifespan="off", **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    env._closers.append(stop)
    _wait_port(port)
    return port


def thread_waitress(env: Env, app: Any) -> int:
    """Serve a WSGI app with waitress in a thread on a free port; return the port."""
    import waitress

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    port: int = server.effective_port  # type: ignore[union-attr]

    def serve() -> None:
        with contextlib.suppress(OSError):  # closing from the batch's thread ends its select() with EBADF
            server.run()

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(server.close)
    _wait_port(port)
    return port


def server_process(env: Env, argv: list[str], port: int, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start a server command whose output goes to `log`; wait until it listens on `port`."""
    handle = log.open("wb")
    proc = subprocess.Popen(argv, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT)
    env._closers.append(handle.close)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.terminate)
    _wait_port(port)
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# --------------------------------------------------------------------------- nginx in front


def private_nginx(env: Env, routes: dict[str, int], read_timeout: str = "1s") -> int:
    """A private nginx (own prefix, pid and logs) proxying `/<name>/` to 127.0.0.1:<port>; returns its port."""
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-nginx77-"))
    port = free_port()
    locations = "".join(
        f"    location /{name}/ {{ proxy_pass http://127.0.0.1:{upstream}/; proxy_connect_timeout 2s; "
        f"proxy_read_timeout {read_timeout}; }}\n" for name, upstream in routes.items())
    (root / "nginx.conf").write_text(
        f"worker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {root}/body;\n  proxy_temp_path {root}/proxy;\n"
        f"  fastcgi_temp_path {root}/fcgi;\n  uwsgi_temp_path {root}/uwsgi;\n  scgi_temp_path {root}/scgi;\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n{locations}  }}\n}}\n")
    subprocess.run(["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log")],
                   check=True, capture_output=True)

    def stop() -> None:
        subprocess.run(["nginx", "-p", str(root), "-c", str(root / "nginx.conf"), "-e", str(root / "error.log"),
                        "-s", "stop"], check=False, capture_output=True)

    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    env._closers.append(stop)
    _wait_port(port)
    return port


# --------------------------------------------------------------------------- Starlette


def starlette_app(upload_dir: Path) -> Any:
    """An inventory API: `/sku/{code}` reads a price table, `/slow` is a report that takes 3 s, `/stock` is
    served from a warehouse client that was never set up, `/upload` keeps a posted CSV (spooled by Starlette)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    prices = {"KB-01": 49.0, "MS-02": 19.5}

    class Warehouse:
        client = None

    async def sku(request: Any) -> JSONResponse:
        code = request.path_params["code"]
        return JSONResponse({"sku": code, "price": prices[code.upper().replace("_", "-")]})

    async def slow(request: Any) -> JSONResponse:
        await asyncio.sleep(3)
        return JSONResponse({"report": "done"})

    async def stock(request: Any) -> JSONResponse:
        return JSONResponse({"on_hand": Warehouse.client.count(request.query_params.get("sku"))})  # type: ignore

    async def upload(request: Any) -> JSONResponse:
        form = await request.form(max_part_size=64 * 1024 * 1024)
        sheet = form["sheet"]
        (upload_dir / "sheet.csv").write_bytes(await sheet.read())
        return JSONResponse({"stored": sheet.filename})

    async def order(request: Any) -> JSONResponse:
        from pydantic import BaseModel, PositiveInt

        class OrderIn(BaseModel):
            sku: str
            quantity: PositiveInt
            email: str

        data = OrderIn.model_validate(await request.json())
        return JSONResponse(data.model_dump())

    return Starlette(routes=[Route("/sku/{code}", sku), Route("/slow", slow), Route("/stock", stock),
                             Route("/upload", upload, methods=["POST"]), Route("/orders", order, methods=["POST"])])


# --------------------------------------------------------------------------- Litestar


def litestar_app() -> Any:
    """Orders API with a msgspec body, a token guard on `/payouts`, and a rate limit of 2 a minute on `/search`."""
    import msgspec
    from litestar import Litestar, Request, get, post
    from litestar.connection import ASGIConnection
    from litestar.exceptions import NotAuthorizedException
    from litestar.handlers.base import BaseRouteHandler
    from litestar.middleware.rate_limit import RateLimitConfig

    class OrderIn(msgspec.Struct):
        sku: str
        quantity: int
        unit_price: float

    def token_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if connection.headers.get("authorization") != "Bearer b77-payouts":
            raise NotAuthorizedException(detail="Invalid or expired bearer token")

    @post("/orders")
    async def create_order(data: OrderIn) -> dict[str, Any]:
        return {"sku": data.sku}

    @get("/payouts", guards=[token_guard])
    async def payouts() -> list[dict[str, Any]]:
        return []

    @get("/search")
    async def search(request: Request[Any, Any, Any], q: str) -> list[str]:
        return [q]

    rate = RateLimitConfig(rate_limit=("minute", 2), exclude=["/orders", "/payouts"])
    return Litestar(route_handlers=[create_order, payouts, search], middleware=[rate.middleware], debug=False,
                    logging_config=None, signature_namespace={"OrderIn": OrderIn, "Any": Any, "Request": Request})


# --------------------------------------------------------------------------- Falcon (WSGI)


def falcon_app() -> Any:
    """Catalogue API: `/items?limit=` takes an integer, `/orders` loads its body with a marshmallow schema
    (errors answered as 422)."""
    import falcon
    import marshmallow
    from marshmallow import Schema, fields, validate

    class OrderSchema(Schema):
        sku = fields.String(required=True)
        quantity = fields.Integer(required=True, validate=validate.Range(min=1))
        ship_date = fields.Date(required=True)

    class Items:
        def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {"items": [], "limit": req.get_param_as_int("limit", min_value=1, max_value=100)}

    class Orders:
        def on_post(self, req: Any, resp: Any) -> None:
            resp.media = OrderSchema().load(req.get_media())
            resp.status = falcon.HTTP_201

    def invalid(req: Any, resp: Any, exc: marshmallow.ValidationError, params: Any) -> None:
        raise falcon.HTTPUnprocessableEntity(title="Invalid order", description=exc.messages)

    app = falcon.App()
    app.add_route("/items", Items())
    app.add_route("/orders", Orders())
    app.add_error_handler(marshmallow.ValidationError, invalid)
    return app


# --------------------------------------------------------------------------- Bottle (WSGI)


def bottle_app() -> Any:
    """Notes API: `/notes` reads a JSON body, `/admin` is behind HTTP basic auth."""
    import bottle

    app = bottle.Bottle()

    @app.post("/notes", name="create_note")
    def create_note() -> dict[str, Any]:
        note = bottle.request.json
        return {"title": note["title"]}

    @app.get("/admin/export")
    @bottle.auth_basic(lambda user, password: (user, password) == ("admin", "b77-admin-secret"))
    def export() -> dict[str, Any]:
        return {"rows": 0}

    return app


BOTTLE_CRASH_MODULE = '''import bottle

app = bottle.Bottle(catchall=False)

RATES = {"EUR": 1.0, "USD": 1.08}


@app.get("/convert")
def convert():
    amount = bottle.request.query.get("amount", "10")
    return {"converted": amount * RATES["USD"]}
'''

# --------------------------------------------------------------------------- Quart (hypercorn)

QUART_MODULE = '''from pathlib import Path

from quart import Quart, abort, request, send_file

app = Quart(__name__)


class Settings:
    pass


SETTINGS = Settings()


@app.get("/profile/<int:user_id>")
async def profile(user_id):
    return {"id": user_id, "theme": SETTINGS.default_theme}


@app.get("/exports/<name>")
async def export(name):
    return await send_file(Path(__file__).parent / "exports77" / name)


@app.delete("/projects/<int:project_id>")
async def delete_project(project_id):
    if request.headers.get("X-Role") != "owner":
        abort(403, description="Only the project owner may delete a project.")
    return {"deleted": project_id}
'''

# --------------------------------------------------------------------------- Sanic

SANIC_MODULE = '''from sanic import Sanic, json
from sanic.exceptions import BadRequest, Unauthorized

app = Sanic("shop77")


@app.post("/carts")
async def create_cart(request):
    body = request.json
    return json({"items": len(body["items"])})


@app.get("/wallet")
async def wallet(request):
    if request.token != "b77-wallet":
        raise Unauthorized("Invalid API token", scheme="Bearer", realm="wallet")
    return json({"balance": 0})


@app.get("/discount")
async def discount(request):
    percent = request.args.get("percent", "10")
    return json({"factor": 1 - percent / 100})
'''

# --------------------------------------------------------------------------- Django REST framework

DRF_TOKEN = "b77" + "0" * 37  # a member's token (not staff)


def django_app(root: Path) -> Any:
    """Configure Django in this process (sqlite file under `root`), migrate, create a member with a token, and
    return the WSGI app of a small REST framework API."""
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False, SECRET_KEY="b77-not-secret", ALLOWED_HOSTS=["127.0.0.1", "testserver", "localhost"],
        ROOT_URLCONF="blind77_support", USE_TZ=True,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(root / "api77.sqlite3")}},
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
                        "rest_framework.authtoken"],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
            "DEFAULT_THROTTLE_RATES": {"anon": "2/minute"},
        },
        LOGGING_CONFIG=None,
    )
    django.setup()
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    member = User.objects.create_user("member77", password="member-pass")
    Token.objects.create(user=member, key=DRF_TOKEN)
    return get_wsgi_application()


def drf_serializers() -> Any:
    from rest_framework import serializers

    class InvoiceSerializer(serializers.Serializer):
        customer = serializers.CharField(max_length=40)
        amount = serializers.DecimalField(max_digits=8, decimal_places=2, min_value=0)
        due = serializers.DateField()
        currency = serializers.ChoiceField(choices=["EUR", "USD"])

    return InvoiceSerializer


def _urlpatterns() -> list[Any]:
    from django.urls import path
    from rest_framework import permissions, throttling
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Invoices(APIView):
        permission_classes = (permissions.AllowAny,)

        def post(self, request: Any) -> Response:
            serializer = drf_serializers()(data=request.data)
            serializer.is_valid(raise_exception=True)
            return Response(serializer.validated_data, status=201)

    class Me(APIView):
        permission_classes = (permissions.IsAuthenticated,)

        def get(self, request: Any) -> Response:
            return Response({"user": request.user.username})

    class AuditLog(APIView):
        permission_classes = (permissions.IsAdminUser,)

        def get(self, request: Any) -> Response:
            return Response([])

    class Lookup(APIView):
        authentication_classes = ()
        permission_classes = (permissions.AllowAny,)
        throttle_classes = (throttling.AnonRateThrottle,)

        def get(self, request: Any) -> Response:
            return Response({"vat_id": request.query_params.get("vat_id")})

    return [path("api/invoices/", Invoices.as_view()), path("api/me/", Me.as_view()),
            path("api/audit-log/", AuditLog.as_view()), path("api/vat-lookup/", Lookup.as_view())]


def __getattr__(name: str) -> Any:  # Django reads ROOT_URLCONF's urlpatterns lazily, after setup
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


__all__ = ["BOTTLE_CRASH_MODULE", "DRF_TOKEN", "QUART_MODULE", "SANIC_MODULE", "SANIC_PYTHON", "VENV_BIN",
           "bottle_app", "django_app", "drf_serializers", "falcon_app", "litestar_app", "private_nginx",
           "server_process", "starlette_app", "stop_process", "thread_uvicorn", "thread_waitress"]
