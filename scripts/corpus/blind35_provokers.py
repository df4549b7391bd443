"""Thirty-fifth batch of blind provokers: Python SDKs and CLIs of cloud and developer platforms, each talking to
a loopback fake that answers the status we chose with the provider's own style of error body and headers
(`blind35_support.py`), to a closed port or to a server that never answers. The Kubernetes Python client
(Forbidden, Invalid, TooManyRequests, a refused API server, a malformed kubeconfig, a misspelt attribute of the result),
PyGithub (Bad credentials, primary rate limit with `X-RateLimit-Remaining: 0`, a token without the permission,
Validation Failed, a 502, a wrongly typed argument), the Docker SDK (a daemon port nobody listens on, a registry
login refused, a pull failing upstream, an invalid image reference, an unknown keyword), google-cloud-storage
(403, 429 object mutation rate, 503 backendError, invalid bucket name, a missing local file), azure-storage-blob
(AuthenticationFailed, InternalError, InvalidResourceName, a refused endpoint, a malformed connection string),
the AWS CLI (SignatureDoesNotMatch, InternalError, no credentials, refused, read timeout, a missing local path,
invalid JSON for a parameter) and the HTTPie CLI (`--check-status` on 401/422/429/503, refused, timeout, a
missing `@file`). The label is the status or cause we provoked (404s and 409s are left out: the taxonomy has
no evidence for them). Only 127.0.0.1."""

from __future__ import annotations

import base64
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from blind35_support import Reply, fake_api, json_reply, xml_reply
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND35_SOURCES = frozenset({"k8s35", "github35", "docker35", "gcs35", "azure35", "awscli35", "httpie35"})


def _k8s_status(code: int, reason: str, message: str, **headers: str) -> Reply:
    return json_reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": message, "reason": reason, "code": code}, **headers)


def _gcs_error(code: int, reason: str, message: str) -> Reply:
    return json_reply(code, {"error": {"code": code, "message": message,
                                       "errors": [{"message": message, "domain": "global", "reason": reason}]}})


#: first path segment -> reply, for the clients that accept a base URL with a path
ROUTES: dict[str, Reply] = {
    "k8s403": _k8s_status(403, "Forbidden", 'secrets "registry-pull" is forbidden: User '
                          '"system:serviceaccount:ci:deployer" cannot get resource "secrets" in API group "" in the '
                          'namespace "payments"'),
    "k8s422": _k8s_status(422, "Invalid", 'Deployment.apps "web_api" is invalid: metadata.name: Invalid value: '
                          '"web_api": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                          "characters, '-' or '.', and must start and end with an alphanumeric character"),
    "k8s429": _k8s_status(429, "TooManyRequests", "Too many requests, please try again later.", Retry_After="1"),
    "gh401": json_reply(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                              "status": "401"}),
    "gh403rate": json_reply(403, {"message": "API rate limit exceeded for installation ID 48151623. If you reach "
                                  "out to GitHub Support for help, please include the request ID "
                                  "C0DE:35:B35:B35:6741F0A1.", "documentation_url": "https://docs.github.com/rest/"
                                  "overview/rate-limits-for-the-rest-api", "status": "403"},
                            X_RateLimit_Limit="5000", X_RateLimit_Remaining="0", X_RateLimit_Used="5000",
                            X_RateLimit_Reset="1893456000", X_RateLimit_Resource="core"),
    "gh403perm": json_reply(403, {"message": "Resource not accessible by integration",
                                  "documentation_url": "https://docs.github.com/rest/issues/labels"
                                  "#create-a-label", "status": "403"}),
    "gh422": json_reply(422, {"message": "Validation Failed", "errors": [
        {"resource": "Label", "code": "invalid", "field": "color"}],
        "documentation_url": "https://docs.github.com/rest/issues/labels#create-a-label", "status": "422"}),
    "k8sok": json_reply(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "3535"},
                              "items": []}),
    "gh502": json_reply(502, {"message": "Server Error"}),
    "gcs403": _gcs_error(403, "forbidden", "ci-runner@b35-build.iam.gserviceaccount.com does not have "
                         "storage.objects.create access to the Google Cloud Storage object. Permission "
                         "'storage.objects.create' denied on resource (or it may not exist)."),
    "gcs429": _gcs_error(429, "rateLimitExceeded", "The object b35-tfstate/env/prod/default.tflock exceeded the "
                         "rate limit for object mutation operations (create, update, and delete). Please reduce "
                         "your request rate. See https://cloud.google.com/storage/docs/gcs429."),
    "gcs503": _gcs_error(503, "backendError", "We encountered an internal error. Please try again."),
    "gcs400": _gcs_error(400, "invalid", "Invalid bucket name: 'B35_Nightly_Builds'"),
    "s3sig": xml_reply(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                       "signature you provided. Check your key and signing method.",
                       "<RequestId>B35B35B35B35</RequestId>"),
    "s3err": xml_reply(500, "InternalError", "We encountered an internal error. Please try again.",
                       "<RequestId>B35C0FFEE</RequestId>"),
    "h401": json_reply(401, {"error": "invalid_token", "error_description": "The access token expired"},
                       WWW_Authenticate='Bearer error="invalid_token"'),
    "h422": json_reply(422, {"detail": [{"type": "missing", "loc": ["body", "image"], "msg": "Field required",
                                         "input": {"tag": "v35"}}]}),
    "h429": json_reply(429, {"message": "API rate limit exceeded, retry in 30 seconds"}, Retry_After="30"),
    "h503": Reply(503, "<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this "
                  "request.\n</body></html>\n", "text/html"),
}

