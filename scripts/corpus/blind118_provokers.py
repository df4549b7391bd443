"""Hundred-and-eighteenth batch of blind provokers: Python protocol libraries not seen before, each failing for a
cause provoked here against servers of blind118_support. aioquic HTTP/3 clients (run as scripts, so the QUIC
close reason that aioquic logs comes with the traceback) against a closed UDP port, a self-signed server, a
certificate for another name, plus a garbled PEM bundle; smbprotocol's
smbclient against a private smbd (wrong password, a share of another account, a missing share and file, an
existing directory, a full share, a share limited to one connection, a refused port, a local path instead of a
UNC path); netmiko against a paramiko SSH server with a Cisco-like shell (wrong password, a missing key file, a
refused port, an unknown device_type, a rejected configuration line, a list passed as command); pycares
against UDP DNS servers started here (NXDOMAIN, nothing listening, a malformed name, a callback that is not
callable); zeroconf service names and a closed instance; wsproto handshakes (a wrong Sec-WebSocket-Accept, a
message sent before the handshake); telnetlib3 (the library and its telnetlib3-client CLI: TLS trust, a
connect timeout, a refused port, a missing CA file, a log file on a read-only mount, bytes written to a text
writer); python-nmap wrapping nmap (a missing binary, an unknown option, a list of hosts, an output file on a
read-only mount, a descriptor limit)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

from blind118_support import (
    PASSWORD,
    PY,
    SMB_USER,
    Quic,
    Ssh,
    closed_udp_port,
    dns_server,
    private_smbd,
    quic_servers,
    read_only_dir,
    script,
    ssh_server,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import accept_loop, full_backlog_port, tls_server

BLIND118_SOURCES = frozenset({"aioquic118", "smbprotocol118", "netmiko118", "pycares118", "zeroconf118",
                              "wsproto118", "telnetlib3-118", "python-nmap118"})

_H3_CLIENT = """
import asyncio

from aioquic.asyncio import connect
from aioquic.h3.connection import H3_ALPN
from aioquic.quic.configuration import QuicConfiguration


async def main():
    config = QuicConfiguration(is_client=True, alpn_protocols=H3_ALPN, idle_timeout=4.0, server_name="NAME")
    CAFILE
    async with connect("127.0.0.1", PORT, configuration=config) as client:
        await client.ping()
        print("edge reachable over HTTP/3")


