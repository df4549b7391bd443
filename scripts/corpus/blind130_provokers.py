"""Hundred-and-thirtieth batch of blind provokers: lint, format and compose tools not seen before, each failing for
a cause provoked here on a small deployment repository (blind130_support). docker-compose v1 (Debian) on broken
compose files (bad indentation, unknown keys, a wrong port type, a bad interpolation, an undeclared volume), a
missing env file or compose file, and with no daemon (a refused TCP port, a dead unix socket) or a fake Engine API
that refuses by authorization plugin or fails while shutting down; podman-compose on a broken and a missing compose
file; yamllint on malformed Kubernetes manifests and broken configs; ansible-lint on playbooks with rule findings,
bad Jinja, a YAML error, an unknown keyword or module; shellcheck (Debian) on buggy and unparsable scripts;
hadolint on Dockerfiles with findings or a parse error and a broken config; markdownlint-cli and jsonlint (npm) on
docs and malformed JSON settings; commitlint on bad commit messages, outside a git repository, an unknown revision
and a missing config."""

from __future__ import annotations

from collections.abc import Callable

from blind130_support import NODE, VENV, Repo, prepare_repo
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND130_SOURCES = frozenset({"dockercompose130", "podmancompose130", "yamllint130", "ansiblelint130",
                              "shellcheck130", "hadolint130", "markdownlint130", "jsonlint130", "commitlint130"})

PRELUDE = "export HOME=TMPHOME NODE_PATH=NODEDIR/node_modules PATH=VENVDIR/bin:NODEDIR/node_modules/.bin:$PATH\n"


def _compose_cases() -> list[ToolCase]:
    def dc(project: str, args: str, host: str = "tcp://127.0.0.1:CLOSED") -> str:
        return f"cd ROOT/compose/{project} && DOCKER_HOST={host} timeout 60 docker-compose {args}"

    return [
        ("dc_yaml_indent", "validation", "expected <block end>|ParserError", dc("broken-indent", "config -q")),
        ("dc_unknown_option", "validation", "Unsupported config option", dc("bad-key", "config -q")),
        ("dc_ports_type", "validation", "invalid type", dc("bad-ports", "up -d")),
        ("dc_replicas_type", "validation", "not a valid integer", dc("bad-type", "config")),
        ("dc_bad_version", "validation", "is invalid", dc("bad-version", "up -d")),
        ("dc_interpolation", "validation", "Invalid interpolation", dc("bad-interp", "config")),
        ("dc_undeclared_volume", "validation", "no declaration was found", dc("undefined-volume", "up -d db")),
        ("dc_missing_env_file", "filesystem", "Couldn't find env file", dc("missing-envfile", "up -d")),
        ("dc_no_compose_file", "filesystem", "Can't find a suitable configuration file",
         "cd ROOT/scripts && DOCKER_HOST=tcp://127.0.0.1:CLOSED timeout 60 docker-compose up -d"),
        ("dc_missing_f_file", "filesystem", "No such file or directory",
         "cd ROOT && timeout 60 docker-compose -f /srv/billing/docker-compose.prod.yml config"),
        ("dc_tcp_refused", "network", "Connection refused|NewConnectionError", dc("ok", "ps")),
        ("dc_unix_refused", "network", "Connection refused", dc("ok", "up -d", "unix://DEADSOCK")),
        ("dc_authz_plugin", "auth", "authorization denied", dc("ok", "up -d", "tcp://127.0.0.1:AUTHZ")),
        ("dc_daemon_500", "service", "500 Server Error|Internal Server Error", dc("ok", "pull", "tcp://127.0.0.1:DOWN")),
    ]


def _podman_compose_cases() -> list[ToolCase]:
    return [
        ("pc_yaml_indent", "validation", "expected <block end>",
         "cd ROOT/compose/broken-indent && timeout 60 podman-compose --podman-path FAKEPODMAN up -d"),
        ("pc_no_compose_file", "filesystem", "no compose.yaml",
         "cd ROOT/docs && timeout 60 podman-compose --podman-path FAKEPODMAN up -d"),
    ]


