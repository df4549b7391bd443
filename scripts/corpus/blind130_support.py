"""Fixtures for blind130_provokers: a small deployment repository (compose files, Kubernetes manifests, an
Ansible role, shell scripts, Dockerfiles, docs and JSON settings) with the defects each linter reports, a git
checkout with bad commit messages for commitlint, and a fake Docker Engine API that answers with its own errors."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import Env
from servers import accept_loop

VENV = Path("/tmp/recoup-corpus-130")
NODE = Path("/tmp/recoup-corpus-130-node")

FILES: dict[str, str] = {
    # ------------------------------------------------------------------ compose
    "compose/broken-indent/docker-compose.yml": (
        "version: '3.8'\nservices:\n  api:\n    image: registry.internal/billing-api:2.4.1\n"
        "    ports:\n      - \"8080:8080\"\n   environment:\n      DATABASE_URL: postgres://billing@db/billing\n"
    ),
    "compose/bad-key/docker-compose.yml": (
        "version: '3.8'\nservices:\n  worker:\n    image: registry.internal/billing-worker:2.4.1\n"
        "    restart_policy: always\n    enviroment:\n      QUEUE_URL: amqp://rabbitmq:5672/billing\n"
    ),
    "compose/bad-ports/docker-compose.yml": (
        "version: '3.8'\nservices:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"80:http\"\n"
    ),
    "compose/bad-type/docker-compose.yml": (
        "version: '3.8'\nservices:\n  cache:\n    image: redis:7.4\n    command: redis-server\n"
        "    deploy:\n      replicas: two\n"
    ),
    "compose/bad-version/docker-compose.yml": (
        "version: '9.1'\nservices:\n  db:\n    image: postgres:16\n"
    ),
    "compose/missing-envfile/docker-compose.yml": (
        "version: '3.8'\nservices:\n  api:\n    image: registry.internal/billing-api:2.4.1\n"
        "    env_file:\n      - ./secrets/billing-api.env\n"
    ),
    "compose/undefined-volume/docker-compose.yml": (
        "version: '3.8'\nservices:\n  db:\n    image: postgres:16\n    volumes:\n"
        "      - pgdata:/var/lib/postgresql/data\n"
    ),
    "compose/bad-interp/docker-compose.yml": (
        "version: '3.8'\nservices:\n  api:\n    image: registry.internal/billing-api:${TAG:-2.4\n"
    ),
    "compose/ok/docker-compose.yml": (
        "version: '3.8'\nservices:\n  api:\n    image: registry.internal/billing-api:2.4.1\n"
        "    ports:\n      - \"8080:8080\"\n"
    ),
    "compose/ok/.env": "COMPOSE_PROJECT_NAME=billing\n",
    # ------------------------------------------------------------------ Kubernetes manifests / yamllint
    "k8s/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: billing-api\n  labels:\n    app: billing-api\n"
        "spec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: api\n"
        "          image: registry.internal/billing-api:2.4.1\n          env:\n"
        "            - name: LOG_LEVEL\n              value: info\n            - name: LOG_LEVEL\n"
        "              value: debug\n          ports:\n          - containerPort: 8080   \n"
    ),
    "k8s/configmap.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: billing-config\ndata:\n"
        "  invoice.cron: \"0 2 * * *\n  currency: EUR\n"
    ),
    "k8s/ingress.yaml": (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: billing\nspec:\n  rules:\n"
        "    - host: billing.corp.example\n      http:\n        paths:\n\t  - path: /\n"
    ),
    "k8s/service.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: billing-api\nspec:\n  selector:\n    app: billing-api\n"
        "  ports:\n    - port: 80\n      targetPort: 8080\n      targetPort: 8081\n"
    ),
    "k8s/secret.yaml": (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: billing-db\ntype: Opaque\nstringData:\n"
        "  password: &pw hunter2\n  replica_password: *replica_pw\n"
    ),
    ".yamllint-broken.yml": "extends: default\nrules:\n  line-length:\n    max: eighty\n",
    ".yamllint-unknown.yml": "extends: default\nrules:\n  trailing-whitespaces: enable\n",
    # ------------------------------------------------------------------ Ansible
    "ansible/playbooks/site.yml": (
        "- hosts: billing\n  become: yes\n  tasks:\n    - shell: systemctl restart billing-api\n"
        "    - name: install packages\n      apt: name=nginx state=latest\n"
        "    - name: render config\n      template:\n        src: billing.conf.j2\n        dest: /etc/billing.conf\n"
        "        mode: 0644\n"
    ),
    "ansible/playbooks/jinja.yml": (
        "- name: Configure billing\n  hosts: billing\n  tasks:\n    - name: Write motd\n"
        "      ansible.builtin.copy:\n        content: \"{{ inventory_hostname | upper }\"\n"
        "        dest: /etc/motd\n        mode: \"0644\"\n"
    ),
    "ansible/playbooks/broken.yml": (
        "- name: Deploy billing\n  hosts: billing\n  tasks:\n    - name: Pull image\n"
        "      ansible.builtin.command: docker pull registry.internal/billing-api:2.4.1\n"
        "     changed_when: false\n"
    ),
    "ansible/playbooks/unknown_module.yml": (
        "- name: Rotate logs\n  hosts: billing\n  tasks:\n    - name: Rotate billing logs\n"
        "      corp.ops.logrotate_now:\n        path: /var/log/billing\n"
    ),
    "ansible/playbooks/bad_keyword.yml": (
        "- name: Restart billing\n  hosts: billing\n  tasks:\n    - name: Restart service\n"
        "      ansible.builtin.service:\n        name: billing-api\n        state: restarted\n"
        "      notfiy: Reload nginx\n"
    ),
    # ------------------------------------------------------------------ shell scripts
    "scripts/deploy.sh": (
        "#!/bin/bash\nset -e\nRELEASE_DIR=/srv/billing/releases/$1\ncd $RELEASE_DIR\n"
        "for f in $(ls *.tar.gz); do\n  tar xzf $f\ndone\nif [ $ENVIRONMENT == production ]; then\n"
        "  echo \"deploying to prod\"\nfi\n"
    ),
    "scripts/backup.sh": (
        "#!/bin/sh\nBACKUP_DIR=/var/backups/billing\nfor db in billing ledger; do\n"
        "  pg_dump $db > $BACKUP_DIR/$db-$(date +%F).sql\n  if [[ $? -ne 0 ]]; then echo fail; fi\ndone\n"
        "echo -e \"done\\n\"\nlocal count=3\n"
    ),
    "scripts/rotate.sh": (
        "#!/bin/bash\nfor log in /var/log/billing/*.log; do\n  if [ -s \"$log\" ]; then\n"
        "    gzip \"$log\"\n  fi\n# missing done\n"
    ),
    "scripts/healthcheck.sh": (
        "#!/bin/bash\nstatus=$(curl -fsS http://127.0.0.1:8080/health)\nif [ \"$status\" = \"ok\" ]\n"
        "  echo healthy\nfi\n"
    ),
    "scripts/migrate.sh": (
        "#!/bin/bash\nsource ./env.sh\nread line\ncd /srv/billing && ./manage migrate\n"
        "rm -rf \"$STAGING_ROOT/\"*\nfind . -name '*.pyc' | xargs rm\n"
    ),
    # ------------------------------------------------------------------ Dockerfiles
    "docker/api.Dockerfile": (
        "FROM python:latest\nRUN apt-get update && apt-get install python3-dev gcc\n"
        "RUN cd /app && pip install -r requirements.txt\nADD . /app\nMAINTAINER ops@corp.example\n"
        "CMD python -m billing.api\n"
    ),
    "docker/worker.Dockerfile": (
        "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\nWORKDIR app\n"
        "COPY --from=builder /out/worker /usr/local/bin/\nUSER root\nENTRYPOINT /usr/local/bin/worker\n"
    ),
    "docker/broken.Dockerfile": (
        "FROM python:3.12-slim\nRUN pip install gunicorn \\\nCOPYY . /srv/app\nEXPOSE eighty\n"
    ),
    "docker/nofrom.Dockerfile": (
        "FROM alpine:3.20 AS build\nRUN apk add --no-cache go\nCMD [\"/bin/sh\", \"-c\"\n"
    ),
    ".hadolint-broken.yaml": "ignored:\n  - DL3008\nfailure-threshold: catastrophic\ntrustedRegistries: [\n",
    # ------------------------------------------------------------------ docs
    "docs/runbook.md": (
        "# Billing runbook\n## Restarting the API\nRun `systemctl restart billing-api`.  \n"
        "* step one\n+ step two\n\n\n### Escalation\nhttp://pager.corp.example/billing\n"
        "#Contacts\nsee the on-call sheet\n"
    ),
    "docs/CHANGELOG.md": (
        "Changelog\n=========\n\n## 2.4.1\n- fix invoice rounding\n## 2.4.0\n\n## 2.4.0\n\n"
        "```\nmake release\n```\n[broken link]()\n"
    ),
    "docs/.markdownlint.json": "{\n  \"default\": true,\n  \"MD013\": { \"line_length\": 100 },\n}\n",
    "docs/.markdownlint-bad.yaml": "default: true\nMD013:\n  line_length: [100\n",
    # ------------------------------------------------------------------ JSON settings
    "settings/appsettings.json": (
        "{\n  \"Logging\": { \"LogLevel\": { \"Default\": \"Information\" } },\n"
        "  \"ConnectionStrings\": { \"Billing\": \"Host=db;Database=billing\" },\n}\n"
    ),
    "settings/feature-flags.json": (
        "{\n  \"invoicePdfV2\": true,\n  'ledgerSync': false\n}\n"
    ),
    "settings/tsconfig.json": (
        "{\n  \"compilerOptions\": {\n    \"target\": \"ES2022\"\n    \"module\": \"commonjs\"\n  }\n}\n"
    ),
    "settings/package.json": (
        "{\n  \"name\": \"billing-ui\",\n  \"version\": \"2.4.1\",\n  \"scripts\": { \"build\": \"vite build\" }\n"
    ),
    "settings/schema.json": (
        "{\"type\": \"object\", \"required\": [\"currency\", \"retries\"], \"properties\": "
        "{\"currency\": {\"type\": \"string\", \"enum\": [\"EUR\", \"USD\"]}, \"retries\": {\"type\": \"integer\"}}}\n"
    ),
    "settings/billing.json": "{\"currency\": \"GBP\", \"retries\": \"three\"}\n",
    "settings/empty.json": "",
}


@dataclass
class Repo:
    root: Path
    git: Path
    authz_port: int
    down_port: int
    dead_socket: Path
    podman: Path


def _commitlint_repo(root: Path) -> Path:
    repo = root / "billing-ui"
    repo.mkdir()
    (repo / "commitlint.config.js").write_text("module.exports = { extends: ['@commitlint/config-conventional'] };\n")
    (repo / "package.json").write_text(json.dumps({"name": "billing-ui", "version": "2.4.1"}) + "\n")
    genv = dict(os.environ, GIT_AUTHOR_NAME="Dana Ops", GIT_AUTHOR_EMAIL="dana@corp.example",
                GIT_COMMITTER_NAME="Dana Ops", GIT_COMMITTER_EMAIL="dana@corp.example", GIT_CONFIG_NOSYSTEM="1")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "chore: scaffold billing-ui"]):
        subprocess.run(["git", *args], cwd=repo, env=genv, check=True)
    for msg in ("Fixed the invoice rounding bug.", "feat(Invoices): Add PDF export.", "wip"):
        with (repo / "CHANGES").open("a") as changes:
            changes.write(msg + "\n")
        subprocess.run(["git", "add", "."], cwd=repo, env=genv, check=True)
        subprocess.run(["git", "commit", "-qm", msg], cwd=repo, env=genv, check=True)
    return repo


def _docker_api(status: int, reason: str, message: str) -> Callable[[socket.socket], None]:
    """A Docker Engine API that answers every request with one error, in dockerd's JSON format."""
    payload = json.dumps({"message": message}).encode() + b"\n"
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nApi-Version: 1.45\r\n"
            f"Server: Docker/27.3.1 (linux)\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n")

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(head.encode() + payload)
    return answer


def prepare_repo(env: Env) -> Repo:
    root = env.tmp / "billing-deploy"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "ansible" / "playbooks" / "templates").mkdir()
    git = _commitlint_repo(env.tmp)
    authz = accept_loop(env, _docker_api(403, "Forbidden", "authorization denied by plugin opa-docker-authz: "
                                         "request rejected by policy data.docker.authz.allow"))
    down = accept_loop(env, _docker_api(500, "Internal Server Error", "Internal Server Error: dockerd is "
                                        "shutting down, refusing new requests"))
    dead = env.tmp / "run" / "docker.sock"  # a socket file nobody listens on: connecting is refused
    dead.parent.mkdir()
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(dead))
    podman = env.tmp / "bin" / "podman"  # podman itself is not installed: podman-compose only asks its version
    podman.parent.mkdir()
    podman.write_text("#!/bin/sh\necho 'podman version 4.3.1'\n")
    podman.chmod(0o755)
    env._closers.append(lambda: shutil.rmtree(root, ignore_errors=True))
    return Repo(root=root, git=git, authz_port=authz, down_port=down, dead_socket=dead, podman=podman)


__all__ = ["NODE", "VENV", "Repo", "prepare_repo"]
