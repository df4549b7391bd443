"""Forty-eighth batch of blind provokers: package managers and publishing against a fake registry on loopback
(blind48_support.py). twine uploading a tiny wheel (403, 401, 400 file exists, 400 bad metadata, 503, refused,
no dist file, a wheel without METADATA); pip installing from a local simple index (--require-hashes with a wrong
hash, a truncated wheel, a file answering 401 or 503, a refused index, a malformed requirement, a missing
requirements file); npm publish (401, 403, 503, refused, no token, invalid name, no package.json) and npm ci of a
lockfile whose sha512 integrity is wrong; gem install and gem push (401, 403, 503, refused) and gem build of a
malformed version; Maven resolving from a loopback mirror (401, 403, 503, closed port), a malformed pom.xml and a
missing settings file; git-lfs fetching from a loopback LFS endpoint (401, 403, 503, refused). The label is the
status, artifact or path we chose. Only 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from blind48_support import NPM_TGZ, WHEEL, build_npm_tarball, build_wheel, fake_registry
from checked import ToolCase, tool_records
from common import Env, Record, git_env, run, write_batch
from servers import mount_tmpfs

BLIND48_SOURCES = frozenset({"twine48", "pip48", "npm-pub48", "gem48", "maven48", "gitlfs48"})
_BIN = Path(sys.executable).parent
_GIT_ENV = git_env("blind48")


# --------------------------------------------------------------------------- twine

def twine_cases() -> list[ToolCase]:
    up = f"{_BIN}/twine upload --non-interactive --disable-progress-bar -u __token__ -p pypi-b48token"

    def to(prefix: str) -> str:
        return f"{up} --repository-url REG/{prefix}/ DIST/{WHEEL}"

    return [
        ("twine_upload_403", "auth", "403", to("pypi403")),
        ("twine_upload_401", "auth", "401", to("pypi401")),
        ("twine_upload_file_exists", "validation", "400", to("pypi400dup")),
        ("twine_upload_bad_metadata", "validation", "400", to("pypi400meta")),
        ("twine_upload_503", "service", "503", to("pypi503")),
        ("twine_upload_429", "resource", "429", to("pypi429")),
        ("twine_upload_refused", "network", "refused|connection", f"{up} --repository-url "
         f"http://127.0.0.1:CLOSED/legacy/ DIST/{WHEEL}"),
        ("twine_upload_no_dist", "filesystem", "cannot find|no such|not exist", f"{up} --repository-url "
         "REG/pypi403/ TMP/dist-empty48/*.whl"),
        ("twine_check_no_metadata", "validation", "METADATA", f"{_BIN}/twine check BROKEN"),
    ]


# --------------------------------------------------------------------------- pip

def pip_cases() -> list[ToolCase]:
    pip = (f"env -u PIP_FIND_LINKS -u PIP_CERT -u PIP_DEFAULT_TIMEOUT PIP_CONFIG_FILE=/dev/null {_BIN}/python -m pip "
           "--disable-pip-version-check --no-cache-dir --no-input --retries 0 --timeout 5")
    pip1 = pip.replace("--retries 0", "--retries 1")
    return [
        ("pip_require_hashes_mismatch", "validation", "hash", f"{pip} download --no-deps -d TMP/dl48-hash "
         "--index-url REG/pypi-ok/simple --require-hashes -r TMP/req48-hash.txt"),
        ("pip_truncated_wheel", "validation", "zip|invalid|wheel", f"{pip} install --no-deps --target "
         "TMP/site48-trunc --index-url REG/pypi-trunc/simple demo48==0.1.0"),
        ("pip_file_401", "auth", "401", f"{pip} download --no-deps -d TMP/dl48-401 --index-url "
         "REG/pypi-f401/simple demo48==0.1.0"),
        ("pip_file_503", "service", "503", f"{pip} download --no-deps -d TMP/dl48-503 --index-url "
         "REG/pypi-f503/simple demo48==0.1.0"),
        ("pip_index_refused", "network", "refused", f"{pip1} download --no-deps -d TMP/dl48-ref --index-url "
         "http://127.0.0.1:CLOSED/simple demo48==0.1.0"),
        ("pip_index_reset", "network", "reset|aborted", f"{pip1} download --no-deps -d TMP/dl48-rst --index-url "
         "http://127.0.0.1:RESET/simple demo48==0.1.0"),
        ("pip_file_403", "auth", "403", f"{pip} download --no-deps -d TMP/dl48-403 --index-url "
         "REG/pypi-f403/simple demo48==0.1.0"),
        ("pip_download_disk_full", "resource", "No space left|Errno 28", "head -c 300000 /dev/zero > PIPDISK/fill "
         f"2>/dev/null; TEMP=PIPDISK {pip} download --no-deps -d PIPDISK/dl --index-url REG/pypi-ok/simple "
         "demo48==0.1.0"),
        ("pip_download_read_only_dest", "filesystem", "Read-only|Errno 30", f"{pip} download --no-deps -d "
         "RODIR/wheelhouse --index-url REG/pypi-ok/simple demo48==0.1.0"),
        ("pip_setup_py_name_error", "programming", "NameError", f"{pip} install --no-deps --no-build-isolation "
         "--target TMP/site48-src TMP/proj48-broken"),
        ("pip_invalid_requirement", "validation", "invalid requirement|expected", f"{pip} install --target "
         "TMP/site48-bad --index-url REG/pypi-ok/simple 'demo48>=>0.1'"),
        ("pip_requirements_missing", "filesystem", "No such file|could not open", f"{pip} install -r "
         "TMP/ci48/requirements-prod.txt"),
    ]


# --------------------------------------------------------------------------- npm

def npm_cases() -> list[ToolCase]:
    npm = "npm --userconfig TMP/npmrc48 --cache TMP/npm-cache48 --fetch-retries 0 --no-audit --no-fund"

    def publish(prefix: str, pkg: str = "PKG") -> str:
        return f"cd {pkg} && {npm} publish --registry REG/{prefix}/"

    return [
        ("npm_publish_401", "auth", "401", publish("npm401")),
        ("npm_publish_403", "auth", "403", publish("npm403")),
        ("npm_publish_503", "service", "503", publish("npm503")),
        ("npm_publish_refused", "network", "ECONNREFUSED|refused", f"cd PKG && {npm} publish --registry "
         "http://127.0.0.1:CLOSED/"),
        ("npm_publish_429", "resource", "429", publish("npm429")),
        ("npm_publish_prepublish_type_error", "programming", "TypeError", publish("npm401", "TMP/npm-script48")),
        ("npm_install_corrupt_tarball", "validation", "TAR_BAD_ARCHIVE|tar|gzip|zlib", f"cd TMP/npm-app48-ok && "
         f"{npm} install --no-save TMP/npm-corrupt48.tgz"),
        ("npm_ci_reset", "network", "ECONNRESET|reset", f"cd TMP/npm-app48-reset && {npm} ci "
         "--registry REG/npmnotoken/"),
        ("npm_ci_cache_disk_full", "resource", "ENOSPC|no space", "head -c 300000 /dev/zero > NPMDISK/fill "
         f"2>/dev/null; cd TMP/npm-app48-ok && {npm.replace('TMP/npm-cache48', 'NPMDISK/cache')} ci "
         "--registry REG/npmnotoken/"),
        ("npm_publish_no_token", "auth", "ENEEDAUTH|logged in", publish("npmnotoken")),
        ("npm_publish_invalid_name", "validation", "name", publish("npm401", "TMP/npm-badname48")),
        ("npm_publish_no_package_json", "filesystem", "ENOENT|package.json", publish("npm401", "TMP/npm-empty48")),
        ("npm_ci_bad_integrity", "validation", "EINTEGRITY|integrity", f"cd TMP/npm-app48 && {npm} ci "
         "--registry REG/npmnotoken/"),
    ]


# --------------------------------------------------------------------------- gem

def gem_cases() -> list[ToolCase]:
    gem = "env HOME=TMP/gemhome48 GEM_HOME=TMP/gems48 GEM_PATH=TMP/gems48 GEM_HOST_API_KEY=rubygems_b48 gem"

    def install(url: str) -> str:
        return f"{gem} install demo48 --clear-sources --source {url} --no-document"

    return [
        ("gem_install_401", "auth", "401", install("REG/gem401/")),
        ("gem_install_403", "auth", "403", install("REG/gem403/")),
        ("gem_install_503", "service", "503", install("REG/gem503/")),
        ("gem_install_refused", "network", "refused", install("http://127.0.0.1:CLOSED/")),
        ("gem_install_429", "resource", "429", install("REG/gem429/")),
        ("gem_push_refused", "network", "refused", f"{gem} push GEMFILE --host http://127.0.0.1:CLOSED"),
        ("gem_install_corrupt_local", "validation", "format|corrupt|metadata|gzip|tar|not a", f"{gem} install "
         "--local TMP/vendor48/demo48-corrupt-0.1.0.gem --no-document"),
        ("gem_build_no_method", "programming", "undefined method|NoMethodError", f"cd TMP/gem-nomethod48 && "
         f"{gem} build demo48.gemspec"),
        ("gem_build_missing_gemspec", "filesystem", "find a gemspec|not found|No such file", f"cd TMP/gem48 && "
         f"{gem} build demo48-release.gemspec"),
        ("gem_push_401", "auth", "denied|401|unauthorized", f"{gem} push GEMFILE --host REG/gem401"),
        ("gem_push_403", "auth", "permission|403|forbidden", f"{gem} push GEMFILE --host REG/gem403"),
        ("gem_build_bad_version", "validation", "version", f"cd TMP/gem-bad48 && {gem} build demo48.gemspec"),
    ]


# --------------------------------------------------------------------------- maven

def maven_cases() -> list[ToolCase]:
    def mvn(prefix: str, project: str = "TMP/mvn48") -> str:
        return (f"cd {project} && timeout -k 5 60 mvn -B -ntp -s TMP/mvn48/settings-{prefix}.xml "
                f"-Dmaven.repo.local=TMP/m2-{prefix} -Dmaven.wagon.http.retryHandler.count=0 -Dstyle.color=never "
                "compile 2>&1")

    return [
        ("mvn_mirror_401", "auth", "401", mvn("mvn401")),
        ("mvn_mirror_403", "auth", "403", mvn("mvn403")),
        ("mvn_mirror_503", "service", "503", mvn("mvn503")),
        ("mvn_mirror_refused", "network", "refused", mvn("closed")),
        ("mvn_malformed_pom", "validation", "Non-parseable|parse|unexpected", mvn("mvn401", "TMP/mvn48-bad")),
        ("mvn_missing_settings", "filesystem", "does not exist", "cd TMP/mvn48 && mvn -B -s "
         "TMP/mvn48/settings-ci-missing.xml -Dstyle.color=never compile 2>&1"),
    ]


# --------------------------------------------------------------------------- git-lfs

def lfs_cases() -> list[ToolCase]:
    def fetch(prefix: str, url: str = "") -> str:
        return (f"cd TMP/lfs48 && git -c lfs.url={url or f'REG/{prefix}/info/lfs'} -c lfs.transfer.maxretries=1 "
                "lfs fetch origin main")

    def push(prefix: str) -> str:
        return (f"cd TMP/lfs48-push && git -c lfs.url=REG/{prefix}/info/lfs -c lfs.transfer.maxretries=1 "
                "-c lfs.locksverify=false lfs push origin main")

    return [
        ("lfs_fetch_401", "auth", "401|credentials|authoriz", fetch("lfs401")),
        ("lfs_fetch_403", "auth", "403|authoriz|access", fetch("lfs403")),
        ("lfs_fetch_503", "service", "503|server error|unavailable", fetch("lfs503")),
        ("lfs_push_403", "auth", "403|authoriz|access", push("lfs403")),
        ("lfs_push_503", "service", "503|server error|unavailable", push("lfs503")),
        ("lfs_fetch_refused", "network", "refused", fetch("", "http://127.0.0.1:CLOSED/info/lfs")),
    ]


# --------------------------------------------------------------------------- fixtures

_SETTINGS = """<settings><mirrors><mirror><id>loop48</id><mirrorOf>*</mirrorOf><url>{url}</url></mirror></mirrors>
<servers><server><id>loop48</id><username>ci</username><password>b48-secret</password></server></servers></settings>
"""
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>org.example.b48</groupId><artifactId>app48</artifactId><version>1.0.0</version>
<properties><maven.compiler.release>17</maven.compiler.release></properties>
<dependencies><dependency><groupId>org.example.b48</groupId><artifactId>lib48</artifactId><version>2.1.0</version>
</dependency></dependencies></project>
"""
_GEMSPEC = """Gem::Specification.new do |s|
  s.name = "demo48"
  s.version = "{version}"
  s.summary = "corpus gem"
  s.authors = ["C"]
  s.files = ["lib/demo48.rb"]
  s.license = "MIT"
end
"""


