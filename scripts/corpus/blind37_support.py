"""Fixtures for batch 37: the trees the CI tools of `blind37_provokers.py` run in (an Ansible inventory and
playbooks, a wheel bigger than a tmpfs, uv/tox/pytest/pre-commit projects). Nothing here fails by itself; the
provokers run the tools on these trees."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

from common import git_env, run

#: The virtualenv the batch runs in; ansible-playbook, uv, tox, pytest and pre-commit are installed there.
VENV_BIN = Path(sys.executable).parent
GIT_ENV = git_env("blind37")

_PLAY_HEADER = "- name: {name}\n  hosts: {hosts}\n  gather_facts: false\n  tasks:\n"


def tool_environment(tmp: Path) -> dict[str, str]:
    """Variables that keep every tool of the batch inside the batch directory and off the network."""
    return {
        "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(tmp / "ansible-remote-tmp"),
        "ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_CONFIG": str(tmp / "none.cfg"),
        "UV_CACHE_DIR": str(tmp / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1",
        "UV_HTTP_RETRIES": "0", "UV_HTTP_TIMEOUT": "3", "UV_NO_PROGRESS": "1",
        "PIP_RETRIES": "0", "PIP_TIMEOUT": "3", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1",
        "PIP_CONFIG_FILE": os.devnull, "VIRTUALENV_NO_PERIODIC_UPDATE": "1", "VIRTUALENV_NO_DOWNLOAD": "1",
        "PRE_COMMIT_HOME": str(tmp / "pre-commit-home"), "NO_COLOR": "1", "PY_COLORS": "0",
        **GIT_ENV,
    }


def write_tree(root: Path, files: Mapping[str, str], fill: Callable[[str], str] = str) -> Path:
    """Write `relative path -> text` under root (placeholders filled); returns root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text))
    return root


def write_playbook(root: Path, name: str, tasks: str, hosts: str = "local") -> None:
    """A one-play playbook `name.yml` with the given task list (YAML, indented by four spaces)."""
    (root / f"{name}.yml").write_text(_PLAY_HEADER.format(name=f"ci37 {name}", hosts=hosts) + tasks)


def build_wheel(dest: Path, name: str, version: str, payload_bytes: int) -> Path:
    """A valid pure-Python wheel carrying `payload_bytes` of incompressible data (to overflow a tmpfs)."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": b"VERSION = '" + version.encode() + b"'\n",
        f"{name}/assets.bin": os.urandom(payload_bytes),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: blind37\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    lines = []
    for rel, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append(f"{rel},sha256={digest},{len(data)}")
    lines.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = ("\n".join(lines) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
    return wheel


def git_repo(path: Path, files: Mapping[str, str], bare_clone: Path | None = None) -> None:
    """A git repository with one commit of `files` (and optionally a bare clone of it)."""
    write_tree(path, files)
    run(["bash", "-c", "git init -q -b main && git add -A && git commit -q -m initial"], cwd=path, env=GIT_ENV)
    if bare_clone is not None:
        run(["git", "clone", "-q", "--bare", str(path), str(bare_clone)], env=GIT_ENV)


__all__ = ["GIT_ENV", "VENV_BIN", "build_wheel", "git_repo", "tool_environment", "write_playbook", "write_tree"]