#: Docker daemon replies: the SDK talks to `/v1.45/...` at the root, so one server per reply
DOCKER: dict[str, Reply] = {
    "login401": json_reply(401, {"message": 'Get "https://registry.b35.example/v2/": unauthorized: incorrect '
                                            "username or password"}),
    "pull500": json_reply(500, {"message": 'Get "https://registry.b35.example/v2/": received unexpected HTTP '
                                           "status: 503 Service Unavailable"}),
    "create400": json_reply(400, {"message": "invalid reference format: repository name (Acme/Billing-API) must "
                                             "be lowercase"}),
}

_AZ_ID = "\nRequestId:b35b35b3-501e-0000-35b3-000000000000\nTime:2026-11-29T17:05:00.0000000Z"
#: Azure Blob replies: the SDK puts the account name first in the path, so one server per reply
AZURE: dict[str, Reply] = {
    "auth403": xml_reply(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the "
                         "value of Authorization header is formed correctly including the signature." + _AZ_ID,
                         "<AuthenticationErrorDetail>The MAC signature found in the HTTP request 'b35' is not the "
                         "same as any computed signature.</AuthenticationErrorDetail>",
                         x_ms_error_code="AuthenticationFailed"),
    "internal500": xml_reply(500, "InternalError", "Server encountered an internal error. Please try again after "
                             "some time." + _AZ_ID, x_ms_error_code="InternalError"),
    "name400": xml_reply(400, "InvalidResourceName", "The specifed resource name contains invalid characters."
                         + _AZ_ID, x_ms_error_code="InvalidResourceName"),
}
_AZ_KEY = base64.b64encode(b"b35-not-a-real-account-key-000000000000000000000000000000000000").decode()