def _npm_app(app: Path, resolved: str, integrity: str) -> None:
    """An app whose package-lock pins demo48-pkg to a tarball URL with the given sha512 integrity."""
    app.mkdir()
    deps = {"demo48-pkg": "1.0.0"}
    (app / "package.json").write_text(json.dumps({"name": "app48", "version": "1.0.0", "dependencies": deps}))
    (app / "package-lock.json").write_text(json.dumps({
        "name": "app48", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "app48", "version": "1.0.0", "dependencies": deps},
                     "node_modules/demo48-pkg": {"version": "1.0.0", "resolved": resolved,
                                                 "integrity": integrity}}}, indent=2))


def _lfs_repo(repo: Path, reg: str, with_object: bool) -> None:
    """A git repository tracking model.bin as an LFS pointer; with_object puts the object in .git/lfs."""
    repo.mkdir()
    blob = b"model weights of batch 48\n" * 40
    oid = hashlib.sha256(blob).hexdigest()
    (repo / ".gitattributes").write_text("*.bin filter=lfs diff=lfs merge=lfs -text\n")
    (repo / "model.bin").write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(blob)}\n")
    run(["bash", "-c", f"git init -q -b main && git remote add origin {reg}/lfs-origin/repo.git && "
         "git -c filter.lfs.clean=cat -c filter.lfs.smudge=cat add -A && git commit -q -m pointer"],
        cwd=repo, env=_GIT_ENV)
    if with_object:
        store = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4]
        store.mkdir(parents=True)
        (store / oid).write_bytes(blob)