def _yamllint_cases() -> list[ToolCase]:
    yl = "cd ROOT && yamllint"
    return [
        ("yl_unterminated_string", "validation", "syntax error", f"{yl} k8s/configmap.yaml"),
        ("yl_tab_indent", "validation", "syntax error", f"{yl} k8s/ingress.yaml"),
        ("yl_duplicate_key", "validation", "key-duplicates", f"{yl} k8s/service.yaml"),
        ("yl_undeclared_alias", "validation", "anchors|undeclared alias", f"{yl} k8s/secret.yaml"),
        ("yl_wrong_indentation", "validation", "indentation", f"{yl} -f parsable k8s/deployment.yaml"),
        ("yl_config_type", "validation", "invalid config", f"{yl} -c .yamllint-broken.yml k8s/service.yaml"),
        ("yl_config_rule", "validation", "no such rule", f"{yl} -c .yamllint-unknown.yml k8s/"),
        ("yl_missing_file", "filesystem", "No such file", f"{yl} k8s/hpa.yaml"),
    ]


def _ansible_lint_cases() -> list[ToolCase]:
    def al(playbook: str) -> str:  # its findings go to stdout, its summary to stderr: the terminal shows both
        return f"cd ROOT/ansible && timeout 150 ansible-lint --offline --nocolor {playbook} 2>&1"
    return [
        ("al_rule_findings", "programming", "no-changed-when|fqcn", al("playbooks/site.yml")),
        ("al_bad_jinja", "programming", "jinja[invalid]", al("playbooks/jinja.yml")),
        ("al_yaml_load_failure", "programming", "load-failure", al("playbooks/broken.yml")),
        ("al_bad_keyword", "programming", "syntax-check", al("playbooks/bad_keyword.yml")),
        ("al_unknown_module", "programming", "unknown-module|couldn't resolve", al("playbooks/unknown_module.yml")),
        ("al_missing_playbook", "filesystem", "not-found|No such file", al("playbooks/upgrade.yml")),
    ]


def _shellcheck_cases() -> list[ToolCase]:
    sc = "cd ROOT && shellcheck"
    return [
        ("sc_deploy_findings", "programming", "SC2086", f"{sc} scripts/deploy.sh"),
        ("sc_backup_posix", "programming", "SC3010|SC2046|SC3037", f"{sc} scripts/backup.sh"),
        ("sc_missing_done", "programming", "SC1061|SC1073", f"{sc} scripts/rotate.sh"),
        ("sc_missing_then", "programming", "SC1049|SC1073", f"{sc} scripts/healthcheck.sh"),
        ("sc_migrate_gcc_format", "programming", "SC2162|SC2038|SC2164", f"{sc} -f gcc scripts/migrate.sh"),
        ("sc_missing_file", "filesystem", "does not exist", f"{sc} scripts/restore.sh"),
        ("sc_unknown_shell", "validation", "Unknown shell", f"{sc} -s cshx scripts/deploy.sh"),
    ]


def _hadolint_cases() -> list[ToolCase]:
    hl = "cd ROOT && hadolint --no-color"
    return [
        ("hl_api_findings", "programming", "DL3007|DL3008", f"{hl} docker/api.Dockerfile"),
        ("hl_worker_findings", "programming", "DL3009|DL3000|DL3022", f"{hl} docker/worker.Dockerfile"),
        ("hl_worker_json", "programming", "DL3", f"{hl} -f json docker/worker.Dockerfile"),
        ("hl_parse_error", "programming", "unexpected", f"{hl} docker/broken.Dockerfile"),
        ("hl_bad_config", "validation", "Error parsing your config", f"{hl} -c .hadolint-broken.yaml "
         "docker/api.Dockerfile"),
        ("hl_missing_file", "filesystem", "does not exist", f"{hl} docker/scheduler.Dockerfile"),
    ]


