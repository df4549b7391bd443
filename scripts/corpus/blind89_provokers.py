"""Eighty-ninth batch of blind provokers: the JavaScript build and lint toolchain from npm (installed in its own
prefix, see blind89_support), each tool run for real on small projects written here. webpack, esbuild and rollup
bundle sources with syntax errors, unresolved imports and missing exports, missing entries and configs, invalid
configs, loaders and plugins that cannot be loaded or are misused, outputs on a read-only and on a full tmpfs, and
a generated module too big for a small --max-old-space-size; eslint, prettier, babel, sass, postcss, terser and
stylelint on broken sources, malformed JSON/YAML configs, invalid options, missing files, presets and plugins,
plugins crashing on their own defect, writes to read-only and full mounts; npm installing a private package from
a registry on 127.0.0.1 that answers 401/403/429/503, a closed, resetting and hanging registry port, a malformed
package.json, `npm pack` into a read-only directory, and a script whose own code fails."""

from __future__ import annotations

from blind89_support import NODE89_BIN, remount_read_only, write_fixtures
from checked import ToolCase, problem, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND89_SOURCES = frozenset({"webpack89", "esbuild89", "rollup89", "eslint89", "prettier89", "babel89", "sass89",
                             "postcss89", "terser89", "stylelint89", "npm89"})

#: a heap too small for the generated module (V8 aborts with "JavaScript heap out of memory")
SMALL_HEAP = "NODE_OPTIONS=--max-old-space-size=24"

WEBPACK: list[ToolCase] = [
    ("webpack_syntax_error", "programming", "Module parse failed|SyntaxError",
     "cd @W@/webpack && @B@/webpack --mode production --entry ./src/broken.js -o dist"),
    ("webpack_unresolved_import", "programming", "Can't resolve",
     "cd @W@/webpack && @B@/webpack --mode production --entry ./src/unresolved.js -o dist"),
    ("webpack_missing_config", "filesystem", "ENOENT|not found|Failed to load",
     "cd @W@/webpack && @B@/webpack --config ./webpack.prod.config.js"),
    ("webpack_invalid_config", "validation", "Invalid configuration object",
     "cd @W@/webpack && @B@/webpack --config ./webpack.invalid.config.js"),
    ("webpack_loader_missing", "programming", "Can't resolve 'babel-loadr'",
     "cd @W@/webpack && @B@/webpack --config ./webpack.loader.config.js -o dist"),
    ("webpack_plugin_missing", "programming", "Cannot find module",
     "cd @W@/webpack && @B@/webpack --config ./webpack.plugin.config.js -o dist"),
    ("webpack_plugin_typo", "programming", "TypeError|is not a constructor",
     "cd @W@/webpack && @B@/webpack --config ./webpack.typo.config.js -o dist"),
    ("webpack_output_read_only", "filesystem", "EROFS|read-only",
     "cd @W@/webpack && @B@/webpack --mode production --entry ./src/index.js -o @RO@/webpack"),
    ("webpack_output_disk_full", "resource", "ENOSPC|no space",
     "cd @W@/big && @B@/webpack --mode none --entry ./index.js -o @FULL@/webpack"),
    ("webpack_heap_exhausted", "resource", "heap out of memory",
     f"cd @W@/big && {SMALL_HEAP} @B@/webpack --mode production --entry ./index.js -o dist"),
]

ESBUILD: list[ToolCase] = [
    ("esbuild_syntax_error", "programming", "ERROR",
     "cd @W@/esbuild && @B@/esbuild src/broken.js --bundle --outfile=dist/out.js"),
    ("esbuild_unresolved_import", "programming", "Could not resolve",
     "cd @W@/esbuild && @B@/esbuild src/unresolved.js --bundle --outfile=dist/out.js"),
    ("esbuild_malformed_json_import", "validation", "json|Expected",
     "cd @W@/esbuild && @B@/esbuild src/uses_rates.js --bundle --outfile=dist/out.js"),
    ("esbuild_plugin_defect", "programming", "TypeError|is not a function|undefined",
     "cd @W@/esbuild && node build_plugin.mjs"),
    ("esbuild_output_read_only", "filesystem", "read-only|EROFS",
     "cd @W@/esbuild && @B@/esbuild src/index.js --bundle --outfile=@RO@/esbuild/out.js"),
    ("esbuild_output_disk_full", "resource", "no space|ENOSPC",
     "cd @W@/big && @B@/esbuild index.js --bundle --outfile=@FULL@/esbuild/out.js"),
]