def _prepare(env: Env, reg: str) -> Callable[[str], str]:
    tmp = env.tmp
    dist = tmp / "dist48"
    dist.mkdir()
    build_wheel(dist)
    (tmp / "dist-empty48").mkdir()
    broken = tmp / "broken48" / "demo48-0.2.0-py3-none-any.whl"
    broken.parent.mkdir()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("demo48/__init__.py", "VALUE = 48\n")
    (tmp / "req48-hash.txt").write_text(f"demo48==0.1.0 --hash=sha256:{hashlib.sha256(b'b48').hexdigest()}\n")
    (tmp / "ci48").mkdir()
    proj = tmp / "proj48-broken"
    proj.mkdir()
    (proj / "setup.py").write_text("from setuptools import setup\n\nsetup(name='demo48b', version=VERSION, "
                                   "py_modules=['demo48b'])\n")
    (proj / "demo48b.py").write_text("VALUE = 48\n")
    pipdisk = mount_tmpfs(env, "pipdisk48", "size=64k")
    npmdisk = mount_tmpfs(env, "npmdisk48", "size=64k")
    rodir = mount_tmpfs(env, "ro48", "size=64k,ro")

    # npm: a package to publish, one with an invalid name, an empty dir, an app with a wrong lockfile integrity
    port = reg.rsplit(":", 1)[1]
    (tmp / "npmrc48").write_text("".join(f"//127.0.0.1:{port}/{p}/:_authToken=npm_b48token\n"
                                         for p in ("npm401", "npm403", "npm429", "npm503"))
                                 + f"//127.0.0.1:{env.closed_port}/:_authToken=npm_b48token\n")
    pkg = tmp / "npm-pkg48"
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": "demo48-pkg", "version": "1.0.0", "main": "index.js"}))
    (pkg / "index.js").write_text("module.exports = 48;\n")
    bad = tmp / "npm-badname48"
    bad.mkdir()
    (bad / "package.json").write_text(json.dumps({"name": "Demo48 Package!", "version": "1.0.0"}))
    (tmp / "npm-empty48").mkdir()
    script = tmp / "npm-script48"
    script.mkdir()
    (script / "package.json").write_text(json.dumps({
        "name": "demo48-scripted", "version": "1.0.0",
        "scripts": {"prepublishOnly": "node -e \"const manifest = {}; manifest.dist.files.map(String)\""}}))
    tarball = build_npm_tarball(tmp).read_bytes()
    (tmp / "npm-corrupt48.tgz").write_bytes(tarball[: len(tarball) // 2])
    good = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    wrong = "sha512-" + base64.b64encode(hashlib.sha512(b"not the tarball").digest()).decode()
    for name, base, integrity in (("npm-app48", reg, wrong), ("npm-app48-ok", reg, good),
                                  ("npm-app48-reset", f"http://127.0.0.1:{env.reset_port}", good)):
        _npm_app(tmp / name, f"{base}/npm-tarballs/{NPM_TGZ}", integrity)

    # gem: a built gem to push, a gemspec with a malformed version
    (tmp / "gemhome48").mkdir()
    for name, version, extra in (("gem48", "0.1.0", ""), ("gem-bad48", "1.0.0 beta 2", ""),
                                 ("gem-nomethod48", "0.1.0", '  s.homepage_url = "https://example.org/demo48"\n')):
        (tmp / name / "lib").mkdir(parents=True)
        (tmp / name / "lib" / "demo48.rb").write_text("module Demo48; end\n")
        (tmp / name / "demo48.gemspec").write_text(_GEMSPEC.format(version=version).replace("end\n", extra + "end\n"))
    run(["gem", "build", "demo48.gemspec"], cwd=tmp / "gem48", env={"HOME": str(tmp / "gemhome48")})
    gemfile = tmp / "gem48" / "demo48-0.1.0.gem"
    gem_bytes = gemfile.read_bytes() if gemfile.exists() else b""
    (tmp / "vendor48").mkdir()
    (tmp / "vendor48" / "demo48-corrupt-0.1.0.gem").write_bytes(gem_bytes[: len(gem_bytes) // 3])

    # maven: a project depending on one artifact, settings per mirror, a malformed pom
    mvn = tmp / "mvn48"
    mvn.mkdir()
    (mvn / "pom.xml").write_text(_POM)
    for prefix in ("mvn401", "mvn403", "mvn503"):
        (mvn / f"settings-{prefix}.xml").write_text(_SETTINGS.format(url=f"{reg}/{prefix}/maven2"))
    (mvn / "settings-closed.xml").write_text(_SETTINGS.format(url=f"http://127.0.0.1:{env.closed_port}/maven2"))
    (tmp / "mvn48-bad").mkdir()
    (tmp / "mvn48-bad" / "pom.xml").write_text(_POM.replace("</version>\n<properties>", "\n<properties>", 1))

    # git-lfs: a repository whose tracked file is an LFS pointer to an object nobody has locally (fetch), and
    # one that has the object in its LFS store (push)
    _lfs_repo(tmp / "lfs48", reg, with_object=False)
    _lfs_repo(tmp / "lfs48-push", reg, with_object=True)

    def fill(text: str) -> str:
        return (text.replace("REG", reg).replace("CLOSED", str(env.closed_port)).replace("DIST", str(dist))
                .replace("BROKEN", str(broken)).replace("PKG", str(pkg)).replace("GEMFILE", str(gemfile))
                .replace("PIPDISK", str(pipdisk)).replace("NPMDISK", str(npmdisk))
                .replace("RESET", str(env.reset_port)).replace("RODIR", str(rodir)).replace("TMP", str(tmp)))

    return fill


def blind48_records(env: Env) -> list[Record]:
    wheel = build_wheel(env.tmp)
    tarball = build_npm_tarball(env.tmp)
    reg = fake_registry(env, wheel, tarball)
    fill = _prepare(env, reg)
    out = tool_records(twine_cases(), "twine48", env.tmp, fill)
    out += tool_records(pip_cases(), "pip48", env.tmp, fill)
    out += tool_records(npm_cases(), "npm-pub48", env.tmp, fill)
    out += tool_records(gem_cases(), "gem48", env.tmp, fill)
    out += tool_records(maven_cases(), "maven48", env.tmp, fill, timeout=90)
    out += tool_records(lfs_cases(), "gitlfs48", env.tmp, fill)
    return out


if __name__ == "__main__":
    write_batch(blind48_records)


__all__ = ["BLIND48_SOURCES", "blind48_records"]
