"""Project files for batch 103: a luigi task module, Snakefiles, dodo files and noxfiles, each written to its own
directory under the batch's temp dir. Placeholders (@CLOSED@, @HTTP@, @FULL@, @RO@, @PGPORT@) are filled in by
the provokers before writing."""

from __future__ import annotations

from pathlib import Path

LUIGI_MODULE = '''import json
import urllib.request

import luigi


class RawOrders(luigi.ExternalTask):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)


class LoadOrders(luigi.Task):
    src = luigi.Parameter()
    out = luigi.Parameter()

    def requires(self):
        return RawOrders(self.src)

    def output(self):
        return luigi.LocalTarget(self.out)

    def run(self):
        with self.input().open() as src, self.output().open("w") as dst:
            dst.write(src.read())


class ReadManifest(luigi.Task):
    manifest = luigi.Parameter()
    out = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.out)

    def run(self):
        with open(self.manifest, encoding="utf-8") as handle:
            names = handle.read().split()
        with self.output().open("w") as dst:
            dst.write("\\n".join(names))


class ExportToWarehouse(luigi.Task):
    port = luigi.IntParameter()
    password = luigi.Parameter(default="")
    user = luigi.Parameter(default="etl")

    def run(self):
        import psycopg2
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=self.user, password=self.password,
                                dbname="postgres", connect_timeout=3)
        conn.close()


class FetchRates(luigi.Task):
    url = luigi.Parameter()
    out = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.out)

    def run(self):
        with urllib.request.urlopen(self.url, timeout=3) as response:
            body = response.read()
        with self.output().open("w") as dst:
            dst.write(body.decode())


class AggregateDaily(luigi.Task):
    def run(self):
        rows = [{"sku": "KB-01", "qty": 2}, {"sku": "MS-02", "qty": 1}]
        total = sum(row["quantity"] for row in rows)
        print(total)


class BuildReport(luigi.Task):
    def run(self):
        count = 42
        title = "Orders processed: " + count
        print(title)


class WriteExtract(luigi.Task):
    out = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.out)

    def run(self):
        with self.output().open("w") as dst:
            for i in range(30000):
                dst.write(f"{i},KB-01,2,19.99,2026-11-29T10:00:00Z,warehouse-a\\n")


class ParseSettings(luigi.Task):
    settings = luigi.Parameter()

    def run(self):
        with open(self.settings, encoding="utf-8") as handle:
            json.load(handle)


class Partition(luigi.Task):
    batch_size = luigi.IntParameter()

    def run(self):
        print(self.batch_size)
'''

LUIGI_CFG = """[retcode]
already_running=10
missing_data=20
not_run=25
task_failed=30
scheduling_error=35
unhandled_exception=40
"""

SNAKEFILES: dict[str, dict[str, str]] = {
    "sm_missing_input": {"Snakefile": '''rule all:
    input: "results/summary.txt"

rule summarize:
    input: "data/raw_counts.tsv"
    output: "results/summary.txt"
    shell: "cut -f2 {input} | sort | uniq -c > {output}"
'''},
    "sm_syntax_error": {"Snakefile": '''rule all:
    input: "results/summary.txt"

rule summarize
    input: "data/raw_counts.tsv"
    output: "results/summary.txt"
    shell: "sort {input} > {output}"
'''},
    "sm_shell_missing_file": {"Snakefile": '''rule all:
    input: "results/sorted.tsv"

rule sort_counts:
    output: "results/sorted.tsv"
    shell: "sort -k2 data/counts_2026.tsv > {output}"
'''},
    "sm_shell_refused": {"Snakefile": '''rule all:
    input: "results/reference.fa"

rule download:
    output: "results/reference.fa"
    shell: "curl -sS --fail http://127.0.0.1:@CLOSED@/genomes/reference.fa -o {output}"
'''},
    "sm_shell_disk_full": {"Snakefile": '''rule all:
    input: "@FULL@/sm/matrix.bin"

rule build_matrix:
    output: "@FULL@/sm/matrix.bin"
    shell: "head -c 4000000 /dev/zero > {output}"
'''},
    "sm_run_defect": {"Snakefile": '''rule all:
    input: "results/lengths.txt"

rule lengths:
    output: "results/lengths.txt"
    run:
        reads = [120, 98, 150]
        total = sum(len(r) for r in reads)
        with open(output[0], "w") as out:
            out.write(str(total))
'''},
    "sm_config_key": {"Snakefile": '''SAMPLES = config["samples"]

rule all:
    input: expand("results/{s}.txt", s=SAMPLES)

rule touch_sample:
    output: "results/{s}.txt"
    shell: "touch {output}"
'''},
    "sm_bad_configfile": {"Snakefile": '''rule all:
    input: "results/done.txt"

rule done:
    output: "results/done.txt"
    shell: "echo {config[threads]} > {output}"
''', "config.yaml": "samples:\n  - a\n  - b\nthreads: 4\n  reference: hg38.fa\n"},
    "sm_output_read_only": {"Snakefile": '''rule all:
    input: "@RO@/sm/out/report.txt"

rule report:
    output: "@RO@/sm/out/report.txt"
    shell: "echo ok > {output}"
'''},
    "sm_module_missing": {"Snakefile": '''rule all:
    input: "results/qc.txt"

rule qc:
    output: "results/qc.txt"
    shell: "python3 -c 'import seqqc103; seqqc103.run()' > {output}"
'''},
    "sm_locked": {"Snakefile": '''rule all:
    input: "results/slow.txt"

rule slow:
    output: "results/slow.txt"
    shell: "sleep 12 && touch {output}"
'''},
}

