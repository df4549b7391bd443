"""Fixtures for batch 89: small front-end projects (one directory per tool) whose sources, configs and plugins
carry the defects the provokers build, plus a large generated module for the heap-limit cases. The tools are
installed with `npm install --prefix /tmp/recoup-corpus-89-node webpack webpack-cli esbuild rollup eslint
prettier @babel/core @babel/cli @babel/preset-env sass postcss postcss-cli terser stylelint
stylelint-config-standard`."""

from __future__ import annotations

import subprocess
from pathlib import Path

#: Where this batch's JavaScript toolchain is installed (its own prefix, to avoid clashes with other batches).
NODE89 = Path("/tmp/recoup-corpus-89-node")
NODE89_BIN = NODE89 / "node_modules" / ".bin"

_GOOD_JS = """import { total } from './cart.js';

export function checkout(items) {
  return `total: ${total(items)}`;
}
console.log(checkout([{ price: 3, qty: 2 }]));
"""
_CART_JS = "export function total(items) {\n  return items.reduce((sum, i) => sum + i.price * i.qty, 0);\n}\n"
_SYNTAX_JS = """export function checkout(items) {
  const lines = items.map((i) => {
    return `${i.sku}: ${i.price * i.qty}`;
  ;
  return lines.join('\\n');
}
"""
_UNRESOLVED_JS = "import { formatMoney } from './utils/money.js';\n\nexport const label = formatMoney(12.5);\n"
_MISSING_EXPORT_JS = "import { subtotal } from './cart.js';\n\nexport const s = subtotal([]);\n"
_BROKEN_JSON = '{\n  "currency": "EUR",\n  "rates": { "USD": 1.08, "GBP": 0.85,\n  "updated": "2026-03-01"\n'

