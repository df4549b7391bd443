"""Fixtures of the hundred-and-twentieth batch: a deployment tree under the batch directory (VM images, an OCI
bundle, LXC and libvirt configs, a Puppet code directory with Hiera data, cloud-init user-data, journal files, an
update-alternatives root, a private debconf database), a full and a read-only tmpfs, a container registry fake
per failure mode, and a stale libvirt UNIX socket nothing listens on."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env
from servers import accept_loop, mount_tmpfs, serve_http

AS_NOBODY = "runuser -u nobody --"

#: registry mode -> HTTP status, distribution error code, message
_REGISTRY_ERRORS = {
    "unauthorized": (401, "UNAUTHORIZED", "authentication required"),
    "denied": (403, "DENIED", "requested access to the resource is denied"),
    "toomany": (429, "TOOMANYREQUESTS", "You have reached your pull rate limit. You may increase the limit by "
                                        "authenticating and upgrading"),
    "unavailable": (503, "UNAVAILABLE", "registry is in read-only mode for maintenance"),
}


class _RegistryHandler(http.server.BaseHTTPRequestHandler):
    """A Docker distribution registry that answers the API ping, then every manifest request with its mode's
    error (in the registry's JSON error format)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        mode: str = self.server.mode  # type: ignore[attr-defined]
        if self.path == "/v2/" and mode != "unauthorized":
            status, body = 200, b"{}"
        else:
            status, code, message = _REGISTRY_ERRORS[mode]
            body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="registry.corp.internal"')
        if status in (429, 503):
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = _answer


def registry(env: Env, mode: str) -> int:
    """A registry fake on a free port that fails every pull with `mode`'s error; stopped with `env`."""
    return serve_http(env, _RegistryHandler, mode=mode)


@dataclass
class Deploy:
    """Paths of the batch's fixtures: `root` is substituted for @T@ in the tool scripts."""

    root: Path
    full: Path
    ro: Path
    stale_socket: Path
    hangup_port: int


_PUPPET_ENV = {
    "hiera.yaml": "---\nversion: 5\ndefaults:\n  datadir: data\n  data_hash: yaml_data\nhierarchy:\n"
                  "  - name: \"Per node\"\n    path: \"nodes/%{trusted.certname}.yaml\"\n"
                  "  - name: \"Common\"\n    path: \"common.yaml\"\n",
    "modules/profile/manifests/app.pp":
        "class profile::app (\n  Integer[1, 64] $worker_processes,\n"
        "  Enum['debug', 'info', 'warn', 'error'] $log_level = 'info',\n  String $deploy_user = 'deploy',\n) {\n"
        "  notify { \"billing-api workers=${worker_processes} log=${log_level}\": }\n}\n",
    "modules/profile/manifests/nginx.pp":
        "class profile::nginx (\n  Stdlib::Port $listen_port = 443,\n  Integer $worker_processes = 4,\n) {\n"
        "  notify { \"nginx ${listen_port}\": }\n}\n",
    "modules/profile/manifests/haproxy.pp":
        "class profile::haproxy (\n  Array[String] $backends = ['10.20.4.11:8080', '10.20.4.12:8080'],\n) {\n"
        "  $servers = split($backends)\n  notify { \"haproxy ${servers}\": }\n}\n",
}

_PUPPET_DATA = {
    "types": "---\nprofile::app::worker_processes: 'eight'\nprofile::app::log_level: 'verbose'\n",
    "yaml": "---\nprofile::app::worker_processes: 8\n  profile::app::log_level: warn\n"
            "profile::app::deploy_user: deploy\n",
}

_MANIFESTS = {
    "syntax.pp": "class profile::redis (Integer $maxmemory_mb = 512) {\n"
                 "  file { '@T@/etc/redis/redis.conf':\n    ensure  => file,\n"
                 "    content => \"maxmemory ${maxmemory_mb}mb\\n\",\n  }\n",
    "function.pp": "$upstreams = ['10.20.4.11:8080', '10.20.4.12:8080']\n"
                   "file { '@T@/etc/nginx/upstream-billing.conf':\n  ensure  => file,\n"
                   "  content => join_upstreams($upstreams, ','),\n}\n",
    "parent.pp": "file { '/etc/nginx/sites-enabled/billing.conf':\n  ensure  => file,\n"
                 "  content => \"server { listen 8443 ssl; server_name billing.corp.internal; }\\n\",\n}\n",
    "full.pp": "file { '@FULL@/billing-api.env':\n  ensure  => file,\n"
               "  content => \"" + "BILLING_FEATURE_FLAGS=" + "x" * 40000 + "\\n\",\n}\n",
    "ro.pp": "file { '@RO@/etc/billing-api/app.conf':\n  ensure  => file,\n  content => \"workers = 8\\n\",\n}\n",
    "source.pp": "file { '@T@/etc/billing-api/GeoLite2-City.mmdb':\n  ensure => file,\n"
                 "  source => 'http://127.0.0.1:@CLOSED@/artifacts/geoip/GeoLite2-City.mmdb',\n}\n",
}

_USER_DATA = {
    "types.yaml": "#cloud-config\nhostname: web-frontend-04\nusers:\n  - name: deploy\n    groups: [sudo, docker]\n"
                  "    shell: /bin/bash\n    lock_passwd: \"yes\"\n"
                  "    ssh_authorized_keys: \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOa deploy@ci\"\n"
                  "packages: nginx\nruncmd:\n  - systemctl enable --now nginx\nntp:\n  enabled: true\n"
                  "  servers: 10.0.0.1\n",
    "yaml.yaml": "#cloud-config\nhostname: web-frontend-05\nwrite_files:\n  - path: /etc/nginx/conf.d/app.conf\n"
                 "    content: |\n      server {\n   listen 80; }\n    permissions: '0644'\n",
    "header.yaml": "hostname: web-frontend-06\nmanage_etc_hosts: true\npackage_upgrade: true\n",
    "private.yaml": "#cloud-config\nhostname: web-frontend-07\nchpasswd:\n  expire: false\n",
}

_LXC = {
    "key.conf": "lxc.uts.name = ci-runner-03\nlxc.rootfs.path = dir:/var/lib/lxc/ci-runner-03/rootfs\n"
                "lxc.net.0.type = veth\nlxc.net.0.link = lxcbr0\nlxc.cgroup2.memory.max = 2G\n"
                "lxc.apparmor.profil = generated\n",
    "nettype.conf": "lxc.uts.name = ci-runner-08\nlxc.rootfs.path = dir:/var/lib/lxc/ci-runner-08/rootfs\n"
                    "lxc.net.0.type = vethx\nlxc.net.0.link = lxcbr0\n",
    "include.conf": "lxc.uts.name = ci-runner-09\nlxc.include = /etc/lxc/common.d/ci-runners.conf\n"
                    "lxc.rootfs.path = dir:/var/lib/lxc/ci-runner-09/rootfs\n",
}

_DOMAINS = {
    "tags.xml": "<domain type='test'>\n  <name>db-replica-2</name>\n  <memory unit='MiB'>4096</memory>\n"
                "  <os><type>hvm</type></os>\n  <devices>\n    <disk type='file' device='disk'>\n"
                "      <source file='/var/lib/libvirt/images/db-replica-2.qcow2'/>\n  </devices>\n</domain>\n",
    "memory.xml": "<domain type='test'>\n  <name>db-replica-3</name>\n  <memory unit='MiB'>lots</memory>\n"
                  "  <os><type>hvm</type></os>\n</domain>\n",
}

_DEBCONF = (
    "Config: configdb\nTemplates: templatedb\n\nName: configdb\nDriver: File\nMode: 644\nFilename: {db}\n\n"
    "Name: templatedb\nDriver: File\nMode: 644\nFilename: {templates}\n"
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _oci_config(root: Path) -> dict[str, Any]:
    spec = root / "oci" / "spec"
    spec.mkdir(parents=True)
    subprocess.run(["crun", "spec"], cwd=spec, check=True, capture_output=True)
    config: dict[str, Any] = json.loads((spec / "config.json").read_text())
    config["process"]["args"] = ["/usr/local/bin/gunicorn", "billing.wsgi:app", "--bind", "0.0.0.0:8000"]
    config["process"]["terminal"] = False
    config["hostname"] = "billing-api"
    return config


def _oci(root: Path) -> None:
    config = _oci_config(root)
    for name in ("missing", "parse", "version"):
        (root / "oci" / name / "rootfs").mkdir(parents=True)
    text = json.dumps(config, indent=2)
    _write(root / "oci" / "parse" / "config.json", text[: len(text) // 3])
    config["ociVersion"] = "3.0.0"
    _write(root / "oci" / "version" / "config.json", json.dumps(config, indent=2))


def _images(root: Path, full: Path) -> None:
    images = root / "images"
    images.mkdir()
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(images / "web-01.qcow2"), "20G"], check=True,
                   capture_output=True)
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(images / "web-02.qcow2"), "20G"], check=True,
                   capture_output=True)
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(images / "db-01.qcow2"), "40G"], check=True,
                   capture_output=True)
    subprocess.run(["qemu-img", "rebase", "-u", "-F", "qcow2", "-b",
                    "/var/lib/libvirt/images/base-debian12.qcow2", str(images / "web-02.qcow2")],
                   check=True, capture_output=True)
    header = b"QFI\xfb\x00\x00\x00\x09" + b"\x00" * 4088  # qcow2 magic with a version no qemu knows
    (images / "mail-01.qcow2").write_bytes(header)
    private = images / "vault-01.qcow2"
    private.write_bytes((images / "web-01.qcow2").read_bytes())
    private.chmod(0o600)
    images.chmod(0o755)