def _py_cases(env: Env, api: str, docker: dict[str, str], azure: dict[str, str]) -> list[PyCase]:
    closed = f"127.0.0.1:{env.closed_port}"

    def core_v1(base: str) -> Any:
        from kubernetes import client

        cfg = client.Configuration(host=base, api_key={"authorization": "sa-token-b35"},
                                   api_key_prefix={"authorization": "Bearer"})
        return client.CoreV1Api(client.ApiClient(cfg))

    def k8s_secret(name: str) -> None:
        core_v1(f"{api}/{name}").read_namespaced_secret("registry-pull", "payments")

    def k8s_deployment() -> None:
        from kubernetes import client

        cfg = client.Configuration(host=f"{api}/k8s422")
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web_api"},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                         "template": {"metadata": {"labels": {"app": "web"}},
                                      "spec": {"containers": [{"name": "web", "image": "web:35"}]}}}}
        client.AppsV1Api(client.ApiClient(cfg)).create_namespaced_deployment("payments", body)

    def k8s_refused() -> None:
        core_v1(f"https://{closed}").list_namespaced_pod("payments")

    def k8s_pod_names() -> list[str]:
        pods = core_v1(f"{api}/k8sok").list_namespaced_pod("payments", label_selector="app=web")
        return [pod.metadata.name for pod in pods.item]

    def k8s_kubeconfig() -> None:
        from kubernetes import config

        path = env.tmp / "kubeconfig35"
        path.write_text("apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n"
                        "  name: ci\n   users: []\ncurrent-context: ci\n")
        config.load_kube_config(config_file=str(path))

    def gh(name: str) -> Any:
        from github import Auth, Github

        return Github(auth=Auth.Token("ghs_b35b35"), base_url=f"{api}/{name}", retry=None, timeout=3, lazy=True)

    def gh_repo(name: str) -> None:
        from github import Auth, Github

        Github(auth=Auth.Token("ghs_b35b35"), base_url=f"{api}/{name}", retry=None, timeout=3
               ).get_repo("acme/payments").get_topics()

    def gh_label(name: str) -> None:
        gh(name).get_repo("acme/payments").create_label("release-35", "not-a-colour")

    def gh_issue_title() -> None:
        gh("ghok").get_repo("acme/payments").create_issue(title=35, body="nightly build failed")  # type: ignore[arg-type]

    def docker_client(base: str) -> Any:
        import docker

        return docker.DockerClient(base_url=base.replace("http://", "tcp://"), version="1.45", timeout=3)

    def docker_refused() -> None:
        import docker

        docker.DockerClient(base_url=f"tcp://{closed}", timeout=3).containers.list()

    def docker_login() -> None:
        docker_client(docker["login401"]).login(username="ci-bot", password="wrong-b35",
                                                registry="registry.b35.example",
                                                dockercfg_path=str(env.tmp / "no-docker-config.json"))

    def docker_pull() -> None:
        docker_client(docker["pull500"]).images.pull("registry.b35.example/acme/billing-api", tag="35")

    def docker_create() -> None:
        docker_client(docker["create400"]).containers.create("Acme/Billing-API:35", name="billing35")

    def docker_kwarg() -> None:
        docker_client(docker["create400"]).containers.run("alpine:3.20", "true", restart="always")

    def gcs(name: str) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project="b35-build", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": f"{api}/{name}"})

    def gcs_upload(name: str) -> None:
        blob = gcs(name).bucket("b35-tfstate").blob("env/prod/default.tflock")
        blob.upload_from_string(b'{"ID": "b35"}', content_type="application/json", retry=None)

    def gcs_list() -> None:
        for _ in gcs("gcs503").list_blobs("b35-artifacts", prefix="builds/35/", retry=None):
            pass

    def gcs_bucket() -> None:
        gcs("gcs400").create_bucket("B35_Nightly_Builds", location="EU", retry=None)

    def gcs_missing_file() -> None:
        blob = gcs("gcsok").bucket("b35-artifacts").blob("builds/35/app.tar.gz")
        blob.upload_from_filename(str(env.tmp / "dist" / "app-35.tar.gz"), retry=None)

    def azure_container(base: str) -> Any:
        from azure.storage.blob import BlobServiceClient

        conn = (f"DefaultEndpointsProtocol=http;AccountName=b35store;AccountKey={_AZ_KEY};"
                f"BlobEndpoint={base}/b35store;")
        svc = BlobServiceClient.from_connection_string(conn, retry_total=0, connection_timeout=3, read_timeout=3)
        return svc

    def azure_upload(name: str) -> None:
        azure_container(azure[name]).get_container_client("releases").upload_blob(
            "billing/35/app.tar.gz", b"b35", overwrite=True)

    def azure_create() -> None:
        azure_container(azure["name400"]).create_container("Releases_2026")

    def azure_refused() -> None:
        azure_container(f"http://{closed}").get_container_client("releases").get_container_properties()

    def azure_conn_string() -> None:
        from azure.storage.blob import BlobServiceClient

        BlobServiceClient.from_connection_string("DefaultEndpointsProtocol=https;AccountName=b35store;AccountKey")

    return [
        ("k8s_forbidden_secret", "auth", "k8s35", "ApiException", lambda: k8s_secret("k8s403")),
        ("k8s_invalid_deployment", "validation", "k8s35", "ApiException", k8s_deployment),
        ("k8s_too_many_requests", "resource", "k8s35", "ApiException", lambda: k8s_secret("k8s429")),
        ("k8s_apiserver_refused", "network", "k8s35", "MaxRetryError|NewConnectionError|ConnectionError",
         k8s_refused),
        ("k8s_result_attribute", "programming", "k8s35", "AttributeError", k8s_pod_names),
        ("k8s_kubeconfig_yaml", "validation", "k8s35", "YAMLError|ConfigException", k8s_kubeconfig),
        ("github_bad_credentials", "auth", "github35", "BadCredentialsException", lambda: gh_repo("gh401")),
        ("github_rate_limited", "resource", "github35", "RateLimitExceededException", lambda: gh_repo("gh403rate")),
        ("github_not_accessible", "auth", "github35", "GithubException", lambda: gh_label("gh403perm")),
        ("github_validation_failed", "validation", "github35", "GithubException", lambda: gh_label("gh422")),
        ("github_502", "service", "github35", "GithubException", lambda: gh_repo("gh502")),
        ("github_title_type", "programming", "github35", "AssertionError", gh_issue_title),
        ("docker_daemon_refused", "network", "docker35", "DockerException|ConnectionError", docker_refused),
        ("docker_login_unauthorized", "auth", "docker35", "APIError", docker_login),
        ("docker_pull_upstream_500", "service", "docker35", "APIError", docker_pull),
        ("docker_invalid_reference", "validation", "docker35", "APIError", docker_create),
        ("docker_unknown_kwarg", "programming", "docker35", "TypeError", docker_kwarg),
        ("gcs_upload_forbidden", "auth", "gcs35", "Forbidden", lambda: gcs_upload("gcs403")),
        ("gcs_mutation_rate", "resource", "gcs35", "TooManyRequests", lambda: gcs_upload("gcs429")),
        ("gcs_backend_error", "service", "gcs35", "ServiceUnavailable", gcs_list),
        ("gcs_invalid_bucket", "validation", "gcs35", "BadRequest", gcs_bucket),
        ("gcs_missing_upload_file", "filesystem", "gcs35", "FileNotFoundError", gcs_missing_file),
        ("azure_authentication_failed", "auth", "azure35", "ClientAuthenticationError",
         lambda: azure_upload("auth403")),
        ("azure_internal_error", "service", "azure35", "HttpResponseError", lambda: azure_upload("internal500")),
        ("azure_invalid_name", "validation", "azure35", "HttpResponseError", azure_create),
        ("azure_refused", "network", "azure35", "ServiceRequestError", azure_refused),
        ("azure_bad_connection_string", "validation", "azure35", "ValueError", azure_conn_string),
    ]