DODOS: dict[str, str] = {
    "doit_file_dep_missing": '''def task_load():
    return {"file_dep": ["data/orders_2026.csv"], "targets": ["out/orders.db"],
            "actions": ["cp data/orders_2026.csv out/orders.db"]}
''',
    "doit_python_defect": '''def load_settings():
    settings = {"name": "nightly", "retries": 3}
    print(settings.retries)


def task_settings():
    return {"actions": [load_settings], "verbosity": 2}
''',
    "doit_dodo_syntax": '''def task_build():
    return {"actions": ["echo build"]
            "verbosity": 2}
''',
    "doit_cmd_missing_file": '''def task_count():
    return {"actions": ["wc -l data/manifest.txt"], "verbosity": 2}
''',
    "doit_refused": '''import psycopg


def export():
    psycopg.connect(host="127.0.0.1", port=@CLOSED@, user="etl", dbname="warehouse", connect_timeout=3)


def task_export():
    return {"actions": [export], "verbosity": 2}
''',
    "doit_pg_auth": '''import psycopg


def export():
    psycopg.connect(host="127.0.0.1", port=@PGPORT@, user="app", password="stale-password", dbname="postgres",
                    connect_timeout=3)


def task_export():
    return {"actions": [export], "verbosity": 2}
''',
    "doit_disk_full": '''def dump():
    with open("@FULL@/doit_dump.csv", "w") as out:
        for i in range(40000):
            out.write(f"{i},KB-01,2,19.99,2026-11-29T10:00:00Z\\n")


def task_dump():
    return {"actions": [dump], "verbosity": 2}
''',
    "doit_json_invalid": '''import json


def read_config():
    with open("pipeline.json", encoding="utf-8") as handle:
        return json.load(handle)


def task_configure():
    return {"actions": [read_config], "verbosity": 2}
''',
    "doit_http_503": '''import urllib.request


def fetch():
    urllib.request.urlopen("@HTTP@/status/503", timeout=5).read()


def task_fetch():
    return {"actions": [fetch], "verbosity": 2}
''',
    "doit_invalid_task": '''def task_package():
    return {"action": ["tar czf dist.tgz src"], "verbosity": 2}
''',
}

NOXFILE = '''import nox


@nox.session(python=False)
def missing_module(session):
    session.run("python3", "-c", "import reportlib103; reportlib103.render()", external=True)


@nox.session(python=False)
def refused(session):
    session.run("python3", "-c", "import socket; socket.create_connection(('127.0.0.1', @CLOSED@), timeout=3)",
                external=True)


@nox.session(python=False)
def disk_full(session):
    session.run("python3", "-c", "open('@FULL@/nox_cov.xml', 'w').write('x' * 4000000)", external=True)


@nox.session(python=False)
def bad_toml(session):
    session.run("python3", "-c", "import tomllib; tomllib.loads(open('settings.toml').read())", external=True)


@nox.session(python=False)
def http_401(session):
    session.run("python3", "-c", "import urllib.request; urllib.request.urlopen('@HTTP@/status/401').read()",
                external=True)


@nox.session(python=False)
def http_503(session):
    session.run("python3", "-c", "import urllib.request; urllib.request.urlopen('@HTTP@/status/503').read()",
                external=True)


@nox.session
def tests(session):
    session.install("pytest")
    session.run("pytest")
'''

NOX_SYNTAX = '''import nox


@nox.session(python=False)
def lint(session)
    session.run("ruff", "check", ".")
'''


def write_tree(root: Path, files: dict[str, str], fill: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fill(text), encoding="utf-8")  # type: ignore[operator]
    return root


__all__ = ["DODOS", "LUIGI_CFG", "LUIGI_MODULE", "NOXFILE", "NOX_SYNTAX", "SNAKEFILES", "write_tree"]