def _markdown_json_cases() -> list[tuple[str, ToolCase]]:
    ml = "cd ROOT && markdownlint"
    jl = "cd ROOT && jsonlint -q"
    return [
        ("markdownlint130", ("ml_runbook", "validation", "MD022", f"{ml} docs/runbook.md")),
        ("markdownlint130", ("ml_changelog", "validation", "MD024|MD003", f"{ml} docs/CHANGELOG.md")),
        ("markdownlint130", ("ml_bad_config", "validation", "Cannot read or parse config",
                             f"{ml} -c docs/.markdownlint-bad.yaml docs/")),
        ("markdownlint130", ("ml_missing_config", "filesystem", "ENOENT|no such file",
                             f"{ml} -c docs/.markdownlint.jsonc docs/runbook.md")),
        ("jsonlint130", ("jl_trailing_comma", "validation", "Parse error", f"{jl} settings/appsettings.json")),
        ("jsonlint130", ("jl_single_quotes", "validation", "Parse error", f"{jl} settings/feature-flags.json")),
        ("jsonlint130", ("jl_missing_comma", "validation", "Parse error", f"{jl} settings/tsconfig.json")),
        ("jsonlint130", ("jl_unclosed", "validation", "Parse error", f"{jl} settings/package.json")),
        ("jsonlint130", ("jl_empty", "validation", "Parse error", f"{jl} settings/empty.json")),
        ("jsonlint130", ("jl_missing_file", "filesystem", "ENOENT", f"{jl} settings/appsettings.Production.json")),
    ]


def _commitlint_cases() -> list[ToolCase]:
    cl = "cd GITREPO && timeout 60 commitlint"
    piped = "cd GITREPO && echo {!r} | timeout 60 commitlint".format
    return [
        ("cl_range", "validation", "type-empty|subject-empty", f"{cl} --from HEAD~3 --to HEAD"),
        ("cl_last", "validation", "type-empty|subject-empty", f"{cl} --last"),
        ("cl_stdin_case", "validation", "subject-case|subject-full-stop|scope-case",
         piped("feat(Invoices): Add PDF export to the billing page.")),
        ("cl_stdin_type", "validation", "type-enum", piped("update: bump ledger client to 3.1")),
        ("cl_header_length", "validation", "header-max-length",
         piped("fix(billing): handle the rounding of invoice totals when the currency has three decimal places "
               "and the customer is tax exempt")),
        ("cl_not_a_repo", "git", "not a git repository", f"{cl} --from HEAD~1 --to HEAD --cwd ROOT/../"),
        ("cl_unknown_revision", "git", "unknown revision", f"{cl} --from v2.3.0"),
        ("cl_missing_config_file", "filesystem", "ENOENT", piped("feat: add export") + " -g GITREPO/.commitlintrc.js"),
        ("cl_no_rules", "validation", "Please add rules",
         "cd ROOT/docs && echo 'feat: add export' | timeout 60 commitlint"),
    ]


def blind130_records(env: Env) -> list[Record]:
    repo = prepare_repo(env)
    home = env.tmp / "home"
    home.mkdir()

    def fill(repo: Repo) -> Callable[[str], str]:
        values = {"ROOT": str(repo.root), "GITREPO": str(repo.git), "CLOSED": str(env.closed_port),
                  "AUTHZ": str(repo.authz_port), "DOWN": str(repo.down_port), "DEADSOCK": str(repo.dead_socket),
                  "FAKEPODMAN": str(repo.podman), "TMPHOME": str(home), "VENVDIR": str(VENV), "NODEDIR": str(NODE)}

        def apply(script: str) -> str:
            script = PRELUDE + script
            for key, value in values.items():
                script = script.replace(key, value)
            return script
        return apply

    f = fill(repo)
    out: list[Record] = []
    out += tool_records(_compose_cases(), "dockercompose130", repo.root, f, timeout=90)
    out += tool_records(_podman_compose_cases(), "podmancompose130", repo.root, f, timeout=90)
    out += tool_records(_yamllint_cases(), "yamllint130", repo.root, f)
    out += tool_records(_ansible_lint_cases(), "ansiblelint130", repo.root, f, timeout=180)
    out += tool_records(_shellcheck_cases(), "shellcheck130", repo.root, f)
    out += tool_records(_hadolint_cases(), "hadolint130", repo.root, f)
    for source, case in _markdown_json_cases():
        out += tool_records([case], source, repo.root, f)
    out += tool_records(_commitlint_cases(), "commitlint130", repo.root, f, timeout=90)
    return out


if __name__ == "__main__":
    write_batch(blind130_records)


__all__ = ["BLIND130_SOURCES", "blind130_records"]
