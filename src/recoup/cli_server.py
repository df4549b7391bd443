"""``recoup serve``, ``recoup projects ...`` and ``recoup admin ...``: run the service and set it up from a shell.

Kept apart from `recoup.cli` so the library's commands never import FastAPI or SQLAlchemy; each command
imports what it needs when it runs. Every option can also come from the environment (``RECOUP_DB_URL``,
``RECOUP_PORT``, ...), which is how containers are usually configured.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from recoup.store import Store

DEFAULT_DB = "sqlite:///recoup.db"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"

DbOption = Annotated[
    str, typer.Option("--db", envvar="RECOUP_DB_URL", help="sqlite:///FILE or postgresql://USER@HOST/DB.")
]
PublicUrlOption = Annotated[
    str | None,
    typer.Option(
        "--public-url",
        envvar="RECOUP_PUBLIC_URL",
        help="Address clients reach the server at, used in DSNs (default: http://HOST:PORT).",
    ),
]

projects_app = typer.Typer(help="Create and list projects (each has ingest keys and a DSN).", no_args_is_help=True)
admin_app = typer.Typer(help="Admin tokens for the read and management API.", no_args_is_help=True)


def _open(db: str) -> Store:
    """The store at ``db``, migrated; a clear message and exit code 1 when it cannot be reached."""
    from recoup.store import StoreUnavailable, open_store

    try:
        return open_store(db)
    except StoreUnavailable as exc:
        typer.echo(f"recoup: cannot reach the database {db!r}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except Exception as exc:  # a malformed URL or a missing driver is the user's to fix, not a traceback
        typer.echo(f"recoup: cannot open the database {db!r}: {exc}", err=True)
        raise typer.Exit(code=1) from None


def serve(
    db: DbOption = DEFAULT_DB,
    host: Annotated[str, typer.Option(envvar="RECOUP_HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="RECOUP_PORT", min=0, max=65535, help="TCP port.")] = 8000,
    spool_dir: Annotated[
        Path, typer.Option(envvar="RECOUP_SPOOL_DIR", help="Where events wait while the database is down.")
    ] = Path("recoup-spool"),
    retention_days: Annotated[
        float, typer.Option(envvar="RECOUP_RETENTION_DAYS", help="Events older than this are pruned.")
    ] = 30.0,
    rate_limit: Annotated[
        int | None,
        typer.Option(
            "--rate-limit", envvar="RECOUP_RATE_LIMIT", metavar="EVENTS_PER_MIN", help="Default per-key event limit."
        ),
    ] = None,
    public_url: PublicUrlOption = None,
    log_level: Annotated[str, typer.Option(envvar="RECOUP_LOG_LEVEL", help="uvicorn log level.")] = "info",
    workers: Annotated[
        int,
        typer.Option(
            envvar="RECOUP_WORKERS",
            min=1,
            help="Server processes sharing the port (each with its own spool slot; per-key rate limits are "
            "divided among them, so they hold only approximately).",
        ),
    ] = 1,
    commit_window_ms: Annotated[
        float,
        typer.Option(
            "--commit-window-ms",
            envvar="RECOUP_COMMIT_WINDOW_MS",
            min=0.0,
            max=1000.0,
            help="How long an idle writer waits for more concurrent requests to share its transaction.",
        ),
    ] = 2.0,
    incidents_config: Annotated[
        Path | None,
        typer.Option(
            "--incidents-config",
            envvar="RECOUP_INCIDENTS_CONFIG",
            exists=True,
            dir_okay=False,
            help="YAML with alert rules, routing, notification receivers and incident policy "
            "(sections default to the shipped ones).",
        ),
    ] = None,
    fingerprint_rules: Annotated[
        Path | None,
        typer.Option(
            "--fingerprint-rules",
            envvar="RECOUP_FINGERPRINT_RULES",
            exists=True,
            dir_okay=False,
            help="Custom grouping rules, one 'matchers -> fingerprint' line each (e.g. "
            "'error.type:ConnectionError -> network-down'; {{ default }} is the default fingerprint).",
        ),
    ] = None,
    no_incidents: Annotated[
        bool, typer.Option("--no-incidents", envvar="RECOUP_NO_INCIDENTS", help="Do not evaluate alert rules.")
    ] = False,
) -> None:
    """Run the recoup server (migrating the database first). Admin token: $RECOUP_ADMIN_TOKEN or
    `recoup admin create-token`."""
    import os

    import uvicorn

    from recoup.server.settings import SETTINGS_ENV, ServerSettings
    from recoup.store import StoreUnavailable, open_store

    try:
        settings = ServerSettings(
            db_url=db,
            spool_dir=spool_dir,
            retention_days=retention_days,
            default_rate_limit_per_minute=rate_limit,
            public_url=public_url or f"http://{host}:{port}",
            workers=workers,
            commit_window_seconds=commit_window_ms / 1000.0,
            incidents_enabled=not no_incidents,
            incidents_config=incidents_config,
            fingerprint_rules=fingerprint_rules,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if settings.incidents_enabled:
        # A bad rules/routing/receivers/policy file is the user's to fix: say what is wrong, before serving.
        from recoup.incidents.config import IncidentsConfigError, load_incidents_config

        try:
            load_incidents_config(settings.incidents_config)
        except IncidentsConfigError as exc:
            typer.echo(f"recoup serve: the incidents configuration cannot be used:\n{exc}", err=True)
            raise typer.Exit(code=1) from None
    # Migrate once, here, before any worker starts: workers open the store without migrating.
    try:
        store = open_store(settings.db_url)
    except StoreUnavailable as exc:
        typer.echo(f"recoup serve: cannot reach the database {db!r}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    try:
        try:
            has_tokens = bool(store.list_admin_tokens())
        except StoreUnavailable as exc:
            typer.echo(f"recoup serve: cannot reach the database {db!r}: {exc}", err=True)
            raise typer.Exit(code=1) from None
        dialect = store.dialect
    finally:
        store.close()
    if settings.admin_token is None and not has_tokens:
        typer.echo("recoup serve: no admin token yet; create one with `recoup admin create-token`", err=True)
    plural = "es" if workers > 1 else ""
    typer.echo(f"recoup serve: {settings.public_url} (database: {dialect}, {workers} process{plural})", err=True)
    # Workers are separate processes (spawned): they get their settings from the environment.
    os.environ[SETTINGS_ENV] = settings.to_json()
    uvicorn.run(
        "recoup.server.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
    )


@projects_app.command("create")
def projects_create(
    name: Annotated[str, typer.Argument(help="Display name, e.g. 'Checkout API'.")],
    db: DbOption = DEFAULT_DB,
    public_url: PublicUrlOption = None,
    rate_limit: Annotated[
        int | None, typer.Option("--rate-limit", metavar="EVENTS_PER_MIN", help="Limit of the first key.")
    ] = None,
) -> None:
    """Create a project and its first ingest key; print its DSN and native ingest URL."""
    from recoup.server.schemas import native_ingest_url, project_dsn
    from recoup.store import InvalidInput

    base = public_url or DEFAULT_PUBLIC_URL
    store = _open(db)
    try:
        project, key = store.create_project(name, rate_limit_per_minute=rate_limit)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"project:    {project.id} {project.name} ({project.slug})")
    typer.echo(f"ingest key: {key.public_key}")
    typer.echo(f"DSN:        {project_dsn(base, key.public_key, project.id)}")
    typer.echo(f"ingest URL: {native_ingest_url(base)}")
    typer.echo(f"  HttpSink({base!r}, api_key={key.public_key!r})")


@projects_app.command("list")
def projects_list(db: DbOption = DEFAULT_DB, public_url: PublicUrlOption = None) -> None:
    """List projects with their active keys' DSNs."""
    from recoup.server.schemas import project_dsn

    base = public_url or DEFAULT_PUBLIC_URL
    store = _open(db)
    try:
        projects = store.list_projects()
        if not projects:
            typer.echo("no projects yet: recoup projects create NAME")
        for project in projects:
            keys = [k for k in store.list_keys(project.id) if k.active]
            typer.echo(f"{project.id}\t{project.slug}\t{project.name}")
            for key in keys:
                typer.echo(f"\t{project_dsn(base, key.public_key, project.id)}")
    finally:
        store.close()


@admin_app.command("create-token")
def admin_create_token(
    db: DbOption = DEFAULT_DB,
    name: Annotated[str, typer.Option(help="What the token is for (shown in listings).")] = "",
) -> None:
    """Issue an admin token. It is printed once and stored only as a hash."""
    from recoup.store import InvalidInput

    store = _open(db)
    try:
        token, record = store.create_admin_token(name)
    except InvalidInput as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.close()
    typer.echo(token)
    typer.echo(f"admin token {record.id} ({record.prefix}...) created; it is not shown again.", err=True)


def register(app: typer.Typer) -> None:
    """Add the server commands to the ``recoup`` command."""
    app.command("serve")(serve)
    app.add_typer(projects_app, name="projects")
    app.add_typer(admin_app, name="admin")