asyncio.run(main())
"""


def _h3(port: int, name: str, cafile: Path | None) -> str:
    ca = f"config.load_verify_locations({str(cafile)!r})" if cafile else "pass"
    return _H3_CLIENT.replace("NAME", name).replace("CAFILE", ca).replace("PORT", str(port))


def _aioquic_tools(q: Quic) -> list[ToolCase]:
    return [
        ("aioquic_closed_udp_port", "network", "ConnectionError",
         script(_h3(closed_udp_port(), "edge.internal", None))),
        ("aioquic_self_signed", "network", "self-signed certificate", script(_h3(q.h3, "edge.internal", None))),
        ("aioquic_hostname_mismatch", "network", "doesn't match",
         script(_h3(q.h3, "cdn-origin.internal", q.cafile))),
    ]


def _aioquic_cases(env: Env, q: Quic) -> list[PyCase]:
    from aioquic.quic.configuration import QuicConfiguration

    def garbled_bundle() -> None:
        config = QuicConfiguration(is_client=True)
        config.load_verify_locations(cadata=q.garbled.read_bytes())
        config.load_cert_chain(q.garbled)

    return [("aioquic_garbled_pem", "validation", "aioquic118", "ValueError", garbled_bundle)]


def _smb_cases(env: Env, smb_port: int) -> list[PyCase]:
    import smbclient

    host = "127.0.0.1"
    auth: dict[str, Any] = {"port": smb_port, "username": SMB_USER, "password": PASSWORD}

    def wrong_password() -> None:
        smbclient.register_session(host, port=smb_port, username=SMB_USER, password="Fleet-Ops-2025",
                                   connection_cache={})

    def upload_full() -> None:
        with smbclient.open_file(rf"\\{host}\scratch\pg-orders-2026-11-29.dump", mode="wb", **auth) as dst:
            for _ in range(40):
                dst.write(b"PGDMP" + b"\0" * 8187)

    def second_report_reader() -> None:
        smbclient.listdir(rf"\\{host}\reports\nightly", **auth)
        smbclient.listdir(rf"\\{host}\reports\nightly", connection_cache={}, **auth)

    return [
        ("smbprotocol_logon_failure", "auth", "smbprotocol118", "LogonFailure", wrong_password),
        ("smbprotocol_share_access_denied", "auth", "smbprotocol118", "SMBOSError",
         lambda: smbclient.listdir(rf"\\{host}\hr-records\2026", **auth)),
        ("smbprotocol_missing_share", "filesystem", "smbprotocol118", "SMBOSError",
         lambda: smbclient.listdir(rf"\\{host}\finance\ledger", **auth)),
        ("smbprotocol_missing_file", "filesystem", "smbprotocol118", "SMBOSError",
         lambda: smbclient.open_file(rf"\\{host}\backups\nightly\pg-orders-2026-11-30.dump", mode="rb",
                                     **auth).read()),
        ("smbprotocol_mkdir_exists", "filesystem", "smbprotocol118", "SMBOSError",
         lambda: smbclient.mkdir(rf"\\{host}\backups\nightly", **auth)),
        ("smbprotocol_disk_full", "resource", "smbprotocol118", "DiskFull|SMBOSError", upload_full),
        ("smbprotocol_share_max_connections", "resource", "smbprotocol118", "SMBResponseException|SMBOSError",
         second_report_reader),
        ("smbprotocol_refused", "network", "smbprotocol118", "ValueError",
         lambda: smbclient.listdir(rf"\\{host}\backups", port=env.closed_port, username=SMB_USER,
                                   password=PASSWORD)),
        ("smbprotocol_local_path", "validation", "smbprotocol118", "ValueError",
         lambda: smbclient.listdir("/mnt/backups/nightly", **auth)),
    ]


def _netmiko_cases(env: Env, ssh: Ssh) -> list[PyCase]:
    from netmiko import ConnectHandler

    base: dict[str, Any] = {"device_type": "cisco_ios", "host": "127.0.0.1", "port": ssh.port, "username": "netops",
                            "conn_timeout": 5, "auth_timeout": 5, "banner_timeout": 5}

    def connect(**over: Any) -> Any:
        return lambda: ConnectHandler(**{**base, "password": PASSWORD, **over})

    def push_config() -> None:
        with ConnectHandler(**base, password=PASSWORD) as conn:
            conn.send_config_set(["interface GigabitEthernet1/0/24", "description uplink-dc2",
                                  "switchport mode trunkk"], error_pattern=r"% Invalid")

    def commands_as_list() -> None:
        with ConnectHandler(**base, password=PASSWORD) as conn:
            conn.send_command(["show version", "show ip interface brief"])

    return [
        ("netmiko_wrong_password", "auth", "netmiko118", "NetmikoAuthenticationException",
         connect(password="Fleet-Ops-2025")),
        ("netmiko_key_file_missing", "filesystem", "netmiko118", "ValueError",
         connect(password=None, use_keys=True, key_file="/home/netops/.ssh/id_ed25519_fleet", allow_agent=False)),
        ("netmiko_refused", "network", "netmiko118", "NetmikoTimeoutException", connect(port=env.closed_port)),
        ("netmiko_unknown_device_type", "validation", "netmiko118", "ValueError",
         connect(device_type="cisco_iosxe_v2")),
        ("netmiko_config_rejected", "validation", "netmiko118", "ConfigInvalidException", push_config),
        ("netmiko_command_list", "programming", "netmiko118", "AttributeError|TypeError", commands_as_list),
    ]


_DNS_HEALTHCHECK = """import sys

import pycares


def resolve(server, name):
    channel = pycares.Channel(servers=[server], timeout=1.0, tries=2)
    answer = {}

    def on_answer(result, error):
        answer["result"], answer["error"] = result, error

    channel.query(name, pycares.QUERY_TYPE_A, callback=on_answer)
    channel.wait()
    if answer["error"]:
        raise pycares.AresError(answer["error"], pycares.errno.strerror(answer["error"]))
    return answer["result"]