def _aws_cases() -> list[ToolCase]:
    ls = "AWS s3 ls s3://b35-releases/builds/ --endpoint-url"
    return [
        ("aws_signature_mismatch", "auth", "SignatureDoesNotMatch", f"{ls} API/s3sig"),
        ("aws_internal_error", "service", "InternalError", f"{ls} API/s3err"),
        ("aws_no_credentials", "auth", "Unable to locate credentials",
         f"env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY {ls} API/s3sig"),
        ("aws_refused", "network", "Could not connect", f"{ls} http://127.0.0.1:CLOSED"),
        ("aws_read_timeout", "network", "timeout", f"{ls} http://127.0.0.1:HANG --cli-read-timeout 1"),
        ("aws_missing_local_path", "filesystem", "does not exist",
         "AWS s3 cp TMP/dist/billing-35.tar.gz s3://b35-releases/builds/ --endpoint-url API/s3sig"),
        ("aws_invalid_json_param", "validation", "JSON",
         "AWS s3api put-bucket-tagging --bucket b35-releases --endpoint-url API/s3sig "
         "--tagging '{\"TagSet\": [{\"Key\": \"team\", \"Value\": \"billing\"},]}'"),
    ]


def _httpie_cases() -> list[ToolCase]:
    http = "HTTPIE --check-status --ignore-stdin --timeout 3"
    return [
        ("httpie_401", "auth", "401", f"{http} GET API/h401/v1/deployments 'Authorization:Bearer b35'"),
        ("httpie_422", "validation", "422", f"{http} POST API/h422/v1/deployments tag=v35"),
        ("httpie_429", "resource", "429", f"{http} GET API/h429/v1/deployments"),
        ("httpie_503", "service", "503", f"{http} GET API/h503/v1/health"),
        ("httpie_refused", "network", "connection", f"{http} GET http://127.0.0.1:CLOSED/v1/health"),
        ("httpie_timeout", "network", "timed out", "HTTPIE --check-status --ignore-stdin --timeout 1 GET "
         "http://127.0.0.1:HANG/v1/health"),
        ("httpie_missing_body_file", "filesystem", "Errno 2|No such",
         f"{http} POST API/ok/v1/deployments @TMP/payloads/deploy-35.json"),
    ]