_FILES: dict[str, str] = {
    # ---- webpack
    "webpack/src/cart.js": _CART_JS,
    "webpack/src/index.js": _GOOD_JS,
    "webpack/src/broken.js": _SYNTAX_JS,
    "webpack/src/unresolved.js": _UNRESOLVED_JS,
    "webpack/webpack.invalid.config.js": ("module.exports = {\n  mode: 'fast',\n  entry: './src/index.js',\n"
                                          "  output: { filname: 'bundle.js' },\n};\n"),
    "webpack/webpack.loader.config.js": ("module.exports = {\n  mode: 'production',\n  entry: './src/index.js',\n"
                                         "  module: { rules: [{ test: /\\.js$/, use: 'babel-loadr' }] },\n};\n"),
    "webpack/webpack.plugin.config.js": ("const { BundleStatsPlugin } = require('webpack-bundle-stats-plugin');\n"
                                         "module.exports = {\n  mode: 'production',\n  entry: './src/index.js',\n"
                                         "  plugins: [new BundleStatsPlugin()],\n};\n"),
    "webpack/webpack.typo.config.js": (f"const webpack = require('{NODE89}/node_modules/webpack');\n"
                                       "module.exports = {\n"
                                       "  mode: 'production',\n  entry: './src/index.js',\n"
                                       "  plugins: [new webpack.DefinePlugins({ VERSION: '\"1.0\"' })],\n};\n"),
    # ---- esbuild
    "esbuild/src/cart.js": _CART_JS,
    "esbuild/src/index.js": _GOOD_JS,
    "esbuild/src/broken.js": _SYNTAX_JS,
    "esbuild/src/unresolved.js": _UNRESOLVED_JS,
    "esbuild/src/rates.json": _BROKEN_JSON,
    "esbuild/src/uses_rates.js": "import rates from './rates.json';\nconsole.log(rates.currency);\n",
    "esbuild/build_plugin.mjs": (f"import * as esbuild from '{NODE89}/node_modules/esbuild/lib/main.js';\n\n"
                                 "const envPlugin = {\n  name: 'env',\n"
                                 "  setup(build) {\n    const vars = build.initialOptions.define.keys();\n"
                                 "    build.onResolve({ filter: /^env$/ },\n"
                                 "      () => ({ path: 'env', namespace: 'env' }));\n"
                                 "  },\n};\n\nawait esbuild.build({ entryPoints: ['src/index.js'], bundle: true,\n"
                                 "  outfile: 'dist/out.js', plugins: [envPlugin] });\n"),
    # ---- rollup
    "rollup/src/cart.js": _CART_JS,
    "rollup/src/index.js": _GOOD_JS,
    "rollup/src/broken.js": _SYNTAX_JS,
    "rollup/src/unresolved.js": _UNRESOLVED_JS,
    "rollup/src/missing_export.js": _MISSING_EXPORT_JS,
    "rollup/rollup.invalid.config.mjs": ("export default {\n  input: 'src/index.js',\n"
                                         "  output: { file: 'dist/bundle.js', format: 'umd2' },\n};\n"),
    "rollup/rollup.plugin.config.mjs": ("import terserPlugin from '@rollup/plugin-terser';\n\nexport default {\n"
                                        "  input: 'src/index.js',\n"
                                        "  output: { file: 'dist/bundle.js', format: 'es' },\n"
                                        "  plugins: [terserPlugin()],\n};\n"),
    # ---- eslint
    "eslint/src/broken.js": _SYNTAX_JS,
    "eslint/src/undef.js": "export function price(item) {\n  return item.price * quantity;\n}\n",
    "eslint/src/ok.js": "export const ok = 1;\n",
    "eslint/eslint.config.mjs": ("export default [\n  {\n    files: ['**/*.js'],\n"
                                 "    languageOptions: { sourceType: 'module' },\n"
                                 "    rules: { 'no-undef': 'error' },\n  },\n];\n"),
    "eslint/eslint.badrule.config.mjs": ("export default [\n  {\n    rules: { 'no-unused-vars': 'warning', "
                                         "'eqeqeq': 'error' },\n  },\n];\n"),
    "eslint/eslint.plugin.config.mjs": ("import react from 'eslint-plugin-react';\n\nexport default [\n"
                                        "  { plugins: { react }, rules: { 'react/jsx-key': 'error' } },\n];\n"),
    "eslint/eslint.unknownkey.config.mjs": ("export default [\n  {\n    files: ['**/*.js'],\n"
                                            "    env: { browser: true },\n    rules: { eqeqeq: 'error' },\n  },\n];\n"),
    # ---- prettier
    "prettier/src/broken.js": _SYNTAX_JS,
    "prettier/src/ok.js": "export const ok = {a:1,b:2}\n",
    "prettier/badrc/.prettierrc": '{\n  "semi": false,\n  "singleQuote": true,\n  "printWidth": 100,\n',
    "prettier/badrc/ok.js": "export const ok = {a:1,b:2}\n",
    "prettier/badopt/.prettierrc.json": '{\n  "tabWidth": "four",\n  "semi": true\n}\n',
    "prettier/badopt/ok.js": "export const ok = {a:1,b:2}\n",
    "prettier/badyaml/.prettierrc.yaml": "semi: false\n  singleQuote: true\nprintWidth: [100\n",
    "prettier/badyaml/ok.js": "export const ok = {a:1,b:2}\n",
    # ---- babel
    "babel/src/broken.js": _SYNTAX_JS,
    "babel/src/ok.js": "export const double = (x) => x * 2;\n",
    "babel/badrc/.babelrc": ('{\n  "presets": [["@babel/preset-env", { "targets": "defaults" }]\n'
                             '  "comments": false\n}\n'),
    "babel/badrc/ok.js": "export const double = (x) => x * 2;\n",
    "babel/missingpreset/babel.config.json": '{\n  "presets": ["@babel/preset-typescript"]\n}\n',
    "babel/missingpreset/ok.js": "export const double = (x) => x * 2;\n",
    "babel/unknownopt/babel.config.json": '{\n  "preset": ["@babel/preset-env"],\n  "sourceMaps": true\n}\n',
    "babel/unknownopt/ok.js": "export const double = (x) => x * 2;\n",
    "babel/plugin/babel.config.js": "module.exports = { plugins: ['./strip-debug-plugin.js'] };\n",
    "babel/plugin/strip-debug-plugin.js": ("module.exports = function stripDebug({ types: t }) {\n  return {\n"
                                           "    visitor: {\n      CallExpression(path) {\n"
                                           "        if (path.node.callee.object.name === 'debug') path.remove();\n"
                                           "      },\n    },\n  };\n};\n"),
    "babel/plugin/ok.js": "export function run(x) {\n  debug.log(x);\n  return String(x).trim();\n}\n",
    # ---- sass
    "sass/broken.scss": ".cart {\n  color: #333;\n  .total {\n    font-weight: bold;\n  \n}\n",
    "sass/undefined_var.scss": ".cart {\n  color: $brand-primary;\n}\n",
    "sass/missing_use.scss": "@use 'theme/palette';\n\n.cart { color: palette.$ink; }\n",
    "sass/undefined_mixin.scss": ".cart {\n  @include card-shadow(2);\n}\n",
    "sass/bad_math.scss": ".cart {\n  width: 10px + 2em;\n}\n",
    "sass/ok.scss": ".cart {\n  $pad: 4px;\n  padding: $pad * 2;\n  .total { font-weight: bold; }\n}\n",
    # ---- postcss
    "postcss/syntax/broken.css": ".cart {\n  color: #333;\n  .total { font-weight: bold;\n",
    "postcss/syntax/postcss.config.js": ("module.exports = { plugins: [{ postcssPlugin: 'banner', "
                                         "Once(root) { root.prepend({ text: 'built' }); } }] };\n"),
    "postcss/ok.css": ".cart { color: #333; }\n",
    "postcss/badyaml/.postcssrc.yml": "plugins:\n  autoprefixer: {}\n   cssnano:\n  - preset: default\n",
    "postcss/badyaml/ok.css": ".cart { color: #333; }\n",
    "postcss/badjson/.postcssrc.json": '{\n  "plugins": {\n    "autoprefixer": {},\n  }\n',
    "postcss/badjson/ok.css": ".cart { color: #333; }\n",
    "postcss/missingplugin/postcss.config.js": "module.exports = { plugins: [require('postcss-preset-env')()] };\n",
    "postcss/missingplugin/ok.css": ".cart { color: #333; }\n",
    # ---- terser
    "terser/broken.js": _SYNTAX_JS,
    "terser/ok.js": _CART_JS,
    "terser/bad.config.json": '{\n  "compress": { "passes": 2, "drop_console": true },\n  "mangle": true,\n',
    # ---- stylelint
    "stylelint/broken.css": ".cart {\n  color: #333;\n  .total { font-weight: bold;\n",
    "stylelint/ok.css": ".cart {\n  color: #333;\n}\n",
    "stylelint/.stylelintrc.json": '{\n  "rules": { "block-no-empty": true }\n}\n',
    "stylelint/badjson/.stylelintrc.json": '{\n  "rules": {\n    "color-no-invalid-hex": true,\n  \n',
    "stylelint/badjson/ok.css": ".cart {\n  color: #333;\n}\n",
    "stylelint/badyaml/.stylelintrc.yaml": "rules:\n  color-no-invalid-hex: true\n    block-no-empty: [true\n",
    "stylelint/badyaml/ok.css": ".cart {\n  color: #333;\n}\n",
    "stylelint/unknownrule/.stylelintrc.json": '{\n  "rules": { "color-no-invalid-hexx": true }\n}\n',
    "stylelint/unknownrule/ok.css": ".cart {\n  color: #333;\n}\n",
    "stylelint/badoption/.stylelintrc.json": '{\n  "rules": { "color-hex-length": "tiny" }\n}\n',
    "stylelint/badoption/ok.css": ".cart {\n  color: #333;\n}\n",
    "stylelint/extends/.stylelintrc.json": '{\n  "extends": ["stylelint-config-recess-order"]\n}\n',
    "stylelint/extends/ok.css": ".cart {\n  color: #333;\n}\n",
    # ---- npm
    "npm/app/package.json": ('{\n  "name": "shop89-app",\n  "version": "1.0.0",\n  "private": true,\n'
                             '  "dependencies": { "@corp89/ledger-client": "^2.1.0" }\n}\n'),
    "npm/broken/package.json": ('{\n  "name": "shop89-broken",\n  "version": "1.0.0",\n'
                                '  "dependencies": { "left-pad": "^1.3.0", }\n}\n'),
    "npm/lib/package.json": '{\n  "name": "corp89-utils",\n  "version": "0.3.0",\n  "main": "index.js"\n}\n',
    "npm/lib/index.js": "module.exports = { pad: (s) => String(s).padStart(8) };\n",
    "npm/scripts/package.json": ('{\n  "name": "shop89-scripts",\n  "version": "1.0.0",\n'
                                 '  "scripts": { "build": "node build.js" }\n}\n'),
    "npm/scripts/build.js": ("const manifest = require('./dist/manifest.json');\n"
                             "console.log(manifest.entries.length);\n"),
}


def write_fixtures(root: Path) -> None:
    """Write every project under `root` and the big generated module `big/huge.js` (about 12 MB of distinct
    functions, more than a 24 MB V8 heap can parse and transform)."""
    for rel, text in _FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    big = root / "big"
    big.mkdir(exist_ok=True)
    body = "".join(f"export function f{i}(a, b) {{ const s{i} = [a, b, {i}].map((x) => x * {i % 7 + 1});"
                   f" return s{i}.reduce((p, q) => p + q, 'k{i}'); }}\n" for i in range(90_000))
    (big / "huge.js").write_text(body, encoding="utf-8")
    (big / "index.js").write_text("import * as m from './huge.js';\nconsole.log(Object.keys(m).length);\n",
                                  encoding="utf-8")


def remount_read_only(target: Path) -> None:
    """Make a tmpfs the batch mounted (and filled) read-only, so tools writing in place hit EROFS."""
    subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True, capture_output=True)


__all__ = ["NODE89", "NODE89_BIN", "remount_read_only", "write_fixtures"]
