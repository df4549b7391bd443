"""Fixtures of the hundred-and-fifteenth batch: data files for the Unix data tools (an XML feed and its XSD, CSV
and JSON exports, YAML manifests, 7z/zstd/xz archives, some of them corrupt, truncated or password-protected), a
full and a read-only tmpfs, and the private servers the network tools fail against: a DNS responder (dnspython)
that answers NXDOMAIN, SERVFAIL or REFUSED, a UDP port that swallows queries, a static HTTP server with a large
file, iperf3 servers (one with RSA user authentication, a busy one, an idle one) and a slapd with a small directory."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from common import Env, free_port, run
from servers import _wait_port, mount_tmpfs

ZONE = "corp.northwind.internal."
BASE_DN = "dc=northwind,dc=internal"
ADMIN_DN = f"cn=admin,{BASE_DN}"
ADMIN_PW = "Adm1n-ldap-2026"


@dataclass
class Fixtures:
    """Paths and ports of the batch's fixtures."""

    root: Path
    full: Path
    ro: Path
    dns_port: int
    mute_dns_port: int
    files_port: int
    iperf_auth_port: int
    iperf_busy_port: int
    iperf_plain_port: int
    iperf_pub: Path
    ldap_port: int


# --------------------------------------------------------------------------- data files


def _write_data(root: Path) -> None:
    (root / "feeds").mkdir()
    (root / "feeds" / "catalog.xml").write_text(
        '<?xml version="1.0"?>\n<catalog region="eu-west">\n  <product sku="NW-1001"><name>Chai</name>'
        "<price>18.00</price></product>\n  <product sku=\"NW-1002\"><name>Chang</name><price>19.00</price>\n"
        "  </product>\n  <product sku=\"NW-1003\"><name>Aniseed Syrup</name><price>10.00</price></prodcut>\n"
        "</catalog>\n")
    (root / "feeds" / "orders.xml").write_text(
        '<?xml version="1.0"?>\n<orders>\n  <order id="10248"><customer>VINET</customer><total>32.38</total>'
        '</order>\n  <order id="10249"><customer>TOMSP</customer><total>eleven</total></order>\n</orders>\n')
    (root / "feeds" / "orders.xsd").write_text(
        '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        '  <xs:element name="orders"><xs:complexType><xs:sequence>\n'
        '    <xs:element name="order" maxOccurs="unbounded"><xs:complexType><xs:sequence>\n'
        '      <xs:element name="customer" type="xs:string"/><xs:element name="total" type="xs:decimal"/>\n'
        '    </xs:sequence><xs:attribute name="id" type="xs:integer" use="required"/></xs:complexType>'
        "</xs:element>\n  </xs:sequence></xs:complexType></xs:element>\n</xs:schema>\n")
    (root / "exports").mkdir()
    (root / "exports" / "shipments-2026-11.csv").write_text(
        "shipment_id,carrier,origin,weight_kg,cost_eur\nS-88121,DHL,Hamburg,12.5,41.20\n"
        "S-88122,UPS,Rotterdam,7.0,29.90,EXPRESS\nS-88123,DPD,Lyon,3.2,11.75\n")
    (root / "exports" / "latency-by-region.tsv").write_text(
        "eu-west\t41.2\neu-west\t38.9\nus-east\tN/A\nus-east\t102.4\n")
    (root / "exports" / "sessions.json").write_text('[{"user": "ana", "dur": 31},\n {"user": "bo", "dur": 12,}\n]\n')
    (root / "deploy").mkdir()
    (root / "deploy" / "values-prod.yaml").write_text(
        "replicaCount: 3\nimage:\n  repository: registry.northwind.internal/billing-api\n  tag: 4.12.1\n"
        "  pullPolicy: IfNotPresent\n resources:\n  limits:\n    memory: 512Mi\n")
    (root / "deploy" / "values-ok.yaml").write_text(
        "replicaCount: 3\nimage:\n  repository: registry.northwind.internal/billing-api\n  tag: 4.12.1\n"
        "ingress:\n  hosts: [billing.northwind.internal]\n")