ROLLUP: list[ToolCase] = [
    ("rollup_syntax_error", "programming", "RollupError|Expected|Parse failure",
     "cd @W@/rollup && @B@/rollup src/broken.js -o dist/bundle.js -f es"),
    ("rollup_unresolved_import", "programming", "Could not resolve",
     "cd @W@/rollup && @B@/rollup src/unresolved.js -o dist/bundle.js -f es"),
    ("rollup_missing_export", "programming", "is not exported by",
     "cd @W@/rollup && @B@/rollup src/missing_export.js -o dist/bundle.js -f es"),
    ("rollup_missing_config", "filesystem", "ENOENT|Cannot find|not find",
     "cd @W@/rollup && @B@/rollup -c rollup.prod.config.mjs"),
    ("rollup_invalid_format", "validation", "format|Invalid value",
     "cd @W@/rollup && @B@/rollup -c rollup.invalid.config.mjs"),
    ("rollup_plugin_missing", "programming", "Cannot find package|ERR_MODULE_NOT_FOUND|Cannot find module",
     "cd @W@/rollup && @B@/rollup -c rollup.plugin.config.mjs"),
    ("rollup_output_read_only", "filesystem", "EROFS|read-only",
     "cd @W@/rollup && @B@/rollup src/index.js -o @RO@/bundle.js -f es"),
    ("rollup_heap_exhausted", "resource", "heap out of memory",
     f"cd @W@/big && {SMALL_HEAP} @B@/rollup index.js -o dist/bundle.js -f es"),
]

ESLINT: list[ToolCase] = [
    ("eslint_parsing_error", "programming", "Parsing error",
     "cd @W@/eslint && @B@/eslint src/broken.js"),
    ("eslint_invalid_rule_severity", "validation", "Configuration for rule|severity|invalid",
     "cd @W@/eslint && @B@/eslint -c eslint.badrule.config.mjs src/ok.js"),
    ("eslint_plugin_missing", "programming", "Cannot find package|ERR_MODULE_NOT_FOUND|eslint-plugin-react",
     "cd @W@/eslint && @B@/eslint -c eslint.plugin.config.mjs src/ok.js"),
    ("eslint_missing_config", "filesystem", "ENOENT|Could not find|Cannot find",
     "cd @W@/eslint && @B@/eslint -c eslint.ci.config.mjs src/ok.js"),
]

PRETTIER: list[ToolCase] = [
    ("prettier_syntax_error", "programming", "SyntaxError",
     "cd @W@/prettier && @B@/prettier --check src/broken.js"),
    ("prettier_malformed_json_rc", "validation", "Invalid configuration|JSON|Unexpected",
     "cd @W@/prettier/badrc && @B@/prettier --check ok.js"),
    ("prettier_invalid_option", "validation", "Invalid|tabWidth",
     "cd @W@/prettier/badopt && @B@/prettier --check ok.js"),
    ("prettier_plugin_missing", "programming", "Cannot find package|prettier-plugin-tailwindcss",
     "cd @W@/prettier && @B@/prettier --plugin prettier-plugin-tailwindcss --check src/ok.js"),
    ("prettier_missing_input", "filesystem", "No files matching",
     "cd @W@/prettier && @B@/prettier --check src/checkout.js"),
    ("prettier_write_read_only", "filesystem", "EROFS|read-only",
     "cd @INPLACE@ && @B@/prettier --write ugly.js"),
]

