"""Fifty-eighth batch of blind provokers: documentation and static-site builds as CI jobs print them. `mkdocs build
--strict` with a nav entry naming a missing page, broken or mistyped mkdocs.yml, a plugin or Markdown extension that
is not installed, a hook with a defect, a site dir on a full or read-only tmpfs, gh-deploy outside a repository;
`sphinx-build -W` with a missing toctree document, a conf.py that raises or does not parse, unknown directives and
options, an extension that is not installed, autodoc importing a broken module, intersphinx inventories on a closed
port or behind a 503/401, full and read-only output dirs (plus Sphinx's, mkdocs' and docutils' Python APIs); Hugo
with template function and execution errors, broken YAML/TOML front matter, data and config files, missing
partials and shortcodes, remote resources refused or answered 503/401, full and read-only destinations; pandoc with
missing inputs, templates and filters, unknown formats and options, broken metadata and JSON, Lua filters with
defects, --self-contained fetches refused or answered 503/401, and full or read-only outputs. Only 127.0.0.1."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path

from blind58_support import MKDOCS, SPHINX_BUILD, DocCase, Filler, project_records, write_tree
from checked import PyCase, python_records
from cloudapi import cloud_api
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND58_SOURCES = frozenset({"mkdocs58", "sphinx58", "docutils58", "hugo58", "pandoc58"})

# --------------------------------------------------------------------------- mkdocs

_MK_YML = "site_name: Ops Handbook\n"
_MK = {"mkdocs.yml": _MK_YML, "docs/index.md": "# Ops Handbook\n\nHow we ship.\n",
       "docs/release.md": "# Release\n\nTag, build, publish.\n"}
_MK_BUILD = "@MKDOCS@ build --strict"

MKDOCS_CASES: list[DocCase] = [
    ("mkdocs_nav_missing_page", "filesystem", "not found",
     {**_MK, "mkdocs.yml": _MK_YML + "nav:\n  - Home: index.md\n  - Release: release.md\n"
      "  - Rollback: runbooks/rollback.md\n"}, _MK_BUILD),
    ("mkdocs_yaml_broken", "validation", "yaml|scanning|parsing|expected",
     {**_MK, "mkdocs.yml": _MK_YML + "nav:\n  - Home: index.md\n  - Release: [release.md\n"}, _MK_BUILD),
    ("mkdocs_docs_dir_missing", "filesystem", "existing directory|not exist",
     {**_MK, "mkdocs.yml": _MK_YML + "docs_dir: documentation\n"}, _MK_BUILD),
    ("mkdocs_plugin_not_installed", "programming", "not installed",
     {**_MK, "mkdocs.yml": _MK_YML + "plugins:\n  - search\n  - redirects:\n      redirect_maps:\n"
      "        old.md: release.md\n"}, _MK_BUILD),
    ("mkdocs_markdown_extension_missing", "programming", "No module named|Failed to load",
     {**_MK, "mkdocs.yml": _MK_YML + "markdown_extensions:\n  - admonition\n  - pymdownx.superfences\n"},
     _MK_BUILD),
    ("mkdocs_bool_option_type", "validation", "expected",
     {**_MK, "mkdocs.yml": _MK_YML + "use_directory_urls: sometimes\n"}, _MK_BUILD),
    ("mkdocs_nav_not_list", "validation", "expected|nav",
     {**_MK, "mkdocs.yml": _MK_YML + "nav: index.md\n"}, _MK_BUILD),
    ("mkdocs_hook_attribute_error", "programming", "AttributeError",
     {**_MK, "mkdocs.yml": _MK_YML + "hooks:\n  - hooks/owners.py\n",
      "hooks/owners.py": "def on_page_markdown(markdown, page, config, files):\n"
                         "    owner = page.meta.get('owner')\n"
                         "    return markdown + '\\n\\nOwned by ' + owner.upper()\n"}, _MK_BUILD),
    ("mkdocs_hook_file_missing", "filesystem", "existing file|not exist",
     {**_MK, "mkdocs.yml": _MK_YML + "hooks:\n  - hooks/version.py\n"}, _MK_BUILD),
    ("mkdocs_site_dir_full", "resource", "No space",
     {**_MK, "mkdocs.yml": _MK_YML + "site_dir: @MKDISK@/site\n", "docs/assets/demo.bin": "@BIG@"}, _MK_BUILD),
    ("mkdocs_site_dir_read_only", "filesystem", "Read-only",
     {**_MK, "mkdocs.yml": _MK_YML + "site_dir: @MKRO@/site\n"}, _MK_BUILD),
    ("mkdocs_gh_deploy_no_repo", "git", "git repository",
     _MK, "@MKDOCS@ gh-deploy --force --no-history"),
]


def _mkdocs_py_cases(base: Path) -> list[PyCase]:
    def load_broken() -> None:
        from mkdocs.config import load_config

        path = base / "mkdocs-api" / "broken.yml"
        write_tree(path.parent, {"broken.yml": "site_name: Ops Handbook\ntheme:\n  name: mkdocs\n"
                                               "  locale: en\n extra_css: [css/site.css]\n"}, Filler())
        load_config(config_file=str(path))

    def load_missing() -> None:
        from mkdocs.config import load_config

        load_config(config_file=str(base / "mkdocs-api" / "deploy" / "mkdocs.prod.yml"))

    return [
        ("mkdocs_api_yaml_broken", "validation", "mkdocs58", "ConfigurationError", load_broken),
        ("mkdocs_api_config_missing", "filesystem", "mkdocs58", "ConfigurationError|OSError", load_missing),
    ]


# --------------------------------------------------------------------------- Sphinx and docutils

_SP_CONF = "project = 'Ops Handbook'\nauthor = 'Platform team'\nextensions = []\n"
_SP_INDEX = "Ops Handbook\n============\n\nHow we ship.\n\n"
_SP = {"docs/conf.py": _SP_CONF, "docs/index.rst": _SP_INDEX,
       "docs/install.rst": "Install\n=======\n\nRun the installer.\n"}
_SP_BUILD = "TMPDIR=@TMP@ @SPHINX@ -W -q -b html docs _build/html"


def _intersphinx(url: str) -> dict[str, str]:
    return {**_SP, "docs/conf.py": _SP_CONF + "extensions = ['sphinx.ext.intersphinx']\nintersphinx_timeout = 5\n"
            f"intersphinx_mapping = {{'platform': ('{url}', None)}}\n",
            "docs/index.rst": _SP_INDEX + "See :external+platform:doc:`the platform docs <index>`.\n"}


_SP_LINKCHECK = "TMPDIR=@TMP@ @SPHINX@ -W -q -b linkcheck docs _build/linkcheck"


def _linkcheck(url: str) -> dict[str, str]:
    return {**_SP, "docs/conf.py": _SP_CONF + "linkcheck_retries = 1\nlinkcheck_timeout = 5\n",
            "docs/index.rst": _SP_INDEX + f"The deploy API lives at {url}.\n"}


SPHINX_CASES: list[DocCase] = [
    ("sphinx_toctree_missing_doc", "filesystem", "nonexisting document|nonexistent",
     {**_SP, "docs/index.rst": _SP_INDEX + ".. toctree::\n   :maxdepth: 2\n\n   install\n   operations/runbook\n"},
     _SP_BUILD),
    ("sphinx_conf_name_error", "programming", "NameError",
     {**_SP, "docs/conf.py": _SP_CONF + "release = __version__\nversion = '.'.join(release.split('.')[:2])\n"},
     _SP_BUILD),
    ("sphinx_conf_syntax_error", "programming", "syntax",
     {**_SP, "docs/conf.py": "project = 'Ops Handbook'\nextensions = ['sphinx.ext.autodoc',\n"
      "html_theme = 'alabaster'\n"}, _SP_BUILD),
    ("sphinx_unknown_directive", "validation", "Unknown directive",
     {**_SP, "docs/index.rst": _SP_INDEX + ".. warningbox::\n\n   Do not deploy on Fridays.\n"}, _SP_BUILD),
    ("sphinx_unknown_directive_option", "validation", "unknown option",
     {**_SP, "docs/index.rst": _SP_INDEX + ".. code-block:: python\n   :linenos:\n   :emphasise-lines: 2\n\n"
      "   import deploy\n   deploy.run()\n"}, _SP_BUILD),
    ("sphinx_extension_not_installed", "programming", "Could not import extension|No module named",
     {**_SP, "docs/conf.py": _SP_CONF + "extensions = ['sphinx.ext.autodoc', 'sphinxcontrib.mermaid']\n"},
     _SP_BUILD),
    ("sphinx_source_dir_missing", "filesystem", "Cannot find source directory|not exist|no such",
     _SP, "TMPDIR=@TMP@ @SPHINX@ -W -q -b html documentation _build/html"),
    ("sphinx_conf_py_missing", "filesystem", "conf.py",
     {"docs/index.rst": _SP_INDEX}, _SP_BUILD),
    ("sphinx_unknown_builder", "validation", "not registered|Builder name",
     _SP, "TMPDIR=@TMP@ @SPHINX@ -W -q -b pdfx docs _build/pdf"),
    ("sphinx_literalinclude_missing", "filesystem", "not found|reading it failed",
     {**_SP, "docs/index.rst": _SP_INDEX + ".. literalinclude:: ../deploy/pipeline.yaml\n   :language: yaml\n"},
     _SP_BUILD),
    ("sphinx_autodoc_import_error", "programming", "ImportError|cannot import",
     {**_SP, "docs/conf.py": "import os\nimport sys\n\nsys.path.insert(0, os.path.abspath('../src'))\n" + _SP_CONF
      + "extensions = ['sphinx.ext.autodoc']\n",
      "docs/index.rst": _SP_INDEX + ".. automodule:: billing\n   :members:\n",
      "src/billing.py": "from collections import Mapping\n\n\ndef total(items: Mapping) -> int:\n"
                        "    return sum(items.values())\n"}, _SP_BUILD),
    ("sphinx_output_full", "resource", "No space",
     {**_SP, "docs/conf.py": _SP_CONF + "html_static_path = ['_static']\n", "docs/_static/bundle.bin": "@BIG@"},
     "TMPDIR=@TMP@ @SPHINX@ -W -q -b html -d @TMP@/sphinx-doctrees docs @SPDISK@/html"),
    ("sphinx_output_read_only", "filesystem", "Read-only",
     _SP, "TMPDIR=@TMP@ @SPHINX@ -W -q -b html docs @SPRO@/html"),
    ("sphinx_intersphinx_refused", "network", "refused", _intersphinx("http://127.0.0.1:@CLOSED@/docs/"),
     _SP_BUILD),
    ("sphinx_intersphinx_503", "service", "503", _intersphinx("@API@/gcp503/docs/"), _SP_BUILD),
    ("sphinx_intersphinx_401", "auth", "401", _intersphinx("@API@/gh401/docs/"), _SP_BUILD),
    ("sphinx_linkcheck_401", "auth", "401", _linkcheck("@API@/gh401/repos/acme/deploy"), _SP_LINKCHECK),
    ("sphinx_linkcheck_500", "service", "500", _linkcheck("@API@/plain500/status"), _SP_LINKCHECK),
]


def _sphinx_py_cases(base: Path) -> list[PyCase]:
    def sphinx_app(name: str, conf: str) -> None:
        from sphinx.application import Sphinx

        root = base / "sphinx-api" / name
        write_tree(root, {"conf.py": conf, "index.rst": _SP_INDEX}, Filler())
        Sphinx(str(root), str(root), str(root / "_build"), str(root / "_doctrees"), "html", status=None,
               warning=None)

    def ext_missing() -> None:
        sphinx_app("ext", _SP_CONF + "extensions = ['sphinx_copybutton', 'sphinx.ext.viewcode']\n")

    def conf_type_error() -> None:
        sphinx_app("conf", _SP_CONF + "html_context = {'commit': None}\n"
                   "html_context['short_commit'] = html_context['commit'][:7]\n")

    def publish(text: str) -> None:
        from docutils.core import publish_doctree  # type: ignore[import-untyped]

        overrides = {"halt_level": 2, "report_level": 5, "warning_stream": io.StringIO()}
        publish_doctree(text, settings_overrides=overrides)

    def unknown_directive() -> None:
        publish(_SP_INDEX + ".. deprecated-box:: 2.0\n\n   Use the new pipeline.\n")

    def malformed_table() -> None:
        publish(_SP_INDEX + "+--------+---------+\n| host   | role    |\n+========+=========+\n| web1   | app\n"
                "+--------+---------+\n")

    return [
        ("sphinx_api_extension_missing", "programming", "sphinx58", "ExtensionError", ext_missing),
        ("sphinx_api_conf_type_error", "programming", "sphinx58", "ConfigError", conf_type_error),
        ("docutils_unknown_directive", "validation", "docutils58", "SystemMessage", unknown_directive),
        ("docutils_malformed_table", "validation", "docutils58", "SystemMessage", malformed_table),
    ]


# --------------------------------------------------------------------------- Hugo

_HU_CONF = ('baseURL = "http://example.org/"\ntitle = "Ops Handbook"\n'
            'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]\n')
_HU = {"config.toml": _HU_CONF, "layouts/index.html": "<h1>{{ .Site.Title }}</h1>\n",
       "layouts/_default/single.html": "<h1>{{ .Title }}</h1>\n{{ .Content }}\n",
       "layouts/_default/list.html": "<h1>{{ .Title }}</h1>\n",
       "content/release.md": "---\ntitle: Release\nowners: [platform, sre]\n---\nTag, build, publish.\n"}
_HU_BUILD = "hugo --quiet --cacheDir @TMP@/hugo-cache -d public"


def _remote(url: str) -> dict[str, str]:
    return {**_HU, "layouts/index.html": "<h1>{{ .Site.Title }}</h1>\n"
            f'{{{{ $feed := resources.GetRemote "{url}" }}}}\n{{{{ $feed.Content }}}}\n'}


HUGO_CASES: list[DocCase] = [
    ("hugo_function_not_defined", "programming", "not defined",
     {**_HU, "layouts/_default/single.html": "<h1>{{ .Title | humanizeTitle }}</h1>\n{{ .Content }}\n"}, _HU_BUILD),
    ("hugo_field_on_slice", "programming", "can't evaluate|evaluating",
     {**_HU, "layouts/_default/single.html": "<h1>{{ .Title }}</h1>\n<p>{{ .Params.owners.Count }} owners</p>\n"},
     _HU_BUILD),
    ("hugo_yaml_front_matter", "validation", "yaml|unmarshal",
     {**_HU, "content/release.md": "---\ntitle: Release\nowners: [platform, sre\n---\nTag, build, publish.\n"},
     _HU_BUILD),
    ("hugo_toml_front_matter", "validation", "toml|unmarshal",
     {**_HU, "content/release.md": "+++\nweight = 10\ntitle = Release notes\n+++\nTag, build, publish.\n"},
     _HU_BUILD),
    ("hugo_partial_missing", "filesystem", "not found",
     {**_HU, "layouts/_default/single.html": '{{ partial "release-banner.html" . }}\n{{ .Content }}\n'}, _HU_BUILD),
    ("hugo_shortcode_missing", "filesystem", "not found",
     {**_HU, "content/release.md": "---\ntitle: Release\n---\nWatch this:\n\n{{< video-embed id=\"b58\" >}}\n"},
     _HU_BUILD),
    ("hugo_config_broken", "validation", "toml|parse|unmarshal",
     {**_HU, "config.toml": 'baseURL = "http://example.org/"\ntitle = "Ops Handbook\n[params]\nrelease = 3\n'},
     _HU_BUILD),
    ("hugo_config_missing", "filesystem", "locate config|config file",
     {k: v for k, v in _HU.items() if k != "config.toml"}, _HU_BUILD),
    ("hugo_data_file_json", "validation", "json|invalid character|unmarshal",
     {**_HU, "data/releases.json": '{"latest": "1.4", "previous": ["1.3", "1.2",]}\n',
      "layouts/index.html": "<h1>{{ .Site.Title }}</h1>\n<p>Latest: {{ .Site.Data.releases.latest }}</p>\n"},
     _HU_BUILD),
    ("hugo_destination_full", "resource", "no space",
     {**_HU, "static/media/demo.bin": "@BIG@"}, "hugo --quiet --cacheDir @TMP@/hugo-cache -d @HUDISK@/public"),
    ("hugo_destination_read_only", "filesystem", "read-only",
     _HU, "hugo --quiet --cacheDir @TMP@/hugo-cache -d @HURO@/public"),
    ("hugo_new_content_exists", "filesystem", "already exists",
     _HU, "hugo new --quiet --cacheDir @TMP@/hugo-cache content/release.md"),
    ("hugo_remote_refused", "network", "refused", _remote("http://127.0.0.1:@CLOSED@/api/releases.json"),
     _HU_BUILD),
    ("hugo_remote_503", "service", "503|Service Unavailable", _remote("@API@/gcp503/v1/releases.json"), _HU_BUILD),
    ("hugo_remote_401", "auth", "401|Unauthorized", _remote("@API@/gh401/repos/acme/releases"), _HU_BUILD),
]

# --------------------------------------------------------------------------- pandoc

_PD = {"README.md": "# Ops Handbook\n\nHow we ship.\n"}


def _fetch(url: str) -> dict[str, str]:
    return {"README.md": f"# Ops Handbook\n\n![Pipeline]({url})\n\nHow we ship.\n"}


PANDOC_CASES: list[DocCase] = [
    ("pandoc_input_missing", "filesystem", "does not exist|not exist|no such",
     _PD, "pandoc docs/CHANGELOG.md -s -o changelog.html"),
    ("pandoc_unknown_output_format", "validation", "Unknown output format",
     _PD, "pandoc README.md -s -t htm5 -o handbook.html"),
    ("pandoc_unknown_option", "validation", "Unknown option|unrecognized",
     _PD, "pandoc README.md -s --tocc -o handbook.html"),
    ("pandoc_template_missing", "filesystem", "Could not find|not exist|no such",
     _PD, "pandoc README.md -s --template templates/handbook.html -o handbook.html"),
    ("pandoc_output_read_only", "filesystem", "read-only",
     _PD, "pandoc README.md -s -o @PDRO@/handbook.html"),
    ("pandoc_output_full", "resource", "no space|resource exhausted",
     {"NOTES.md": "@BIGTEXT@"}, "pandoc NOTES.md -s -o @PDDISK@/notes.html"),
    ("pandoc_output_is_directory", "filesystem", "directory",
     {**_PD, "site/.keep": ""}, "pandoc README.md -s -o site"),
    ("pandoc_fetch_refused", "network", "ConnectionFailure|refused",
     _fetch("http://127.0.0.1:@CLOSED@/img/pipeline.png"), "pandoc README.md -s --self-contained -o handbook.html"),
    ("pandoc_lua_filter_nil", "programming", "nil",
     {**_PD, "filters/anchors.lua": "function Header(el)\n  local slug = el.attributes['slug']\n"
      "  el.identifier = slug:lower()\n  return el\nend\n"},
     "pandoc README.md -s --lua-filter filters/anchors.lua -o handbook.html"),
    ("pandoc_lua_filter_syntax", "programming", "expected|syntax|near",
     {**_PD, "filters/links.lua": "function Link(el)\n  el.target = el.target:gsub('^/', ''\n  return el\nend\n"},
     "pandoc README.md -s --lua-filter filters/links.lua -o handbook.html"),
    ("pandoc_lua_filter_missing", "filesystem", "Could not find|not exist|not found|no such",
     _PD, "pandoc README.md -s --lua-filter filters/toc.lua -o handbook.html"),
    ("pandoc_yaml_metadata", "validation", "YAML",
     {"README.md": "---\ntitle: Ops Handbook\nauthors: [platform, sre\n---\n\nHow we ship.\n"},
     "pandoc README.md -s -o handbook.html"),
    ("pandoc_json_input_invalid", "validation", "JSON|Error in",
     {"ast.json": '{"pandoc-api-version": [1, 22], "meta": {}, "blocks": [}\n'}, "pandoc -f json ast.json -o out.html"),
]


def blind58_records(env: Env) -> list[Record]:
    api = cloud_api(env)
    mounts = {key: mount_tmpfs(env, name, options) for key, name, options in (
        ("MKDISK", "mkdisk58", "size=256k"), ("MKRO", "mkro58", "size=64k,ro"),
        ("SPDISK", "spdisk58", "size=256k"), ("SPRO", "spro58", "size=64k,ro"),
        ("HUDISK", "hudisk58", "size=256k"), ("HURO", "huro58", "size=64k,ro"),
        ("PDDISK", "pddisk58", "size=256k"), ("PDRO", "pdro58", "size=64k,ro"))}
    work = Path(tempfile.mkdtemp(prefix="docs58-", dir=env.tmp))
    fill = Filler({"MKDOCS": str(MKDOCS), "SPHINX": str(SPHINX_BUILD), "CLOSED": str(env.closed_port),
                   "API": api, "TMP": str(work), **{k: str(v) for k, v in mounts.items()}})
    out: list[Record] = []
    for cases, source in ((MKDOCS_CASES, "mkdocs58"), (SPHINX_CASES, "sphinx58"), (HUGO_CASES, "hugo58"),
                          (PANDOC_CASES, "pandoc58")):
        out += project_records(cases, source, work, fill)
    py_cases: list[Callable[[Path], list[PyCase]]] = [_mkdocs_py_cases, _sphinx_py_cases]
    for make in py_cases:
        out += python_records(make(work))
    return out


if __name__ == "__main__":
    write_batch(blind58_records)


__all__ = ["BLIND58_SOURCES", "blind58_records"]