def _puppet(root: Path, subs: dict[str, str]) -> None:
    env_dir = root / "puppet" / "code" / "environments" / "production"
    for rel, text in _PUPPET_ENV.items():
        _write(env_dir / rel, text)
    for name, data in _PUPPET_DATA.items():
        other = root / "puppet" / f"code-{name}" / "environments" / "production"
        for rel, text in _PUPPET_ENV.items():
            _write(other / rel, text)
        _write(other / "data" / "common.yaml", data)
    _write(env_dir / "data" / "common.yaml", "---\nprofile::app::worker_processes: 8\n")
    for name, text in _MANIFESTS.items():
        for key, value in subs.items():
            text = text.replace(key, value)
        _write(root / "puppet" / "manifests" / name, text)
    (root / "etc" / "billing-api").mkdir(parents=True)
    (root / "etc" / "redis").mkdir(parents=True)
    (root / "etc" / "nginx").mkdir(parents=True)


def _journals(root: Path) -> None:
    journal = root / "journal" / "3f9c0a7e5d2b4c18"
    journal.mkdir(parents=True)
    (journal / "system@0005f1d2e3a4b5c6-7d8e9f0a1b2c3d4e.journal").write_bytes(
        b"LPKSHHRH" + b"\0" * 4096)  # a journal magic followed by a zeroed header
    secret = root / "journal" / "audit"
    secret.mkdir()
    (secret / "system.journal").write_bytes(b"LPKSHHRH" + b"\x00" * 2048)
    secret.chmod(0o700)
    private = root / "journal" / "node-04"
    private.mkdir()
    (private / "user-1000.journal").write_bytes(b"LPKSHHRH" + b"\x00" * 2048)
    (private / "user-1000.journal").chmod(0o600)
    private.chmod(0o755)
    (root / "journal").chmod(0o755)