BABEL: list[ToolCase] = [
    ("babel_syntax_error", "programming", "SyntaxError",
     "cd @W@/babel && @B@/babel src/broken.js -o dist/broken.js"),
    ("babel_malformed_babelrc", "validation", "Error while parsing|JSON|Unexpected",
     "cd @W@/babel/badrc && @B@/babel ok.js"),
    ("babel_preset_missing", "programming", "Cannot find package|Cannot find module|preset-typescript",
     "cd @W@/babel/missingpreset && @B@/babel ok.js"),
    ("babel_unknown_option", "validation", "Unknown option",
     "cd @W@/babel/unknownopt && @B@/babel ok.js"),
    ("babel_plugin_crash", "programming", "TypeError",
     "cd @W@/babel/plugin && @B@/babel ok.js"),
    ("babel_missing_input", "filesystem", "does not exist",
     "cd @W@/babel && @B@/babel src/checkout.js -o dist/checkout.js"),
    ("babel_output_disk_full", "resource", "ENOSPC|no space",
     "cd @W@/big && @B@/babel huge.js --no-babelrc --compact false -o @FULL@/babel-huge.js"),
]

SASS: list[ToolCase] = [
    ("sass_syntax_error", "programming", "expected",
     "cd @W@/sass && @B@/sass broken.scss out/broken.css"),
    ("sass_undefined_variable", "programming", "Undefined variable",
     "cd @W@/sass && @B@/sass undefined_var.scss out/v.css"),
    ("sass_missing_module", "programming", "Can't find stylesheet",
     "cd @W@/sass && @B@/sass missing_use.scss out/u.css"),
    ("sass_missing_input", "filesystem", "no such file|Cannot open|not found",
     "cd @W@/sass && @B@/sass theme.scss out/theme.css"),
    ("sass_output_read_only", "filesystem", "read-only|EROFS",
     "cd @W@/sass && @B@/sass ok.scss @RO@/sass/ok.css"),
]

POSTCSS: list[ToolCase] = [
    ("postcss_css_syntax_error", "programming", "CssSyntaxError|Unclosed",
     "cd @W@/postcss/syntax && @B@/postcss broken.css -o out/broken.css --no-map"),
    ("postcss_config_plugin_missing", "programming", "Cannot find module|postcss-preset-env",
     "cd @W@/postcss/missingplugin && @B@/postcss ok.css -o out.css --no-map"),
    ("postcss_malformed_yaml_rc", "validation", "YAML|bad indentation|mapping",
     "cd @W@/postcss/badyaml && @B@/postcss ok.css -o out.css --no-map"),
    ("postcss_malformed_json_rc", "validation", "JSON|Unexpected",
     "cd @W@/postcss/badjson && @B@/postcss ok.css -o out.css --no-map"),
    ("postcss_output_read_only", "filesystem", "EROFS|read-only",
     "cd @W@/postcss && @B@/postcss ok.css -o @RO@/ok.css --no-map"),
]

TERSER: list[ToolCase] = [
    ("terser_missing_input", "filesystem", "ENOENT|no such file",
     "cd @W@/terser && @B@/terser vendor.js -c -m -o out.min.js"),
    ("terser_malformed_config", "validation", "JSON|Unexpected",
     "cd @W@/terser && @B@/terser ok.js --config-file bad.config.json -o out.min.js"),
    ("terser_output_disk_full", "resource", "ENOSPC|no space",
     "cd @W@/big && @B@/terser huge.js -o @FULL@/terser-huge.min.js"),
    ("terser_heap_exhausted", "resource", "heap out of memory",
     f"cd @W@/big && {SMALL_HEAP} @B@/terser huge.js -c -m -o huge.min.js"),
]

STYLELINT: list[ToolCase] = [
    ("stylelint_malformed_json_rc", "validation", "JSON|Unexpected|parse",
     "cd @W@/stylelint/badjson && @B@/stylelint ok.css"),
    ("stylelint_invalid_option", "validation", "Invalid option",
     "cd @W@/stylelint/badoption && @B@/stylelint ok.css"),
    ("stylelint_extends_missing", "programming", "Could not find|Cannot find|stylelint-config-recess-order",
     "cd @W@/stylelint/extends && @B@/stylelint ok.css"),
]

_NPM_INSTALL = ("cd @W@/npm/app && rm -rf node_modules package-lock.json && npm install --no-audit --no-fund "
                "--fetch-retries=0 --cache @W@/npm-cache --prefer-online ")
