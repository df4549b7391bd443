"""Fixtures of the hundred-and-twenty-eighth batch: a loopback fake of the Hugging Face Hub API (answers 401, 403,
429 and 503 in the Hub's own format: X-Error-Code / X-Error-Message headers, RateLimit headers, a JSON `error`
body), local model directories with missing or corrupt files, truncated safetensors files, CSV/JSON datasets with
schema problems, Jupyter notebooks whose cells fail, a full and a read-only tmpfs,
and a private MLflow tracking server. The Hub endpoint and the cache directories are set before the ML libraries
are imported (they read them once, at import)."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import Env, free_port
from servers import mount_tmpfs

PY = sys.executable
HUB_PORT = free_port()
_CACHE = Path(tempfile.mkdtemp(prefix="recoup-corpus-hf128-"))
os.environ.update({
    "HF_ENDPOINT": f"http://127.0.0.1:{HUB_PORT}",
    "HF_HOME": str(_CACHE / "hf"),
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "HF_HUB_ETAG_TIMEOUT": "5",
    "HF_HUB_DOWNLOAD_TIMEOUT": "5",
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "GIT_PYTHON_REFRESH": "quiet",
    "JUPYTER_PLATFORM_DIRS": "1",
    "JUPYTER_DATA_DIR": str(_CACHE / "jupyter-data"),
    "JUPYTER_RUNTIME_DIR": str(_CACHE / "jupyter-runtime"),
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
})

#: repo id -> (status, X-Error-Code, X-Error-Message, extra headers)
_HUB_ANSWERS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "acme-ml/invoice-ner-v3": (401, "", "Invalid credentials in Authorization header", {}),
    "acme-ml/llama-guard-internal": (403, "GatedRepo",
                                     "Access to model acme-ml/llama-guard-internal is restricted and you are not in "
                                     "the authorized list. Visit https://huggingface.co/acme-ml/llama-guard-internal "
                                     "to ask for access.", {}),
    "acme-ml/whisper-ft-callcenter": (429, "", "You have exceeded our hourly quotas for action: resolve. "
                                      "Upgrade to a paid plan or retry later.",
                                      {"RateLimit": '"resolvers";r=0;t=1',
                                       "RateLimit-Policy": '"fixed window";"resolvers";q=5000;w=300'}),
    "acme-ml/sentence-embed-de": (503, "", "Service Unavailable", {"Retry-After": "1"}),
}


class _HubHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        status, code, message, extra = 404, "RepoNotFound", "Repository not found", {}
        for repo, answer in _HUB_ANSWERS.items():
            if f"/{repo}/" in path + "/":
                status, code, message, extra = answer
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("X-Request-Id", "Root=1-6760b0c2-5ad91e0b2d1c3f4e7a8b9c0d")
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = _answer
    do_HEAD = _answer
    do_POST = _answer


def start_fake_hub(env: Env) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", HUB_PORT), _HubHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env._closers.append(server.server_close)
    env._closers.append(server.shutdown)


@dataclass
class Fixtures:
    """Paths of the batch's fixtures."""

    root: Path
    models: Path
    data: Path
    notebooks: Path
    full: Path
    ro: Path


_BERT_CONFIG = {"architectures": ["BertForTokenClassification"], "model_type": "bert", "hidden_size": 256,
                "num_attention_heads": 4, "num_hidden_layers": 4, "intermediate_size": 1024, "vocab_size": 30522,
                "id2label": {"0": "O", "1": "B-ORG", "2": "I-ORG", "3": "B-AMOUNT"}}