def blind35_records(env: Env) -> list[Record]:
    api = fake_api(env, ROUTES)
    docker = {name: fake_api(env, fallback=reply) for name, reply in DOCKER.items()}
    azure = {name: fake_api(env, fallback=reply) for name, reply in AZURE.items()}
    home = env.tmp / "home35"
    home.mkdir()
    saved = {k: os.environ.get(k) for k in ("HOME", "KUBECONFIG", "DOCKER_CONFIG")}
    os.environ.update(HOME=str(home), KUBECONFIG=str(home / "no-kubeconfig"), DOCKER_CONFIG=str(home / ".docker"))
    try:
        out = python_records(_py_cases(env, api, docker, azure))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    aws = shutil.which("aws") or "aws"
    httpie = str(Path(sys.executable).with_name("http"))
    tool_env = (f"export HOME={home} AWS_ACCESS_KEY_ID=AKIAB35B35B35B35B35X AWS_SECRET_ACCESS_KEY=b35/secret/key "
                f"AWS_DEFAULT_REGION=eu-west-1 AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER= "
                f"AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE={home}/aws-config "
                f"AWS_SHARED_CREDENTIALS_FILE={home}/aws-credentials; ")

    def fill(text: str) -> str:
        return tool_env + (text.replace("AWS ", f"{aws} ").replace("HTTPIE", httpie).replace("API", api)
                           .replace("CLOSED", str(env.closed_port)).replace("HANG", str(env.hang_port))
                           .replace("TMP", str(env.tmp)))

    out += tool_records(_aws_cases(), "awscli35", env.tmp, fill, timeout=40)
    out += tool_records(_httpie_cases(), "httpie35", env.tmp, fill, timeout=40)
    return out


if __name__ == "__main__":
    write_batch(blind35_records)


__all__ = ["BLIND35_SOURCES", "blind35_records"]
