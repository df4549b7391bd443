"""Ninety-first batch of blind provokers: identity and secrets tooling, each against a real component on
127.0.0.1 started here (blind91_support). MIT Kerberos clients (kinit, kpasswd) against a private KDC in a
temporary realm (a wrong password, an unknown principal, an expired password, clock skew under
faketime, a missing keytab, a malformed principal or krb5.conf, a policy refusing a short password, a closed KDC
port) and its admin tools (kadmin without the privilege, a closed kadmind port, kadmin.local given a date it
cannot parse, kdb5_util dumping to a read-only mount, ktutil reading a missing keytab); authlib's OAuth2 and
OpenID Connect client against a small provider (invalid_client, invalid_grant, slow_down, a 500, an id_token
that expired or was signed by a rotated key, a truncated token, a 503 on discovery, a closed port, a wrong
call); python-keycloak against a fake Keycloak API (wrong password, invalid email, 429, 503, closed port); age
decrypting with the wrong or a missing identity, a malformed recipient, a truncated file, a read-only or full
output; pass without the gpg secret key, a missing entry, a read-only store, no git; ssh-keygen with a wrong
passphrase, a missing key, a key readable by others, a cut public key, and ssh-add with its agent gone; htpasswd
verification and updates; keyring with no backend or a mistyped one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from blind85_support import expect
from blind91_support import (
    KADMIN_PASSWORD,
    RIGHT_PASSWORD,
    Provider,
    Realm,
    fake_keycloak,
    gnupg_home,
    oidc_provider,
    private_realm,
)
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND91_SOURCES = frozenset({"krb5-91", "kadmin91", "authlib91", "keycloak91", "age91", "pass91", "openssh91",
                             "htpasswd91", "keyring91"})

#: a tool that reports its failure on stderr but exits 0 (kadmin -q, ktutil): what it printed, and exit 1
STDERR_FAILS = "fails_on_stderr() { local e; e=$(\"$@\" 2>&1 >/dev/null); [ -n \"$e\" ] && printf '%s\\n' \"$e\" >&2 " \
               "&& return 1; return 0; }; "

# --------------------------------------------------------------------------- Kerberos


def _kinit_tools(realm: Realm, env: Env) -> list[ToolCase]:
    pw = RIGHT_PASSWORD
    root = realm.root
    skew = root / "skew.conf"  # no time correction from the KDC's answer: the skew is reported, not fixed
    skew.write_text((root / "krb5.conf").read_text().replace("[libdefaults]\n", "[libdefaults]\n kdc_timesync = 0\n"))
    closed = realm.config_for("closed", f"127.0.0.1:{env.closed_port}")
    broken = root / "broken.conf"
    broken.write_text((root / "krb5.conf").read_text().replace("[libdefaults]", "[libdefaults", 1))
    return [
        ("kinit_wrong_password", "auth", "Password incorrect", "echo 'rigth-pw-91' | kinit alice"),
        ("kinit_unknown_principal", "auth", "not found in Kerberos database", f"echo {pw} | kinit alcie"),
        ("kinit_password_expired", "auth", "expired", f"echo {pw} | kinit bob 2>&1"),
        ("kinit_clock_skew", "auth", "Clock skew", f"echo {pw} | KRB5_CONFIG={skew} faketime -f '+3h' kinit grace"),
        ("kinit_kdc_closed", "network", "Cannot contact any KDC", f"echo {pw} | KRB5_CONFIG={closed} kinit alice"),
        ("kinit_keytab_missing", "filesystem", "not found", f"kinit -k -t {root}/keytabs/web.keytab HTTP/web.b91.test"),
        ("kinit_malformed_principal", "validation", "Malformed", f"echo {pw} | kinit 'alice@@B91.TEST'"),
        ("kinit_broken_krb5_conf", "validation", "Improper format", f"echo {pw} | KRB5_CONFIG={broken} kinit alice"),
        ("kpasswd_policy_too_short", "validation", "too short",
         f"printf '%s\\n%s\\n%s\\n' '{pw}-Long1' 'Sh0rt!' 'Sh0rt!' | kpasswd erin"),
    ]


def _kadmin_tools(realm: Realm, env: Env) -> list[ToolCase]:
    ro = mount_tmpfs(env, "krb_ro", "size=64k,ro")
    admin = f"-p admin/admin -w {KADMIN_PASSWORD}"
    return [
        ("kadmin_missing_privilege", "auth", "privilege",
         STDERR_FAILS + f"fails_on_stderr kadmin -p alice -w {RIGHT_PASSWORD} -q 'addprinc -randkey svc-backup'"),
        ("kadmin_server_closed", "network", "Communication failure",
         f"kadmin -s 127.0.0.1:{env.closed_port} {admin} -q listprincs"),
        ("kadmin_local_bad_expiry_date", "validation", "Invalid date",
         STDERR_FAILS + "fails_on_stderr kadmin.local -q 'addprinc -randkey -expire 31/12/2027 temp-contractor'"),
        ("kdb5_util_dump_read_only", "filesystem", "Read-only", f"kdb5_util dump {ro}/realm.dump"),
        ("ktutil_read_missing_keytab", "filesystem", "No such file",
         STDERR_FAILS + f"fails_on_stderr ktutil <<< 'rkt {realm.root}/backup/host.keytab'"),
    ]


def _krb_env(realm: Realm, text: str) -> str:
    exports = " ".join(f"{k}={v}" for k, v in realm.env.items())
    return f"export {exports}; {text}"


# --------------------------------------------------------------------------- authlib


def _authlib_cases(provider: Provider, env: Env) -> list[PyCase]:
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.jose import JsonWebKey, jwt

    base = provider.base

    def session(secret: str = "s3cret-91") -> OAuth2Session:
        return OAuth2Session("app91", secret, scope="openid profile", timeout=5)

    def invalid_client() -> None:
        session("s3cret-19").fetch_token(f"{base}/token", grant_type="client_credentials")

    def invalid_grant_code() -> None:
        session().fetch_token(f"{base}/token", grant_type="authorization_code", code="code-90",
                              redirect_uri="http://127.0.0.1/callback")

    def rate_limited() -> None:
        session().fetch_token(f"{base}/busy/token", grant_type="client_credentials")

    def server_error() -> None:
        session().fetch_token(f"{base}/broken/token", grant_type="client_credentials")

    def jwks() -> Any:
        import requests

        return JsonWebKey.import_key_set(requests.get(f"{base}/jwks", timeout=5).json())

    def id_token_expired() -> None:
        claims = jwt.decode(provider.id_token(exp_in=-120), jwks())
        claims.validate()

    def id_token_rotated_key() -> None:
        jwt.decode(provider.id_token(key=provider.rotated), jwks())

    def id_token_truncated() -> None:
        token = provider.id_token()
        jwt.decode(token[: token.rindex(".")], jwks())  # pasted without its signature part

    def refused() -> None:
        session().fetch_token(f"http://127.0.0.1:{env.closed_port}/token", grant_type="client_credentials")

    def discovery_503() -> None:
        from authlib.integrations.flask_client import OAuth
        from flask import Flask

        oauth = OAuth(Flask("b91"))
        client = oauth.register("idp", client_id="app91", client_secret="s3cret-91",
                                server_metadata_url=f"{base}/down/.well-known/openid-configuration")
        client.load_server_metadata()

    def wrong_call() -> None:
        session().create_authorization_url()  # the endpoint URL forgotten


    return [
        ("authlib_invalid_client", "auth", "authlib91", "OAuthError", expect("invalid_client", invalid_client)),
        ("authlib_invalid_grant_code", "auth", "authlib91", "OAuthError", expect("invalid_grant", invalid_grant_code)),
        ("authlib_slow_down", "resource", "authlib91", "OAuthError", expect("rate limit", rate_limited)),
        ("authlib_token_server_error", "service", "authlib91", "HTTPError", expect("500", server_error)),
        ("authlib_id_token_expired", "auth", "authlib91", "ExpiredTokenError", id_token_expired),
        ("authlib_jwks_key_mismatch", "auth", "authlib91", "BadSignatureError", id_token_rotated_key),
        ("authlib_id_token_truncated", "validation", "authlib91", "DecodeError", id_token_truncated),
        ("authlib_token_refused", "network", "authlib91", "ConnectionError", refused),
        ("authlib_discovery_503", "service", "authlib91", "HTTPError", expect("503", discovery_503)),
        ("authlib_missing_url_argument", "programming", "authlib91", "TypeError", wrong_call),
    ]


# --------------------------------------------------------------------------- python-keycloak


def _keycloak_cases(url: str, env: Env) -> list[PyCase]:
    from keycloak import KeycloakAdmin, KeycloakOpenID, KeycloakOpenIDConnection

    def openid(realm: str = "b91", server: str = url) -> KeycloakOpenID:
        return KeycloakOpenID(server_url=server, realm_name=realm, client_id="app91", timeout=5)

    def admin(realm: str = "b91", user: str = "admin") -> KeycloakAdmin:
        conn = KeycloakOpenIDConnection(server_url=url, username=user, password=RIGHT_PASSWORD, realm_name=realm,
                                        user_realm_name="master", client_id="admin-cli", timeout=5)
        return KeycloakAdmin(connection=conn)

    def new_user(realm: str = "b91", user: str = "admin", email: str = "jo@b91.test") -> None:
        admin(realm, user).create_user({"username": "jo", "email": email, "enabled": True})

    return [
        ("keycloak_wrong_password", "auth", "keycloak91", "KeycloakAuthenticationError",
         lambda: openid().token("alice", "right-pw-19")),
        ("keycloak_invalid_email", "validation", "keycloak91", "KeycloakPostError",
         expect("invalidEmail", lambda: new_user(email="jo.b91.test"))),
        ("keycloak_rate_limited", "resource", "keycloak91", "KeycloakPostError",
         expect("429", lambda: new_user(realm="busy"))),
        ("keycloak_realm_maintenance", "service", "keycloak91", "KeycloakPostError|KeycloakError",
         expect("503", lambda: openid(realm="maint").token("alice", RIGHT_PASSWORD))),
        ("keycloak_refused", "network", "keycloak91", "KeycloakConnectionError",
         lambda: openid(server=f"http://127.0.0.1:{env.closed_port}/").token("alice", RIGHT_PASSWORD)),
    ]


# --------------------------------------------------------------------------- age, pass, OpenSSH, htpasswd


def _age_tools(env: Env) -> list[ToolCase]:
    d = env.tmp / "age"
    d.mkdir()
    for name in ("deploy", "laptop"):
        subprocess.run(["age-keygen", "-o", str(d / f"{name}.key")], check=True, capture_output=True)
    recipient = subprocess.run(["age-keygen", "-y", str(d / "deploy.key")], check=True, capture_output=True,
                               text=True).stdout.strip()
    (d / "db.env").write_text("DB_PASSWORD=hunter2\n")
    subprocess.run(["age", "-r", recipient, "-o", str(d / "db.env.age"), str(d / "db.env")], check=True)
    (d / "cut.age").write_bytes((d / "db.env.age").read_bytes()[:60])
    ro = mount_tmpfs(env, "age_ro", "size=64k,ro")
    full = mount_tmpfs(env, "age_full", "size=8k")
    subprocess.run(["dd", "if=/dev/urandom", f"of={full}/filler", "bs=1k", "count=64"], capture_output=True)
    (d / "big").write_bytes(os.urandom(256 * 1024))
    return [
        ("age_wrong_identity", "auth", "no identity matched", f"age -d -i {d}/laptop.key {d}/db.env.age"),
        ("age_identity_missing", "filesystem", "no such file", f"age -d -i {d}/ci.key {d}/db.env.age"),
        ("age_malformed_recipient", "validation", "malformed recipient",
         f"age -r {recipient[:-4]}xxxx -o {d}/out.age {d}/db.env"),
        ("age_truncated_file", "validation", "header", f"age -d -i {d}/deploy.key {d}/cut.age"),
        ("age_output_read_only", "filesystem", "read-only", f"age -r {recipient} -o {ro}/db.env.age {d}/db.env"),
        ("age_output_full", "resource", "no space left", f"age -r {recipient} -o {full}/big.age {d}/big"),
    ]


def _pass_tools(env: Env) -> list[ToolCase]:
    home, fpr = gnupg_home(env, "gnupg_pass")
    store = env.tmp / "store"
    penv = {"GNUPGHOME": str(home), "PASSWORD_STORE_DIR": str(store)}
    subprocess.run(["pass", "init", fpr], env=dict(os.environ, **penv), check=True, capture_output=True)
    subprocess.run(["pass", "insert", "-e", "prod/db"], input="hunter2\n", text=True, env=dict(os.environ, **penv),
                   check=True, capture_output=True)
    ro_store = mount_tmpfs(env, "pass_ro", "size=256k")
    subprocess.run(["cp", "-a", f"{store}/.", str(ro_store)], check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(ro_store)], check=True, capture_output=True)
    # a second home that lost the secret key: the store still names the key, but nothing can decrypt
    lost = env.tmp / "gnupg_lost"
    subprocess.run(["cp", "-a", str(home), str(lost)], check=True)
    lenv = dict(os.environ, GNUPGHOME=str(lost))
    subprocess.run(["gpg", "--batch", "--yes", "--delete-secret-keys", fpr], env=lenv, check=True, capture_output=True)
    exports = f"export GNUPGHOME={home} PASSWORD_STORE_DIR={store}; "
    return [
        ("pass_no_secret_key", "auth", "No secret key", f"{exports}GNUPGHOME={lost} pass show prod/db"),
        ("pass_entry_missing", "filesystem", "not in the password store", f"{exports}pass show prod/dbb"),
        ("pass_insert_read_only", "filesystem", "Read-only",
         f"{exports}echo s3 | PASSWORD_STORE_DIR={ro_store} pass insert -e prod/api"),
        ("pass_git_not_a_repository", "git", "not a git repository", f"{exports}pass git log"),
    ]


def _openssh_tools(env: Env) -> list[ToolCase]:
    d = env.tmp / "ssh"
    d.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "right-pass-91", "-C", "deploy@b91", "-f",
                    str(d / "id_deploy")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id_shared")], check=True)
    (d / "id_shared").chmod(0o644)
    (d / "id_pasted.pub").write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI deploy@b91\n")  # cut off in a paste
    dead = d / "agent.sock"
    import socket

    with socket.socket(socket.AF_UNIX) as s:  # a socket file whose agent is gone
        s.bind(str(dead))
    return [
        ("ssh_keygen_wrong_passphrase", "auth", "incorrect passphrase",
         f"ssh-keygen -y -P 'rigth-pass-91' -f {d}/id_deploy"),
        ("ssh_keygen_key_missing", "filesystem", "No such file", f"ssh-keygen -y -f {d}/id_rsa"),
        ("ssh_keygen_key_too_open", "filesystem", "too open", f"ssh-keygen -y -P '' -f {d}/id_shared"),
        ("ssh_add_agent_gone", "network", "Connection refused", f"SSH_AUTH_SOCK={dead} ssh-add -l"),
        ("ssh_keygen_bad_public_key", "validation", "not a public key", f"ssh-keygen -l -f {d}/id_pasted.pub"),
    ]


def _htpasswd_tools(env: Env) -> list[ToolCase]:
    d = env.tmp / "htpasswd"
    d.mkdir()
    subprocess.run(["htpasswd", "-cbB", str(d / "users"), "alice", RIGHT_PASSWORD], check=True, capture_output=True)
    ro = mount_tmpfs(env, "ht_ro", "size=64k")
    subprocess.run(["cp", str(d / "users"), str(ro)], check=True)
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    return [
        ("htpasswd_verify_wrong_password", "auth", "verification failed", f"htpasswd -vb {d}/users alice rigth-pw"),
        ("htpasswd_file_missing", "filesystem", "cannot modify file", f"htpasswd -b {d}/user alice x"),
        ("htpasswd_illegal_username", "validation", "illegal character", f"htpasswd -b {d}/users 'ops:admin' x"),
        ("htpasswd_read_only", "filesystem", "cannot|read-only", f"htpasswd -b {ro}/users bob x"),
    ]


# --------------------------------------------------------------------------- keyring


def _keyring_cases() -> list[PyCase]:
    import keyring

    return [
        ("keyring_no_backend", "programming", "keyring91", "NoKeyringError",
         lambda: keyring.get_password("deploy91", "alice")),
        ("keyring_set_keyring_by_name", "programming", "keyring91", "TypeError",
         lambda: keyring.set_keyring("keyring.backends.SecretService.Keyring")),  # type: ignore[arg-type]
    ]


def _keyring_tools(venv_bin: Path) -> list[ToolCase]:
    return [
        ("keyring_cli_backend_typo", "programming", "No module named",
         f"PYTHON_KEYRING_BACKEND=keyring.backends.SecretServise.Keyring {venv_bin}/keyring get deploy91 alice"),
    ]


def blind91_records(env: Env) -> list[Record]:
    import logging
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")  # authlib.jose's deprecation notice
    realm = private_realm(env)

    def in_realm(text: str) -> str:
        return _krb_env(realm, text)

    out = tool_records(_kinit_tools(realm, env), "krb5-91", env.tmp, in_realm)
    out += tool_records(_kadmin_tools(realm, env), "kadmin91", env.tmp, in_realm)
    out += python_records(_authlib_cases(oidc_provider(env), env))
    out += python_records(_keycloak_cases(fake_keycloak(env), env))
    out += tool_records(_age_tools(env), "age91", env.tmp)
    out += tool_records(_pass_tools(env), "pass91", env.tmp)
    out += tool_records(_openssh_tools(env), "openssh91", env.tmp)
    out += tool_records(_htpasswd_tools(env), "htpasswd91", env.tmp)
    os.environ.pop("PYTHON_KEYRING_BACKEND", None)
    out += python_records(_keyring_cases())
    import sys

    out += tool_records(_keyring_tools(Path(sys.executable).parent), "keyring91", env.tmp)
    return out


if __name__ == "__main__":
    write_batch(blind91_records)


__all__ = ["BLIND91_SOURCES", "blind91_records"]
