"""Fixtures of the hundred-and-nineteenth batch: the Node.js libraries installed in the batch's own prefix
(`npm install --prefix /tmp/recoup-corpus-119-node xml2js fast-xml-parser papaparse yup class-validator
class-transformer reflect-metadata express express-validator jose node-forge bcryptjs archiver adm-zip tar sharp
pdfkit chokidar`), a runner that records what a failing `node -e` script printed (optionally as `nobody` or under a
small V8 heap), and the files those scripts fail on: malformed XML feeds and CSV exports,
a zip with a broken CRC, a truncated release tarball, an HTML error page saved as an image, a PKCS#12 bundle with a
password, a tiny full tmpfs, a read-only tmpfs, a directory closed to `nobody` and big documents that do not fit a
small heap."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from checked import node_prefix_records
from common import Env, Record, run
from servers import mount_tmpfs

NODE_PREFIX = Path("/tmp/recoup-corpus-119-node")
NODE_MODULES = NODE_PREFIX / "node_modules"

#: name, category, expected output token (`A|B`), CommonJS script with __PLACEHOLDERS__
NodeCase = tuple[str, str, str, str]


def node_records(cases: Iterable[NodeCase], source: str, cwd: Path, fill: Callable[[str], str], *,
                 user: str = "", node_args: tuple[str, ...] = ()) -> list[Record]:
    """The batch's scripts, run with its own npm prefix (checked.node_prefix_records)."""
    return node_prefix_records(cases, source, cwd, fill, NODE_MODULES, user=user, node_args=node_args)


@dataclass
class Fixtures:
    """Directories of the batch: the data root, a full and a read-only tmpfs, a root-only directory."""

    root: Path
    full: Path
    ro: Path
    closed: Path
    out: Path

    def fill(self, env: Env) -> Callable[[str], str]:
        values = {"__DATA__": str(self.root), "__FULL__": str(self.full), "__RO__": str(self.ro),
                  "__CLOSED__": str(self.closed), "__OUT__": str(self.out),
                  "__HTTP__": env.http, "__REFUSED__": str(env.closed_port),
                  "__RESET__": str(env.reset_port)}

        def fill(script: str) -> str:
            for key, value in values.items():
                script = script.replace(key, value)
            return script
        return fill


_CATALOG_BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<catalog supplier="nordwind-textiles" generated="2026-11-28T04:00:00Z">
  <product sku="NW-4410-BLU">
    <title>Merino crew neck, navy</title>
    <price currency="EUR">79.00</price>
    <stock warehouse="HAM-2">14</stock>
  </product>
  <product sku="NW-4411-GRY">
    <title>Merino crew neck, grey & heather</title>
    <price currency="EUR">79.00</price>
    <stock warehouse="HAM-2">3</stock>
  <product sku="NW-4412-BLK">
    <title>Merino cardigan, black</title>
    <price currency="EUR">99.00</price>
  </product>
</catalog>
"""

_SITEMAP_BROKEN = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://shop.nordwind.example/de/strick</loc><lastmod>2026-11-20</lastmod></url>
  <url><loc>https://shop.nordwind.example/de/strick?farbe=navy</loc></lastmod>2026-11-21</lastmod></url>
</urlset>
"""

_CUSTOMERS_CSV = """customer_id,email,first_name,last_name,country,signup_date
10441,jana.kraus@mail.example,Jana,Kraus,DE,2026-03-14
10442,"p.okafor@mail.example,Peter,Okafor,NG,2026-03-15
10443,l.moreau@mail.example,Lea,Moreau,FR,2026-03-15,newsletter
"""


def _zip_bad_crc(path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("wp-content/uploads/2026/11/invoice-template.html", "<html><body>" + "Rechnung " * 200 + "</body>")
        zf.writestr("wp-config.php", "<?php define('DB_NAME', 'shop');\n")
    data = bytearray(buf.getvalue())
    at = data.index(b"Rechnung") + 40
    data[at] ^= 0x5A  # one flipped byte in the stored data: the CRC no longer matches
    path.write_bytes(bytes(data))


def _truncated_tarball(path: Path, src: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(src, arcname="billing-api-3.4.1")
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])


