"""Hundredth batch of blind provokers: cloud provider SDKs against fakes on 127.0.0.1 that answer in each
provider's own error format (blind100_support). hcloud against a Hetzner API (401, invalid input, rate limit, 503,
strings where the SDK wants its own objects, a closed port, a read timeout); python-digitalocean (422, 429, 500);
libcloud's DigitalOcean driver (a missing argument, a self-signed TLS endpoint, a reset); linode_api4 (401, 400
field errors, 429, a missing argument); the ovh SDK (invalid credential, bad parameter, 503); keystoneauth1 and
openstacksdk against a fake Keystone and Nova (wrong password, Keystone down, policy refusal, over-limit quota, bad
flavorRef, an expired token, a closed port, a full accept queue, a missing CA bundle); libcloud's MinIO and local
storage drivers (signature mismatch, internal error, a download onto a full tmpfs, a missing upload file, a
read-only mount)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

from blind100_support import cloud_server
from checked import PyCase, python_records
from common import Env, Record, write_batch
from servers import full_backlog_port, mount_tmpfs, self_signed_https

BLIND100_SOURCES = frozenset({"hcloud100", "digitalocean100", "linode100", "ovh100", "keystoneauth100",
                              "openstacksdk100", "libcloud100"})


# --------------------------------------------------------------------------- Hetzner (hcloud)


def _hcloud_cases(base: str, env: Env) -> list[PyCase]:
    from hcloud import Client
    from hcloud.images import Image
    from hcloud.server_types import ServerType

    def client(mode: str, endpoint: str = "", timeout: float = 5) -> Client:
        return Client(token="hc-token-100", api_endpoint=endpoint or f"{base}/hetzner/{mode}", timeout=timeout,
                      poll_max_retries=1)

    def create(mode: str) -> None:
        client(mode).servers.create(name="web_01 !", server_type=ServerType(name="cx22"),
                                    image=Image(name="ubuntu-24.04"))

    def strings_for_objects() -> None:
        client("ok").servers.create(name="web-01", server_type="cx22", image="ubuntu-24.04")

    return [
        ("hcloud_unauthorized", "auth", "hcloud100", "APIException", lambda: client("unauthorized").servers.get_all()),
        ("hcloud_invalid_input", "validation", "hcloud100", "APIException", lambda: create("invalid")),
        ("hcloud_rate_limited", "resource", "hcloud100", "APIException", lambda: client("ratelimit").servers.get_all()),
        ("hcloud_unavailable", "service", "hcloud100", "APIException", lambda: client("unavailable").images.get_all()),
        ("hcloud_strings_for_objects", "programming", "hcloud100", "AttributeError|TypeError", strings_for_objects),
        ("hcloud_refused", "network", "hcloud100", "ConnectionError|APIException",
         lambda: client("", f"http://127.0.0.1:{env.closed_port}/v1").servers.get_all()),
        ("hcloud_read_timeout", "network", "hcloud100", "Timeout|APIException",
         lambda: client("", f"http://127.0.0.1:{env.hang_port}/v1", timeout=2).servers.get_all()),
    ]


# --------------------------------------------------------------------------- DigitalOcean


def _digitalocean_cases(base: str, env: Env) -> list[PyCase]:
    import digitalocean
    from libcloud.compute.drivers.digitalocean import DigitalOceanNodeDriver

    def manager(mode: str) -> Any:
        return digitalocean.Manager(token="dop_v1_corpus100", end_point=f"{base}/do/{mode}/")

    def create_droplet() -> None:
        droplet = digitalocean.Droplet(token="dop_v1_corpus100", end_point=f"{base}/do/unprocessable/",
                                       name="web-01", region="fra1", image="ubuntu-24-04-x64", size_slug="s-1vcpu-9gb")
        droplet.create()

    port = int(base.rsplit(":", 1)[1])
    driver_cls = DigitalOceanNodeDriver

    def driver(key: str, host_port: int = port, secure: bool = False) -> Any:
        lc = driver_cls(key)  # its __new__ rejects any keyword argument: point the connection here instead
        lc.connection.base_url = f"{'https' if secure else 'http'}://127.0.0.1:{host_port}"
        lc.connection.host, lc.connection.port, lc.connection.secure = "127.0.0.1", host_port, secure
        lc.connection.connect()
        return lc

    def lc_missing_arg() -> None:
        driver("unauthorized").create_node(name="web-01", size="s-1vcpu-1gb")  # type: ignore[call-arg]

    tls_port = self_signed_https(env)
    return [
        ("do_unprocessable", "validation", "digitalocean100", "DataReadError", create_droplet),
        ("do_rate_limited", "resource", "digitalocean100", "DataReadError",
         lambda: manager("toomany").get_all_regions()),
        ("do_server_error", "service", "digitalocean100", "DataReadError",
         lambda: manager("servererror").get_all_sizes()),
        ("libcloud_do_missing_argument", "programming", "libcloud100", "TypeError", lc_missing_arg),
        ("libcloud_do_self_signed", "network", "libcloud100", "SSLError",
         lambda: driver("unauthorized", tls_port, secure=True).list_nodes()),
        ("libcloud_do_reset", "network", "libcloud100", "ConnectionError|ConnectionResetError",
         lambda: driver("unauthorized", env.reset_port).list_locations()),
    ]


# --------------------------------------------------------------------------- Linode


def _linode_cases(base: str, env: Env) -> list[PyCase]:
    from linode_api4 import LinodeClient

    def client(mode: str, url: str = "") -> LinodeClient:
        return LinodeClient("linode-token-100", base_url=url or f"{base}/linode/{mode}", retry=False)

    def missing_arg() -> None:
        client("invalid").linode.instance_create(region="de-fra-2", image="linode/debian12")  # type: ignore

    return [
        ("linode_unauthorized", "auth", "linode100", "ApiError", lambda: client("unauthorized").linode.instances()[0]),
        ("linode_invalid", "validation", "linode100", "ApiError",
         lambda: client("invalid").linode.instance_create("g6-nanode-1", "mars-1", image="linode/debian12",
                                                          label="x", root_pass="Corpus-100-Root!")),
        ("linode_rate_limited", "resource", "linode100", "ApiError", lambda: client("ratelimit").regions()[0]),
        ("linode_missing_argument", "programming", "linode100", "TypeError", missing_arg),
    ]


# --------------------------------------------------------------------------- OVH


def _ovh_cases(base: str) -> list[PyCase]:
    import ovh
    import ovh.client

    def call(mode: str, method: str = "get", path: str = "/me", **params: Any) -> Any:
        ovh.client.ENDPOINTS[f"local-{mode}"] = f"{base}/ovh/{mode}"
        client = ovh.Client(endpoint=f"local-{mode}", application_key="ak100", application_secret="as100",
                            consumer_key="ck100")
        return getattr(client, method)(path, **params)

    return [
        ("ovh_invalid_credential", "auth", "ovh100", "InvalidCredential", lambda: call("credential")),
        ("ovh_bad_parameter", "validation", "ovh100", "BadParametersError",
         lambda: call("badparam", "post", "/ip/1.2.3.4/firewall", ipOnFirewall="10.0.0.300")),
        ("ovh_unavailable", "service", "ovh100", "APIError", lambda: call("unavailable", "get", "/cloud/project")),
    ]


# --------------------------------------------------------------------------- Keystone / Nova


def _openstack_cases(base: str, env: Env) -> list[PyCase]:
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    def sess(mode: str, auth_url: str = "", **kw: Any) -> session.Session:
        auth = v3.Password(auth_url=auth_url or f"{base}/keystone/{mode}/v3", username="deployer",
                           password="hunter2", project_name="web", user_domain_id="default",
                           project_domain_id="default")
        return session.Session(auth=auth, **kw)

    def nova(mode: str, method: str = "get", path: str = "/servers", **kw: Any) -> Any:
        s = sess(mode)
        return s.request(path, method.upper(), endpoint_filter={"service_type": "compute", "interface": "public"},
                         **kw)

    def server_body(flavor: str = "3") -> dict[str, Any]:
        return {"server": {"name": "web-01", "imageRef": "70a599e0-31e7-49b7-b260-868f441e862b",
                           "flavorRef": flavor}}

    def sdk(mode: str, auth_url: str = "", **kw: Any) -> Any:
        import openstack

        conn = openstack.connect(auth_url=auth_url or f"{base}/keystone/{mode}/v3", username="deployer",
                                 password="hunter2", project_name="web", user_domain_id="default",
                                 project_domain_id="default", region_name="RegionOne", load_yaml_config=False,
                                 load_envvars=False, **kw)
        return conn

    backlog = full_backlog_port(env)
    return [
        ("keystone_wrong_password", "auth", "keystoneauth100", "Unauthorized", lambda: sess("badpass").get_token()),
        ("keystone_unavailable", "service", "keystoneauth100", "ServiceUnavailable",
         lambda: sess("unavailable").get_token()),
        ("nova_policy_forbidden", "auth", "keystoneauth100", "Forbidden",
         lambda: nova("forbidden", "post", "/servers", json=server_body())),
        ("nova_over_limit", "resource", "keystoneauth100", "RequestEntityTooLarge",
         lambda: nova("overlimit", "post", "/servers", json=server_body())),
        ("nova_bad_flavor", "validation", "keystoneauth100", "BadRequest",
         lambda: nova("badrequest", "post", "/servers", json=server_body("m1.huge"))),
        ("nova_token_expired", "auth", "keystoneauth100", "Unauthorized", lambda: nova("expired", "get", "/flavors")),
        ("keystone_refused", "network", "keystoneauth100", "ConnectFailure",
         lambda: sess("", f"http://127.0.0.1:{env.closed_port}/v3").get_token()),
        ("keystone_connect_timeout", "network", "keystoneauth100", "ConnectTimeout",
         lambda: sess("", f"http://127.0.0.1:{backlog}/v3", timeout=2).get_token()),
        ("keystone_ca_bundle_missing", "filesystem", "keystoneauth100", "OSError|SSLError",
         lambda: sess("", "https://127.0.0.1:5000/v3", verify=str(env.tmp / "pki" / "ca-bundle100.pem")).get_token()),
        ("sdk_over_limit", "resource", "openstacksdk100", "HttpException",
         lambda: sdk("overlimit").compute.create_server(name="web-01", flavor_id="3",
                                                         image_id="70a599e0-31e7-49b7-b260-868f441e862b")),

    ]


# --------------------------------------------------------------------------- libcloud storage


def _storage_cases(base: str, env: Env) -> list[PyCase]:
    from libcloud.storage.providers import Provider, get_driver

    port = int(base.rsplit(":", 1)[1])
    minio = get_driver(Provider.MINIO)

    def driver(key: str) -> Any:
        return minio(key, "secret-100", secure=False, host="127.0.0.1", port=port)

    full = mount_tmpfs(env, "full100", "size=64k")
    read_only = mount_tmpfs(env, "ro100", "size=64k")
    local_root = read_only / "buckets"
    local_root.mkdir()
    (local_root / "backups").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(read_only)], check=True, capture_output=True)

    def download_to_full() -> None:
        d = driver("bigobject")
        obj = d.get_object("backups", "db-2026-11-29.dump")
        obj.download(str(full / "db-2026-11-29.dump"), overwrite_existing=True)

    def upload_missing() -> None:
        from libcloud.storage.base import Container

        d = driver("denied")

        d.upload_object(str(env.tmp / "exports" / "report-2026-11.csv"), Container("backups", {}, d),
                        "report-2026-11.csv")

    def local_read_only() -> None:
        from libcloud.storage.drivers.local import LocalStorageDriver

        src = env.tmp / "upload100.txt"
        src.write_text("payload\n", encoding="utf-8")
        d = LocalStorageDriver(str(local_root))
        d.upload_object(str(src), d.get_container("backups"), "upload100.txt")

    return [
        ("minio_signature_mismatch", "auth", "libcloud100", "InvalidCredsError|LibcloudError",
         lambda: driver("denied").list_containers()),
        ("minio_internal_error", "service", "libcloud100", "LibcloudError|BaseHTTPError",
         lambda: driver("internal").list_containers()),
        ("minio_download_disk_full", "resource", "libcloud100", "OSError", download_to_full),
        ("minio_upload_file_missing", "filesystem", "libcloud100", "FileNotFoundError|OSError", upload_missing),
        ("local_storage_read_only", "filesystem", "libcloud100", "OSError|LibcloudError", local_read_only),
    ]


def make_records(env: Env) -> list[Record]:
    os.environ.pop("DIGITALOCEAN_ACCESS_TOKEN", None)
    base = cloud_server(env)
    cases: list[PyCase] = []
    cases += _hcloud_cases(base, env)
    cases += _digitalocean_cases(base, env)
    cases += _linode_cases(base, env)
    cases += _ovh_cases(base)
    cases += _openstack_cases(base, env)
    cases += _storage_cases(base, env)
    only = os.environ.get("ONLY100")
    if only:
        cases = [c for c in cases if c[0].startswith(only)]
    return python_records(cases)


if __name__ == "__main__":
    write_batch(make_records)