for upstream in sys.argv[2:]:
    print(upstream, resolve(sys.argv[1], upstream))
"""


def _pycares_tools(env: Env, nxdomain: int) -> list[ToolCase]:
    check = env.tmp / "ops" / "dns_healthcheck.py"
    check.parent.mkdir(exist_ok=True)
    check.write_text(_DNS_HEALTHCHECK)
    return [
        ("pycares_nxdomain", "network", "Domain name not found",
         [PY, str(check), f"127.0.0.1:{nxdomain}", "orders-db.prod.svc.cluster.local"]),
        ("pycares_no_server", "network", "Could not contact",
         [PY, str(check), f"127.0.0.1:{closed_udp_port()}", "payments-api.prod.svc.cluster.local"]),
    ]


def _pycares_cases(env: Env, nxdomain: int) -> list[PyCase]:
    import pycares

    def resolve(name: str) -> None:
        channel = pycares.Channel(servers=[f"127.0.0.1:{nxdomain}"], timeout=1.0, tries=2)
        channel.query(name, pycares.QUERY_TYPE_A, callback=lambda result, error: None)
        channel.wait()

    def callback_name() -> None:
        channel = pycares.Channel(servers=[f"127.0.0.1:{nxdomain}"])
        channel.query("orders-db.prod.svc.cluster.local", pycares.QUERY_TYPE_A, callback="on_answer")

    return [
        ("pycares_bad_name", "validation", "pycares118", "AresError", lambda: resolve("orders db..prod.svc")),
        ("pycares_callback_not_callable", "programming", "pycares118", "TypeError", callback_name),
    ]


def _zeroconf_cases(env: Env) -> list[PyCase]:
    from zeroconf import IPVersion, ServiceInfo, Zeroconf

    def info(kind: str, name: str) -> ServiceInfo:
        return ServiceInfo(kind, name, port=631, addresses=[socket.inet_aton("127.0.0.1")],
                           server="lab-printer-3.local.")

    def register_after_close() -> None:
        zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
        zc.close()
        zc.register_service(info("_ipp._tcp.local.", "lab-printer-3._ipp._tcp.local."))

    return [
        ("zeroconf_type_without_local", "validation", "zeroconf118", "BadTypeInNameException",
         lambda: info("_ipp._tcp", "lab-printer-3._ipp._tcp")),
        ("zeroconf_register_closed", "programming", "zeroconf118", "RuntimeError", register_after_close),
    ]


def _ws_bad_accept(conn: socket.socket) -> None:
    conn.settimeout(2)
    try:
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    except OSError:
        pass
    conn.close()


def _wsproto_cases(env: Env) -> list[PyCase]:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import Request, TextMessage

    port = accept_loop(env, _ws_bad_accept)

    def handshake() -> None:
        ws = WSConnection(ConnectionType.CLIENT)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(ws.send(Request(host="notify.internal", target="/ws/v2/orders?stream=fills")))
            ws.receive_data(sock.recv(4096))
            list(ws.events())

    def early_message() -> None:
        ws = WSConnection(ConnectionType.CLIENT)
        ws.send(TextMessage(data='{"op": "subscribe", "channel": "fills"}'))

    return [
        ("wsproto_bad_accept_token", "validation", "wsproto118", "RemoteProtocolError", handshake),
        ("wsproto_message_before_handshake", "programming", "wsproto118", "LocalProtocolError", early_message),
    ]


def _telnet_cases(env: Env) -> list[PyCase]:
    import telnetlib3

    tls = tls_server(env, "console.dc2.internal")
    silent = full_backlog_port(env)

    def session(port: int, **kw: Any) -> Any:
        async def main() -> None:
            reader, writer = await telnetlib3.open_connection("127.0.0.1", port, connect_maxwait=0.5, **kw)
            writer.write("show interfaces status\r\n")
            await reader.read(100)
            writer.close()

        return lambda: asyncio.run(main())

    def bytes_to_text_writer() -> None:
        async def main() -> None:
            server = await telnetlib3.create_server("127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            _, writer = await telnetlib3.open_connection("127.0.0.1", port, connect_maxwait=0.5)
            try:
                writer.write(b"enable\r\n")
            finally:
                writer.close()
                server.close()

        asyncio.run(main())

    return [
        ("telnetlib3_self_signed", "network", "telnetlib3-118", "SSLCertVerificationError",
         session(tls.port, ssl=True, server_hostname="console.dc2.internal")),
        ("telnetlib3_connect_timeout", "network", "telnetlib3-118", "ConnectionError|TimeoutError",
         session(silent, connect_timeout=3)),
        ("telnetlib3_bytes_to_text_writer", "programming", "telnetlib3-118", "TypeError", bytes_to_text_writer),
    ]


def _telnet_cli(env: Env, ro: Path) -> list[ToolCase]:
    cli = str(Path(PY).parent / "telnetlib3-client")
    tls = tls_server(env, "console.dc2.internal")
    return [
        ("telnetlib3_cli_refused", "network", "Connect call failed|refused",
         [cli, "--connect-timeout", "5", "127.0.0.1", str(env.closed_port)]),
        ("telnetlib3_cli_cafile_missing", "filesystem", "No such file",
         [cli, "--ssl", "--ssl-cafile", "/etc/ssl/consoles/dc2-console-ca.pem", "127.0.0.1", str(tls.port)]),
        ("telnetlib3_cli_logfile_read_only", "filesystem", "Read-only|Permission denied",
         [cli, "--connect-timeout", "5", "--logfile", str(ro / "sessions" / "core-sw1.log"), "127.0.0.1",
          str(env.closed_port)]),
    ]


def _nmap_cases(env: Env, ro: Path) -> list[PyCase]:
    import nmap

    def scanner() -> Any:
        return nmap.PortScanner()

    return [
        ("python_nmap_binary_missing", "filesystem", "python-nmap118", "PortScannerError",
         lambda: nmap.PortScanner(nmap_search_path=("/opt/security-tools/bin/nmap",))),
        ("python_nmap_unknown_option", "validation", "python-nmap118", "PortScannerError",
         lambda: scanner().scan("127.0.0.1", "5432,6379", arguments="-sV --version-intensty 5")),
        ("python_nmap_hosts_list", "programming", "python-nmap118", "AssertionError",
         lambda: scanner().scan(["10.20.0.15", "10.20.0.16"], "22,443")),
        ("python_nmap_output_read_only", "filesystem", "python-nmap118", "PortScannerError",
         lambda: scanner().scan("127.0.0.1", "22", arguments=f"-sT -oN {ro / 'scans' / 'nightly-dmz.txt'}")),
    ]


_NMAP_FD_LIMIT = """
import resource
import socket