def _release_tree(root: Path) -> Path:
    tree = root / "build" / "billing-api-3.4.1"
    (tree / "dist").mkdir(parents=True)
    rnd = os.urandom(96 * 1024)
    (tree / "dist" / "server.js").write_bytes(rnd)
    (tree / "package.json").write_text('{"name": "billing-api", "version": "3.4.1"}\n')
    return tree


def _p12(root: Path) -> None:
    certs = root / "certs"
    certs.mkdir()
    key, crt = certs / "client.key", certs / "client.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-days", "30", "-subj", "/CN=payments-gateway.internal"], check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(crt), "-out",
                    str(certs / "payments-client.p12"), "-passout", "pass:Vault-2026-rotated", "-certpbe",
                    "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
                   check=True, capture_output=True)
    pem = crt.read_text().splitlines()
    (certs / "partner-ca.pem").write_text("\n".join(pem[:6] + pem[-1:]) + "\n")  # a cut-off certificate


def _big_documents(root: Path) -> None:
    exports = root / "exports"
    exports.mkdir(exist_ok=True)
    row = "2026-11-28T10:15:02Z,order-{0},cust-{1},EUR,{2}.90,shipped,DHL,HAM-2,\"Merino crew neck, navy\"\n"
    with (exports / "orders-full-2026.csv").open("w") as fh:
        fh.write("ts,order_id,customer_id,currency,total,status,carrier,warehouse,item\n")
        for i in range(450_000):
            fh.write(row.format(i, i % 9973, i % 300))
    with (exports / "catalog-full.xml").open("w") as fh:
        fh.write('<?xml version="1.0"?>\n<catalog>\n')
        for i in range(220_000):
            fh.write(f'<product sku="NW-{i}"><title>Item {i}</title><price currency="EUR">{i % 90}.00</price>'
                     f'<stock warehouse="HAM-2">{i % 17}</stock></product>\n')
        fh.write("</catalog>\n")


def prepare(env: Env) -> Fixtures:
    env.tmp.chmod(0o755)
    root = env.tmp / "data119"
    for sub in ("feeds", "imports", "uploads", "backups", "releases", "fonts"):
        (root / sub).mkdir(parents=True)
    (root / "feeds" / "nordwind-catalog-2026-11.xml").write_text(_CATALOG_BROKEN)
    (root / "feeds" / "sitemap-de.xml").write_text(_SITEMAP_BROKEN)
    (root / "imports" / "customers-2026-11.csv").write_text(_CUSTOMERS_CSV)
    error_page = b"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>\n"
    (root / "uploads" / "avatar-8812.jpg").write_bytes(error_page * 8)
    (root / "backups" / "site-2026-11-28.zip").write_bytes(error_page * 4)
    _zip_bad_crc(root / "backups" / "wordpress-uploads-2026-11.zip")
    tree = _release_tree(root)
    _truncated_tarball(root / "releases" / "billing-api-3.4.1.tgz", tree)
    with tarfile.open(root / "releases" / "reports-2026-11.tar", "w") as tf:
        tf.add(tree / "package.json", arcname="manifest-2026-11.json")
    (root / "fonts" / "Inter-Regular.ttf").write_bytes(error_page * 3)
    _p12(root)
    _big_documents(root)
    full = mount_tmpfs(env, "full119", "size=64k")
    (full / "spool-filler.bin").write_bytes(b"\0" * 60 * 1024)
    ro = mount_tmpfs(env, "ro119", "size=256k")
    (ro / "invoices").mkdir()
    (ro / "reports").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    closed = root / "private"
    (closed / "statements").mkdir(parents=True)
    (closed / "statements" / "2026-11.csv").write_text("iban,amount\nDE89370400440532013000,120.00\n")
    (closed / "customer-logo.png").write_bytes(error_page)
    closed.chmod(0o700)
    shutil.chown(closed, "root", "root")
    with contextlib.suppress(OSError):
        for path in root.rglob("*"):
            if path.is_relative_to(closed):
                continue
            path.chmod(0o755 if path.is_dir() else 0o644)
    root.chmod(0o755)
    out = env.tmp / "out119"
    out.mkdir()
    out.chmod(0o777)
    return Fixtures(root, full, ro, closed, out)


__all__ = ["NODE_MODULES", "Fixtures", "NodeCase", "node_records", "prepare", "run"]