NPM: list[ToolCase] = [
    ("npm_registry_401", "auth", "E401|401",
     _NPM_INSTALL + "--registry @HTTP@/status/401/"),
    ("npm_registry_403", "auth", "E403|403",
     _NPM_INSTALL + "--registry @HTTP@/status/403/"),
    ("npm_registry_503", "service", "E503|503",
     _NPM_INSTALL + "--registry @HTTP@/status/503/"),
    ("npm_registry_429", "resource", "E429|429",
     _NPM_INSTALL + "--registry @HTTP@/status/429/"),
    ("npm_registry_502", "service", "E502|502",
     _NPM_INSTALL + "--registry @HTTP@/status/502/"),
    ("npm_registry_truncated", "network", "premature|aborted|ECONNRESET|Invalid response body|EOF",
     _NPM_INSTALL + "--registry http://127.0.0.1:@CLOSE@/"),
    ("npm_registry_closed", "network", "ECONNREFUSED",
     _NPM_INSTALL + "--registry http://127.0.0.1:@CLOSED@/"),
    ("npm_registry_reset", "network", "ECONNRESET|socket hang up",
     _NPM_INSTALL + "--registry http://127.0.0.1:@RESET@/"),
    ("npm_registry_timeout", "network", "ETIMEDOUT|timeout|timed out",
     _NPM_INSTALL + "--fetch-timeout=2000 --registry http://127.0.0.1:@HANG@/"),
    ("npm_malformed_package_json", "validation", "EJSONPARSE|JSON",
     "cd @W@/npm/broken && npm install --no-audit --no-fund --offline --cache @W@/npm-cache"),
    ("npm_pack_read_only", "filesystem", "EROFS|read-only",
     "cd @W@/npm/lib && npm pack --pack-destination @RO@ --cache @W@/npm-cache"),
    ("npm_run_script_defect", "programming", "Cannot find module|MODULE_NOT_FOUND",
     "cd @W@/npm/scripts && npm run build --cache @W@/npm-cache"),
]

GROUPS: list[tuple[str, list[ToolCase]]] = [
    ("webpack89", WEBPACK), ("esbuild89", ESBUILD), ("rollup89", ROLLUP), ("eslint89", ESLINT),
    ("prettier89", PRETTIER), ("babel89", BABEL), ("sass89", SASS), ("postcss89", POSTCSS), ("terser89", TERSER),
    ("stylelint89", STYLELINT), ("npm89", NPM),
]


def blind89_records(env: Env) -> list[Record]:
    if not NODE89_BIN.is_dir():
        problem("node89", "toolchain missing in /tmp/recoup-corpus-89-node, batch skipped")
        return []
    work = env.tmp / "work89"
    write_fixtures(work)
    ro = mount_tmpfs(env, "ro89", "size=64k,ro")
    full = mount_tmpfs(env, "full89", "size=48k")
    inplace = mount_tmpfs(env, "inplace89", "size=64k")
    (inplace / "ugly.js").write_text("export const cart = {items:[ ],total:0,currency:'EUR'}\n", encoding="utf-8")
    remount_read_only(inplace)

    def fill(text: str) -> str:
        for key, value in (("@B@", str(NODE89_BIN)), ("@N@", str(NODE89_BIN.parents[1])), ("@W@", str(work)),
                           ("@RO@", str(ro)), ("@FULL@", str(full)), ("@INPLACE@", str(inplace)),
                           ("@HTTP@", env.http), ("@CLOSED@", str(env.closed_port)),
                           ("@RESET@", str(env.reset_port)), ("@CLOSE@", str(env.close_port)),
                           ("@HANG@", str(env.hang_port))):
            text = text.replace(key, value)
        return text

    out: list[Record] = []
    for source, cases in GROUPS:
        out += tool_records(cases, source, env.tmp, lambda text: "export NO_COLOR=1 FORCE_COLOR=0; " + fill(text),
                            timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind89_records)


__all__ = ["BLIND89_SOURCES", "blind89_records"]
