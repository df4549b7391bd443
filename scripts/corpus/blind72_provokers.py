"""Seventy-second batch of blind provokers: container registry tooling, all on loopback. Private `docker-registry`
servers started here (plain, htpasswd auth, TLS with a self-signed certificate, storage on a tiny tmpfs that
fills up) and fake registries answering 503 or 429; tiny OCI images laid out on disk without a daemon and copied
with skopeo and podman (vfs storage, no containers run). Pushes and logins with wrong or no credentials, copies to
a closed port, a resetting peer and an untrusted certificate, malformed references and transports, missing,
read-only or full local paths, auth and policy files that do not parse, registry configs that do not parse or
point at missing files, and the registry's own error bodies read with curl and urllib. Only 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from blind72_support import (
    PASSWORD,
    USER,
    env_without_auth_files,
    oci_layout,
    registry_config,
    self_signed,
    start_registry,
    status_registry,
)
from checked import PyCase, ToolCase, problem, python_records, tool_records
from common import Env, Record, free_port, run, write_batch
from servers import mount_tmpfs

BLIND72_SOURCES = frozenset({"registry72", "skopeo72", "podman72"})

SKOPEO_TIMEOUT = "--command-timeout=8s"


def _skopeo_cases() -> list[ToolCase]:
    copy = f"skopeo {SKOPEO_TIMEOUT} copy --retry-times=0"
    return [
        ("skopeo_push_wrong_password", "auth", "unauthorized|authentication required",
         f"{copy} --dest-tls-verify=false --dest-creds={USER}:wrong-pass-72 oci:IMG:1.0 docker://AUTH/team/api:1.0"),
        ("skopeo_push_no_credentials", "auth", "unauthorized|authentication required",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 docker://AUTH/team/worker:2.3"),
        ("skopeo_inspect_wrong_user", "auth", "unauthorized|authentication required",
         f"skopeo {SKOPEO_TIMEOUT} inspect --tls-verify=false --creds=deployer:nope docker://AUTH/team/api:1.0"),
        ("skopeo_login_wrong_password", "auth", "unauthorized|authentication required|invalid username",
         f"skopeo login --tls-verify=false -u {USER} -p not-the-password AUTH"),
        ("skopeo_push_closed_port", "network", "connection refused",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 docker://127.0.0.1:CLOSED/team/api:1.0"),
        ("skopeo_inspect_closed_port", "network", "connection refused",
         f"skopeo {SKOPEO_TIMEOUT} inspect --tls-verify=false docker://127.0.0.1:CLOSED/library/alpine:3.19"),
        ("skopeo_push_untrusted_cert", "network", "certificate|x509",
         f"{copy} oci:IMG:1.0 docker://TLS/team/api:1.0"),
        ("skopeo_inspect_untrusted_cert", "network", "certificate|x509",
         f"skopeo {SKOPEO_TIMEOUT} inspect docker://TLS/team/api:1.0"),
        ("skopeo_https_to_plain_http", "network", "http response to https client|tls",
         f"{copy} oci:IMG:1.0 docker://PLAIN/team/api:1.0"),
        ("skopeo_push_reset_peer", "network", "reset|eof",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 docker://127.0.0.1:RESET/team/api:1.0"),
        ("skopeo_inspect_hang_timeout", "network", "deadline exceeded|timeout",
         "skopeo --command-timeout=2s inspect --tls-verify=false docker://127.0.0.1:HANG/team/api:1.0"),
        ("skopeo_registry_503", "service", "503",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 docker://UNAVAIL/team/api:1.0"),
        ("skopeo_inspect_503", "service", "503",
         f"skopeo {SKOPEO_TIMEOUT} inspect --retry-times=0 --tls-verify=false docker://UNAVAIL/team/api:1.0"),
        ("skopeo_malformed_reference", "validation", "invalid reference format",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 'docker://PLAIN/team/api:v1.0:extra'"),
        ("skopeo_uppercase_repository", "validation", "lowercase|invalid reference",
         f"{copy} --dest-tls-verify=false oci:IMG:1.0 docker://PLAIN/Team/API:1.0"),
        ("skopeo_unknown_transport", "validation", "invalid|unknown transport",
         f"{copy} oci:IMG:1.0 registry://PLAIN/team/api:1.0"),
        ("skopeo_missing_slashes", "validation", "invalid|must begin with",
         f"{copy} oci:IMG:1.0 docker:PLAIN/team/api:1.0"),
        ("skopeo_dir_source_missing", "filesystem", "no such file",
         f"{copy} --dest-tls-verify=false dir:TMP/build/out/image-72 docker://PLAIN/team/api:1.0"),
        ("skopeo_oci_source_missing", "filesystem", "no such file",
         f"{copy} --dest-tls-verify=false oci:TMP/missing-layout-72:1.0 docker://PLAIN/team/api:1.0"),
        ("skopeo_oci_archive_missing", "filesystem", "no such file",
         f"{copy} --dest-tls-verify=false oci-archive:TMP/artifacts/api-72.tar docker://PLAIN/team/api:1.0"),
        ("skopeo_dir_dest_read_only", "filesystem", "read-only",
         f"{copy} oci:IMG:1.0 dir:RODIR/api"),
        ("skopeo_dir_dest_not_dir", "filesystem", "not a directory",
         f"echo x > TMP/mirror-file-72 && {copy} oci:IMG:1.0 dir:TMP/mirror-file-72/api"),
        ("skopeo_dir_dest_full", "resource", "no space left",
         f"{copy} oci:BIG:1.0 dir:DISK/api"),
        ("skopeo_policy_missing", "filesystem", "no such file",
         f"skopeo --policy TMP/etc/containers/policy-72.json {SKOPEO_TIMEOUT} copy oci:IMG:1.0 dir:TMP/out-policy"),
        ("skopeo_policy_malformed", "validation", "invalid|json|unexpected|policy",
         "printf '{\"default\": [{\"type\": \"insecureAcceptAnything\"},]}' > TMP/policy-bad-72.json && "
         f"skopeo --policy TMP/policy-bad-72.json {SKOPEO_TIMEOUT} copy oci:IMG:1.0 dir:TMP/out-policy2"),
        ("skopeo_authfile_malformed", "validation", "json|invalid|unexpected|unmarshal",
         "printf '{\"auths\": {\"127.0.0.1\": {\"auth\": }}}' > TMP/auth-bad-72.json && "
         f"{copy} --dest-tls-verify=false --authfile TMP/auth-bad-72.json oci:IMG:1.0 docker://PLAIN/team/api:1.0"),
        ("skopeo_docker_archive_not_tar", "validation", "tar|invalid|unexpected|header",
         "printf 'not a tarball\\n' > TMP/image-72.tar && "
         f"{copy} --dest-tls-verify=false docker-archive:TMP/image-72.tar docker://PLAIN/team/api:1.0"),
        ("skopeo_bad_format_flag", "validation", "unknown format|invalid|format",
         f"{copy} --format=docker-v3 oci:IMG:1.0 dir:TMP/out-format"),
        ("skopeo_oci_bad_index", "validation", "json|invalid|unexpected|unmarshal",
         "mkdir -p TMP/broken-oci-72 && cp IMG/oci-layout TMP/broken-oci-72/ && "
         "printf '{\"schemaVersion\": 2, \"manifests\": [' > TMP/broken-oci-72/index.json && "
         f"{copy} --dest-tls-verify=false oci:TMP/broken-oci-72:1.0 docker://PLAIN/team/api:1.0"),
    ]


def _podman_cases() -> list[ToolCase]:
    pm = "podman --root TMP/podman-root --runroot TMP/podman-run --storage-driver vfs"
    return [
        ("podman_login_wrong_password", "auth", "unauthorized|authentication required|invalid username",
         f"{pm} login --tls-verify=false -u {USER} -p wrong-72 AUTH"),
        ("podman_login_closed_port", "network", "connection refused",
         f"{pm} login --tls-verify=false -u {USER} -p {PASSWORD} 127.0.0.1:CLOSED"),
        ("podman_login_untrusted_cert", "network", "certificate|x509",
         f"{pm} login -u {USER} -p {PASSWORD} TLS"),
        ("podman_pull_closed_port", "network", "connection refused",
         f"{pm} pull --tls-verify=false 127.0.0.1:CLOSED/team/api:1.0"),
        ("podman_pull_untrusted_cert", "network", "certificate|x509",
         f"{pm} pull TLS/team/api:1.0"),
        ("podman_pull_no_credentials", "auth", "unauthorized|authentication required",
         f"{pm} pull --tls-verify=false AUTH/team/api:1.0"),
        ("podman_pull_503", "service", "503",
         f"{pm} pull --tls-verify=false UNAVAIL/team/api:1.0"),
        ("podman_pull_bad_reference", "validation", "invalid reference format",
         f"{pm} pull --tls-verify=false 'PLAIN/team/api:1.0:extra'"),
        ("podman_push_wrong_password", "auth", "unauthorized|authentication required",
         f"{pm} push --tls-verify=false --creds {USER}:wrong-72 b72/api:1.0 AUTH/team/api:1.0"),
        ("podman_push_closed_port", "network", "connection refused",
         f"{pm} push --tls-verify=false b72/api:1.0 127.0.0.1:CLOSED/team/api:1.0"),
        ("podman_load_missing_archive", "filesystem", "no such file",
         f"{pm} load -i TMP/dist/api-image-72.tar"),
        ("podman_login_bad_authfile", "validation", "json|invalid|unexpected|unmarshal",
         "printf '{\"auths\": [1, 2' > TMP/podman-auth-72.json && "
         f"{pm} login --tls-verify=false --authfile TMP/podman-auth-72.json -u {USER} -p {PASSWORD} PLAIN"),
    ]


def _registry_serve_cases() -> list[ToolCase]:
    return [
        ("registry_config_unparsable", "validation", "yaml",
         "printf 'version: 0.1\\nstorage:\\n  filesystem:\\n    rootdirectory: /var/lib/reg\\n   http: [\\n' > "
         "TMP/reg-bad-72.yml && timeout 10 docker-registry serve TMP/reg-bad-72.yml"),
        ("registry_config_bad_version", "validation", "unsupported",
         "printf 'version: 7.5\\nstorage:\\n  inmemory: {}\\nhttp:\\n  addr: 127.0.0.1:FREE\\n' > TMP/reg-ver-72.yml "
         "&& timeout 10 docker-registry serve TMP/reg-ver-72.yml"),
        ("registry_config_missing", "filesystem", "no such file",
         "timeout 10 docker-registry serve TMP/etc/docker/registry/config-72.yml"),
        ("registry_tls_key_missing", "filesystem", "no such file",
         "printf 'version: 0.1\\nlog:\\n  level: error\\nstorage:\\n  inmemory: {}\\nhttp:\\n  addr: 127.0.0.1:FREE\\n"
         "  tls:\\n    certificate: TMP/certs-72/registry.crt\\n    key: TMP/certs-72/registry.key\\n' > "
         "TMP/reg-tls-72.yml && timeout 10 docker-registry serve TMP/reg-tls-72.yml"),
        ("curl_catalog_no_credentials", "auth", "401|unauthorized",
         "curl -s --fail-with-body http://AUTH/v2/_catalog"),
        ("curl_tags_wrong_password", "auth", "401|unauthorized",
         f"curl -s --fail-with-body -u {USER}:wrong-72 http://AUTH/v2/team/api/tags/list"),
        ("curl_manifest_invalid", "validation", "400|manifest",
         "curl -s --fail-with-body -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' "
         "--data '{\"schemaVersion\": 2, \"layers\": \"none\"}' http://PLAIN/v2/team/api/manifests/1.0"),
        ("curl_blob_digest_invalid", "validation", "400|digest",
          "loc=$(curl -sS -D - -o /dev/null -X POST http://PLAIN/v2/team/api/blobs/uploads/ | "
         "tr -d '\\r' | sed -n 's/^Location: //Ip') && "
         "curl -s --fail-with-body -X PUT --data-binary 'layer-bytes-72' "
         "\"$loc&digest=sha256:0000000000000000000000000000000000000000000000000000000000000000\""),
    ]


def _py_cases(ports: dict[str, str]) -> list[PyCase]:
    def get(url: str, headers: dict[str, str] | None = None, method: str = "GET", data: bytes | None = None) -> Any:
        req = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.read()

    def basic(user: str, password: str) -> dict[str, str]:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def catalog_wrong_password() -> None:
        get(f"http://{ports['AUTH']}/v2/_catalog", basic(USER, "rotated-72"))

    def ping_no_credentials() -> None:
        get(f"http://{ports['AUTH']}/v2/")

    def ping_closed() -> None:
        get(f"http://127.0.0.1:{ports['CLOSED']}/v2/")

    def tls_untrusted() -> None:
        get(f"https://{ports['TLS']}/v2/")

    def manifest_not_json() -> None:
        get(f"http://{ports['PLAIN']}/v2/team/api/manifests/2.0", {"Content-Type":
            "application/vnd.oci.image.manifest.v1+json"}, "PUT", b"{schemaVersion: 2")

    def unavailable() -> None:
        get(f"http://{ports['UNAVAIL']}/v2/team/api/tags/list")

    def limited() -> None:
        get(f"http://{ports['LIMITED']}/v2/team/api/manifests/latest")

    def tags_response_misread() -> None:
        tags = json.loads(get(f"http://{ports['PLAIN']}/v2/team/seed/tags/list"))
        print(tags["tags"]["latest"])

    def digest_from_response() -> None:
        req = urllib.request.Request(f"http://{ports['PLAIN']}/v2/team/seed/manifests/1.0", method="HEAD",
                                     headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            print(resp.json()["config"]["digest"])

    def config_unparsable() -> None:
        import yaml

        yaml.safe_load(Path(ports["BADCFG"]).read_text())

    return [
        ("urllib_catalog_wrong_password", "auth", "registry72", "HTTPError", catalog_wrong_password),
        ("urllib_ping_no_credentials", "auth", "registry72", "HTTPError", ping_no_credentials),
        ("urllib_registry_closed", "network", "registry72", "URLError|ConnectionRefusedError", ping_closed),
        ("urllib_registry_untrusted", "network", "registry72", "SSLCertVerificationError|URLError", tls_untrusted),
        ("urllib_manifest_not_json", "validation", "registry72", "HTTPError", manifest_not_json),
        ("urllib_registry_503", "service", "registry72", "HTTPError", unavailable),
        ("urllib_registry_429", "resource", "registry72", "HTTPError", limited),
        ("tags_list_indexed_by_name", "programming", "registry72", "TypeError", tags_response_misread),
        ("manifest_response_json_call", "programming", "registry72", "AttributeError", digest_from_response),
        ("registry_config_yaml_error", "validation", "registry72", "YAMLError", config_unparsable),
    ]


@contextmanager
def _isolated_home(tmp: Path) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env_without_auth_files(tmp))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def blind72_records(env: Env) -> list[Record]:
    img = oci_layout(env.tmp / "image72", b"#!/bin/sh\necho b72\n")
    big = oci_layout(env.tmp / "big72", os.urandom(400_000))
    disk = mount_tmpfs(env, "disk72", "size=128k")
    ro = mount_tmpfs(env, "ro72", "size=64k,ro")
    full_store = mount_tmpfs(env, "store72", "size=192k")
    plain = start_registry(env, "plain")
    auth = start_registry(env, "auth", auth=True)
    tls_root = env.tmp / "tls72"
    tls_root.mkdir()
    tls = start_registry(env, "tls", tls=self_signed(tls_root))
    full = start_registry(env, "full", storage=full_store)
    unavailable = status_registry(env, 503, {"errors": [{"code": "UNAVAILABLE", "message":
                                                         "service unavailable", "detail": "maintenance"}]})
    limited = status_registry(env, 429, {"errors": [{"code": "TOOMANYREQUESTS", "message":
                                                     "You have reached your pull rate limit."}]})
    bad_cfg = env.tmp / "registry-config-72.yml"
    bad_cfg.write_text("version: 0.1\nhttp:\n  addr: :5000\n  headers: {X-Content-Type-Options: [nosniff]\n")
    ports = {"PLAIN": f"127.0.0.1:{plain}", "AUTH": f"127.0.0.1:{auth}", "TLS": f"127.0.0.1:{tls}",
             "FULL": f"127.0.0.1:{full}", "UNAVAIL": f"127.0.0.1:{unavailable}",
             "LIMITED": f"127.0.0.1:{limited}", "CLOSED": str(env.closed_port), "RESET": str(env.reset_port),
             "HANG": str(env.hang_port), "BADCFG": str(bad_cfg)}
    paths = {"IMG": str(img), "BIG": str(big), "DISK": str(disk), "RODIR": str(ro), "TMP": str(env.tmp)}

    def fill(text: str) -> str:
        for key, value in {**ports, **paths}.items():
            text = text.replace(key, value)
        return text.replace("FREE", str(free_port()))

    out: list[Record] = []
    with _isolated_home(env.tmp):
        _seed(["skopeo", "copy", "--dest-tls-verify=false", f"oci:{img}:1.0", f"docker://{ports['PLAIN']}/team/seed:1.0"])
        out += tool_records(_skopeo_cases(), "skopeo72", env.tmp, fill)
        pm = f"podman --root {env.tmp}/podman-root --runroot {env.tmp}/podman-run --storage-driver vfs"
        _seed(["bash", "-c", f"id=$({pm} pull -q oci:{img}:1.0) && {pm} tag $id b72/api:1.0"])
        out += tool_records(_podman_cases(), "podman72", env.tmp, fill)
        out += tool_records(_registry_serve_cases(), "registry72", env.tmp, fill)
        out += python_records(_py_cases(ports))
    return out


def _seed(argv: list[str]) -> None:
    """Set-up steps (push a seed image, load one into podman's storage); a failure is the harness's problem."""
    if run(argv, timeout=60).returncode:
        problem("seed", "set-up step failed: " + argv[0])


if __name__ == "__main__":
    write_batch(blind72_records)


__all__ = ["BLIND72_SOURCES", "blind72_records", "registry_config"]