def _alternatives(root: Path, full: Path, ro: Path) -> None:
    alt = root / "alternatives"
    for sub in ("var/lib/dpkg/alternatives", "etc/alternatives", "usr/local/bin", "usr/bin", "var/log"):
        (alt / sub).mkdir(parents=True)
    (alt / "usr" / "bin" / "python3.11").write_bytes(b"#!/bin/sh\n")
    (alt / "usr" / "bin" / "python3.11").chmod(0o755)
    subprocess.run(["update-alternatives", "--root", str(alt), "--install", "/usr/local/bin/python3",
                    "python3", "/usr/bin/python3.11", "311"], check=True, capture_output=True)
    _write(alt / "var/lib/dpkg/alternatives/node", "manual\n/usr/local/bin/node\n\n/opt/node-v20.18.0/bin/node\n")
    for target in (full, ro):
        for sub in ("var/lib/dpkg/alternatives", "etc/alternatives", "usr/local/bin", "var/log"):
            (target / "alternatives" / sub).mkdir(parents=True)
        (target / "alternatives" / "usr" / "bin").mkdir()
        (target / "alternatives" / "usr" / "bin" / "kubectl-1.31").write_bytes(b"#!/bin/sh\n")
        (target / "alternatives" / "usr" / "bin" / "kubectl-1.31").chmod(0o755)