import nmap

scanner = nmap.PortScanner()
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
pool = []
try:
    while True:
        pool.append(socket.socket())  # agent connections that are never closed
except OSError:
    pass
print(scanner.scan("127.0.0.1", "22,80,443,5432", arguments="-sT"))
"""


def blind118_records(env: Env) -> list[Record]:
    quic = quic_servers(env)
    smb_port = private_smbd(env)
    ssh = ssh_server(env)
    ro = read_only_dir(env, "srv118", {"scans/README": "nightly scans\n", "sessions/README": "telnet logs\n"})
    cases: list[PyCase] = []
    cases += _aioquic_cases(env, quic)
    cases += _smb_cases(env, smb_port)
    cases += _netmiko_cases(env, ssh)
    nxdomain = dns_server(env, 3)
    cases += _pycares_cases(env, nxdomain)
    cases += _zeroconf_cases(env)
    cases += _wsproto_cases(env)
    cases += _telnet_cases(env)
    cases += _nmap_cases(env, ro)
    out = python_records(cases)
    out += tool_records(_aioquic_tools(quic), "aioquic118", env.tmp, timeout=60)
    out += tool_records(_telnet_cli(env, ro), "telnetlib3-118", env.tmp, timeout=60)
    out += tool_records(_pycares_tools(env, nxdomain), "pycares118", env.tmp, timeout=60)
    out += tool_records([("python_nmap_fd_limit", "resource", "Too many open files", script(_NMAP_FD_LIMIT))],
                        "python-nmap118", env.tmp, timeout=60)
    return out


if __name__ == "__main__":
    write_batch(blind118_records)


__all__ = ["BLIND118_SOURCES", "blind118_records"]