def _write_archives(root: Path) -> None:
    arch = root / "backups"
    arch.mkdir()
    payload = arch / "src"
    payload.mkdir()
    (payload / "ledger-2026-11.csv").write_text("".join(f"{i},INV-{i:06d},{i * 3.17:.2f}\n" for i in range(40000)))
    (payload / "notes.txt").write_text("month-end close\n" * 200)
    blob = arch / "pg-dump-billing.sql"
    blob.write_bytes(bytes(range(256)) * 16384 + b"-- end of dump\n")  # 4 MiB, compresses well
    subprocess.run(["7z", "a", "-bd", "-y", str(arch / "ledger-2026-11.7z"), str(payload)], check=True,
                   capture_output=True)
    subprocess.run(["7z", "a", "-bd", "-y", "-pQuarterEnd!2026", "-mhe=off", str(arch / "payroll-2026-11.7z"),
                    str(payload / "notes.txt")], check=True, capture_output=True)
    data = (arch / "ledger-2026-11.7z").read_bytes()
    (arch / "ledger-2026-10.7z").write_bytes(data[: len(data) // 2])  # truncated upload
    mid = len(data) // 3
    (arch / "ledger-2026-09.7z").write_bytes(data[:mid] + bytes(b ^ 0x5A for b in data[mid:mid + 64])
                                             + data[mid + 64:])  # flipped bytes inside the packed stream
    (arch / "export-2026-11.7z").write_bytes(b"<html><body><h1>502 Bad Gateway</h1></body></html>\n" * 20)
    with blob.open("rb") as src, (arch / "pg-dump-billing.sql.zst").open("wb") as dst:  # streamed: full window
        subprocess.run(["zstd", "-q", "-19", "--long=27"], stdin=src, stdout=dst, check=True)
    zst = (arch / "pg-dump-billing.sql.zst").read_bytes()
    (arch / "pg-dump-billing-partial.sql.zst").write_bytes(zst[: len(zst) // 2])
    (arch / "metrics-2026-11.zst").write_text("".join(f'{{"ts": {1764400000 + i}, "cpu": 0.{i % 97:02d}}}\n'
                                                      for i in range(500)))  # saved uncompressed
    subprocess.run(["xz", "-k", "-f", "-9", str(blob)], check=True, capture_output=True)
    xz = (arch / "pg-dump-billing.sql.xz").read_bytes()
    (arch / "pg-dump-billing-partial.sql.xz").write_bytes(xz[: len(xz) // 2])
    m = len(xz) // 2
    (arch / "pg-dump-billing-bitrot.sql.xz").write_bytes(xz[:m] + bytes(b ^ 0xFF for b in xz[m:m + 32]) + xz[m + 32:])
    (arch / "app-logs-2026-11.tar.xz").write_bytes(b"PK\x03\x04" + b"zip, not xz" * 40)
    subprocess.run(["xz", "-k", "-f", "-9e", "--lzma2=dict=192MiB", "-c", str(payload / "notes.txt")],
                   stdout=(arch / "notes-bigdict.txt.xz").open("wb"), check=True)


def _fill_mounts(env: Env, root: Path) -> tuple[Path, Path]:
    full = mount_tmpfs(env, "full115", "size=256k")
    (full / "reserved.bin").write_bytes(b"\0" * 240 * 1024)
    ro = mount_tmpfs(env, "ro115", "size=512k")
    (ro / "feeds").mkdir()
    shutil.copy(root / "feeds" / "orders.xml", ro / "feeds" / "orders.xml")
    (ro / "downloads").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return full, ro


# --------------------------------------------------------------------------- DNS


def _dns_answer(wire: bytes) -> bytes | None:
    import dns.flags
    import dns.message
    import dns.opcode
    import dns.rcode

    query = dns.message.from_wire(wire)
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.AA
    if query.opcode() == dns.opcode.UPDATE:
        reply.set_rcode(dns.rcode.REFUSED)
        return reply.to_wire()
    name = query.question[0].name.to_text().lower() if query.question else ""
    if name.endswith("legacy." + ZONE):
        reply.set_rcode(dns.rcode.SERVFAIL)
    else:
        reply.set_rcode(dns.rcode.NXDOMAIN)
    return reply.to_wire()


def _dns_server(env: Env) -> tuple[int, int]:
    """A responder answering from the failure table above, and a bound UDP port that never reads its queries."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                try:
                    wire, peer = sock.recvfrom(4096)
                except TimeoutError:
                    continue
                with contextlib.suppress(Exception):
                    answer = _dns_answer(wire)
                    if answer:
                        sock.sendto(answer, peer)

    threading.Thread(target=serve, daemon=True).start()
    env._closers.append(sock.close)
    env._closers.append(mute.close)
    env._closers.append(stop.set)
    return sock.getsockname()[1], mute.getsockname()[1]


# --------------------------------------------------------------------------- HTTP files, iperf3, slapd


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


class _QuietFileServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return  # a client that gave up mid-download (full disk) is expected


def _files_server(env: Env, root: Path) -> int:
    site = root / "mirror"
    (site / "releases").mkdir(parents=True)
    (site / "releases" / "billing-api-4.12.1.tar.gz").write_bytes(b"\x1f\x8b" + b"\x00" * (3 << 20))
    server = _QuietFileServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)
    return server.server_address[1]


def _start(env: Env, argv: list[str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.kill)
    return proc


def _iperf_servers(env: Env, root: Path) -> tuple[int, int, int, Path]:
    keys = root / "iperf"
    keys.mkdir()
    priv, pub = keys / "iperf-server.pem", keys / "iperf-server.pub.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(priv), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(priv), "-pubout", "-out", str(pub)], check=True, capture_output=True)
    digest = hashlib.sha256(b"{ci-runner}Perf-Lab-2026").hexdigest()
    (keys / "authorized-users.csv").write_text(f"# username,sha256\nci-runner,{digest}\n")
    auth_port, busy_port, plain_port = free_port(), free_port(), free_port()
    _start(env, ["iperf3", "-s", "-p", str(auth_port), "--rsa-private-key-path", str(priv),
                 "--authorized-users-path", str(keys / "authorized-users.csv")])
    _start(env, ["iperf3", "-s", "-p", str(busy_port)])
    _start(env, ["iperf3", "-s", "-p", str(plain_port)])
    _wait_port(auth_port)
    _wait_port(busy_port)
    _wait_port(plain_port)
    _start(env, ["iperf3", "-c", "127.0.0.1", "-p", str(busy_port), "-t", "600", "-b", "1M"])  # keeps it busy
    time.sleep(1.0)
    return auth_port, busy_port, plain_port, pub


def _slapd(env: Env) -> int:
    root = Path(tempfile.mkdtemp(prefix="recoup-corpus-slapd-"))
    (root / "db").mkdir()
    conf = root / "slapd.conf"
    conf.write_text(
        "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n"
        "include /etc/ldap/schema/inetorgperson.schema\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\n"
        f"pidfile {root / 'slapd.pid'}\nsizelimit 3\ndatabase mdb\nmaxsize 10485760\n"
        f'suffix "{BASE_DN}"\nrootdn "{ADMIN_DN}"\nrootpw {ADMIN_PW}\ndirectory {root / "db"}\n'
        f'access to * by dn.exact="{ADMIN_DN}" write by self read by users read by anonymous auth\n')
    port = free_port()
    _start(env, ["slapd", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/", "-d", "0"])
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    _wait_port(port)
    people = "".join(
        f"\ndn: uid={u},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {u}\ncn: {c}\nsn: {s}\n"
        f"mail: {u}@northwind.internal\nuserPassword: {u}-pw-2026\n"
        for u, c, s in [("afuller", "Andrew Fuller", "Fuller"), ("jleverling", "Janet Leverling", "Leverling"),
                        ("mpeacock", "Margaret Peacock", "Peacock"), ("sbuchanan", "Steven Buchanan", "Buchanan"),
                        ("msuyama", "Michael Suyama", "Suyama")])
    ldif = (f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Northwind\ndc: northwind\n\n"
            f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n{people}")
    (root / "base.ldif").write_text(ldif)
    proc = run(["ldapadd", "-x", "-H", f"ldap://127.0.0.1:{port}", "-D", ADMIN_DN, "-w", ADMIN_PW, "-f",
                str(root / "base.ldif")])
    if proc.returncode:
        raise RuntimeError(f"slapd setup failed: {proc.stderr.strip()}")
    return port


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "ops115"
    root.mkdir()
    _write_data(root)
    _write_archives(root)
    full, ro = _fill_mounts(env, root)
    dns_port, mute_port = _dns_server(env)
    files_port = _files_server(env, root)
    auth_port, busy_port, plain_port, pub = _iperf_servers(env, root)
    ldap_port = _slapd(env)
    return Fixtures(root, full, ro, dns_port, mute_port, files_port, auth_port, busy_port, plain_port, pub,
                    ldap_port)


__all__ = ["ADMIN_DN", "ADMIN_PW", "BASE_DN", "ZONE", "Fixtures", "prepare"]