def _debconf(root: Path, full: Path) -> None:
    dc = root / "debconf"
    dc.mkdir()
    _write(dc / "debconf.conf", _DEBCONF.format(db=dc / "config.dat", templates=dc / "templates.dat"))
    _write(dc / "full.conf", _DEBCONF.format(db=full / "debconf" / "config.dat", templates=dc / "templates.dat"))
    (full / "debconf").mkdir()
    _write(dc / "config.dat", "Name: postfix/mailname\nTemplate: postfix/mailname\nValue: mx1.corp.example\n"
                              "Owners: postfix\n\n")
    _write(dc / "templates.dat", "")
    lines = "".join(f"postfix postfix/relay_restriction_{i} string " + "reject_unauth_destination " * 8 + "\n"
                    for i in range(120))
    _write(dc / "postfix-relays.preseed", lines)
    _write(dc / "mail.preseed", "postfix postfix/main_mailer_type select Internet Site\n"
                                "postfix postfix/mailname string mx1.corp.example\ntzdata tzdata/Areas\n")
    _write(dc / "ok.preseed", "postfix postfix/mailname string mx1.corp.example\n")
    for path in (dc, dc / "debconf.conf", dc / "ok.preseed", dc / "templates.dat", dc / "config.dat"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _fill(path: Path) -> None:
    """Write zeros to `path` until its file system has no space left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def _stale_socket(root: Path) -> Path:
    """A UNIX socket file left behind by a daemon that is gone: connecting to it is refused."""
    path = root / "run" / "libvirt" / "virtqemud-sock"
    path.parent.mkdir(parents=True)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def prepare(env: Env) -> Deploy:
    root = env.tmp / "deploy120"
    root.mkdir()
    os.chmod(env.tmp, 0o711)  # nobody may reach the files it is meant to be refused
    root.chmod(0o711)
    full = mount_tmpfs(env, "full120", "size=256k")
    ro = mount_tmpfs(env, "ro120", "size=256k")
    _images(root, full)
    _oci(root)
    for name, text in _LXC.items():
        _write(root / "lxc" / name, text)
    (root / "lxc" / "containers").mkdir()
    for name, text in _DOMAINS.items():
        _write(root / "libvirt" / name, text)
    _puppet(root, {"@T@": str(root), "@FULL@": str(full), "@RO@": str(ro), "@CLOSED@": str(env.closed_port)})
    for name, text in _USER_DATA.items():
        _write(root / "cloud-init" / name, text)
    (root / "cloud-init").chmod(0o755)
    (root / "cloud-init" / "private.yaml").chmod(0o600)
    _write(root / "cloud-init" / "instance-data.json",
           '{"v1": {"cloud_name": "openstack", "region": "eu-central-1", "instance_id": "i-0a7f"\n')
    _journals(root)
    _alternatives(root, full, ro)
    _debconf(root, full)
    ctx = root / "build" / "billing-api"
    _write(ctx / "Containerfile", "FROM scratch\nWORKDIR /srv/app\nCOPY dist/billing-api-2.14.0.tar.gz /srv/app/\n")
    _write(ctx / "Containerfile.typo", "FROM scratch\nWORKDIR /srv/app\nCOPYY requirements.txt .\n")
    _write(ctx / "Containerfile.health", "FROM scratch\nHEALTHCHECK --interval=fast CMD [\"/bin/true\"]\n")
    (ctx / "model.bin").write_bytes(os.urandom(3 << 20))
    (ro / "etc" / "billing-api").mkdir(parents=True)
    (ro / "images").mkdir()
    _fill(full / "filler.bin")
    socket_path = _stale_socket(root)
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return Deploy(root, full, ro, socket_path, accept_loop(env, lambda conn: conn.close()))


__all__ = ["AS_NOBODY", "Deploy", "prepare", "registry"]
