"""``recoup chaos proxy``: run the TCP fault proxy from the command line.

Kept apart from `recoup.cli` so ``recoup --help`` never imports the proxy; the command imports it when it
runs. Two ways to use it: a control server speaking toxiproxy's REST API (``--control``, proxies from
``--config`` or created over HTTP), or one quick proxy with its toxics given as flags.
"""

from __future__ import annotations

import random
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

chaos_app = typer.Typer(help="Break real connections on purpose (fault proxy).", no_args_is_help=True)

DEFAULT_CONTROL = "127.0.0.1:8474"


@chaos_app.command("proxy")
def proxy(
    control: Annotated[
        str | None,
        typer.Option(
            "--control",
            help=f"Serve toxiproxy's control API here (default {DEFAULT_CONTROL} unless --upstream is given).",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="toxiproxy JSON config: a list of {name, listen, upstream, enabled[, toxics]}."),
    ] = None,
    upstream: Annotated[
        str | None, typer.Option("--upstream", help="Quick mode: forward --listen to this host:port.")
    ] = None,
    listen: Annotated[str, typer.Option("--listen", help="Quick mode: where to listen (port 0 = any).")] = (
        "127.0.0.1:0"
    ),
    name: Annotated[str, typer.Option("--name", help="Quick mode: the proxy's name in the control API.")] = "proxy",
    toxic: Annotated[
        list[str] | None,
        typer.Option(
            "--toxic",
            help="Quick mode, repeatable: 'type:key=value,...', e.g. 'latency:latency=100,jitter=10,stream=upstream'.",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for toxicity draws, jitter and slice sizes (repeatable runs).")
    ] = None,
) -> None:
    """Run fault proxies until Ctrl-C."""
    from recoup.chaos.proxy import BadRequest, ControlServer, ProxyServer, parse_toxic_spec
    from recoup.chaos.proxy.config import load_config
    from recoup.chaos.proxy.errors import parse_address

    toxics = []
    for spec in toxic or []:
        try:
            toxics.append(parse_toxic_spec(spec))
        except BadRequest as exc:
            typer.echo(f"recoup: bad --toxic {spec!r}: {exc}", err=True)
            raise typer.Exit(code=2) from None
    if toxics and upstream is None:
        typer.echo("recoup: --toxic needs --upstream (quick mode); with --control, add toxics over the API", err=True)
        raise typer.Exit(code=2)
    try:
        parse_address(listen, "--listen")
        if upstream is not None:
            parse_address(upstream, "--upstream")
        if control is not None:
            parse_address(control, "--control")
    except BadRequest as exc:
        typer.echo(f"recoup: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if control is None and upstream is None:
        control = DEFAULT_CONTROL

    server = ProxyServer(rng=random.Random(seed)).start()
    control_server: ControlServer | None = None
    try:
        try:
            if config is not None:
                for shown in load_config(server, config):
                    typer.echo(f"proxy {shown['name']} listening on {shown['listen']} -> {shown['upstream']}")
            if upstream is not None:
                handle = server.create_proxy(name, listen, upstream)
                for built in toxics:
                    server.add_toxic(name, built)
                typer.echo(f"proxy {name} listening on {handle.listen_address} -> {upstream}")
                for built in toxics:
                    typer.echo(f"  toxic {built.name}: {built.to_json()['attributes']} ({built.stream})")
            if control is not None:
                control_server = ControlServer(server, control).start()
                typer.echo(f"control API (toxiproxy-compatible) on {control_server.url}")
        except BadRequest as exc:
            typer.echo(f"recoup: {exc}", err=True)
            raise typer.Exit(code=2) from None
        except OSError as exc:
            typer.echo(f"recoup: cannot listen for the control API on {control}: {exc.strerror or exc}", err=True)
            raise typer.Exit(code=1) from None
        _wait_for_signal()
    finally:
        if control_server is not None:
            control_server.stop()
        server.stop()
    typer.echo("stopped")


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def register(app: typer.Typer) -> None:
    """Add ``recoup chaos ...`` to ``app``."""
    app.add_typer(chaos_app, name="chaos")