def _models(root: Path) -> Path:
    import numpy as np
    from safetensors.numpy import save_file

    models = root / "models"
    no_config = models / "invoice-ner-v3"
    no_config.mkdir(parents=True)
    (no_config / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 512}))
    (no_config / "special_tokens_map.json").write_text(json.dumps({"unk_token": "[UNK]"}))
    corrupt = models / "distilbert-support-intent"
    corrupt.mkdir()
    text = json.dumps(_BERT_CONFIG, indent=2)
    (corrupt / "config.json").write_text(text[: len(text) // 2])
    bad_tok = models / "receipt-tokenizer"
    bad_tok.mkdir()
    (bad_tok / "config.json").write_text(json.dumps(_BERT_CONFIG))
    (bad_tok / "tokenizer.json").write_text('{"version": "1.0", "truncation": null, "model": {"type": "WordPiece"')
    (bad_tok / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizerFast"}))
    weights = models / "weights"
    weights.mkdir()
    good = weights / "model.safetensors"
    save_file({"encoder.layer.0.attention.self.query.weight": np.ones((256, 256), dtype="float32"),
               "classifier.bias": np.zeros(4, dtype="float32")}, str(good))
    blob = good.read_bytes()
    (weights / "model-00002-of-00004.safetensors").write_bytes(blob[:20_000])  # truncated download
    header_len = int.from_bytes(blob[:8], "little")
    (weights / "pytorch_lora.safetensors").write_bytes(blob[:8] + b"<" + blob[9:8 + header_len] + blob[8 + header_len:])
    return models


def _data(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    (data / "tickets-2026-10.csv").write_text(
        "ticket_id,created_at,queue,priority\n"
        "T-88121,2026-10-01T08:12:44Z,billing,2\n"
        "T-88122,2026-10-01T08:13:02Z,shipping,1,escalated,\"vip\"\n"
        "T-88123,2026-10-01T08:15:40Z,billing,3\n" * 50)
    (data / "reviews-train.jsonl").write_text(
        '{"review_id": 1, "stars": 5, "text": "fast delivery"}\n'
        '{"review_id": 2, "stars": 4, "text": "ok"\n'
        '{"review_id": 3, "stars": 1, "text": "broken on arrival"}\n')
    return data


def _nb(cells: list[str]) -> Any:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _notebooks(root: Path, env: Env) -> Path:
    import nbformat

    nbs = root / "notebooks"
    nbs.mkdir()
    books = {
        "weekly-revenue.ipynb": ["rows = [{'region': 'emea', 'amount': 1200.5}, {'region': 'apac', 'amount': 980}]",
                                 "total = sum(r['amount'] for r in rows)\nlabel = 'Total: ' + total\nprint(label)"],
        "churn-features.ipynb": ["import csv",
                                 "with open('/srv/analytics/exports/churn/2026-q3/customers.csv') as fh:\n"
                                 "    customers = list(csv.DictReader(fh))"],
        "refresh-dashboard.ipynb": ["import urllib.request",
                                    f"resp = urllib.request.urlopen('http://127.0.0.1:{env.closed_port}"
                                    "/api/v1/metrics/daily', timeout=5)"],
        "fx-rates.ipynb": ["import urllib.request",
                           f"rates = urllib.request.urlopen('{env.url(503)}?base=EUR', timeout=5).read()"],
        "embeddings-batch.ipynb": ["import resource\nresource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))",
                                   "buffer = bytearray(3 * (1 << 30))"],
        "model-card.ipynb": ["import json",
                             "params = json.loads(\"{'learning_rate': 3e-5, 'epochs': 4}\")"],
    }
    for name, cells in books.items():
        nbformat.write(_nb(cells), str(nbs / name))
    (nbs / "ab-test-readout.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "print(1)",\n')
    return nbs


def prepare(env: Env) -> Fixtures:
    root = env.tmp / "ml128"
    root.mkdir()
    full = mount_tmpfs(env, "full128", "size=128k")
    (full / "filler.bin").write_bytes(b"\0" * 120 * 1024)
    ro = mount_tmpfs(env, "ro128", "size=256k")
    (ro / "reports").mkdir()
    (ro / "mlruns").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    data = _data(root)
    env._closers.append(lambda: subprocess.run(["rm", "-rf", str(_CACHE)], check=False))
    return Fixtures(root, _models(root), data, _notebooks(root, env), full, ro)


def private_mlflow(env: Env, root: Path) -> int:
    """`mlflow server` on a free port with a SQLite backend store under `root`."""
    port = free_port()
    store = root / "mlflow-server"
    store.mkdir()
    proc = subprocess.Popen([str(Path(PY).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
                             "--backend-store-uri", f"sqlite:///{store / 'mlflow.db'}",
                             "--default-artifact-root", str(store / "artifacts"), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    env._closers.append(lambda: os.killpg(proc.pid, 15))
    import urllib.request

    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return port
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("mlflow server did not start")


__all__ = ["HUB_PORT", "PY", "Fixtures", "prepare", "private_mlflow", "start_fake_hub"]
