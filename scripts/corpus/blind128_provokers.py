"""Hundred-and-twenty-eighth batch of blind provokers: ML and notebook tooling not seen before, each failing for a
cause provoked here (blind128_support). nbclient executing notebooks whose cells fail (a TypeError, a missing CSV, a
refused port, a 503, a MemoryError under RLIMIT_AS, a JSON parse error); the `jupyter nbconvert` CLI on a missing
and an invalid notebook, a failing cell and a full output directory; jupyter_client with a missing connection file;
huggingface_hub against a loopback fake of the Hub API (401, gated 403, 429 with RateLimit headers, 503, a refused
port, a reset peer); transformers loading local model directories (no generation_config.json, truncated config.json,
corrupt tokenizer.json) and a Hub repo answering 401; datasets loading a missing file, a ragged CSV and a broken
JSON Lines file (a DatasetGenerationError keeps only its traceback: its own line names no cause), saving onto a full
or read-only tmpfs, a buggy map function; MLflow with a local SQLite store whose artifact roots are read-only or
full, a private `mlflow server` (an invalid metric key) and tracking URIs answering 401 and 503 or refusing;
safetensors on truncated and corrupt files, a full disk and a wrong argument type."""

from __future__ import annotations

import os
from typing import Any

import blind128_support as support  # sets the Hub endpoint and caches before the ML libraries are imported
from blind128_support import PY, Fixtures, prepare, private_mlflow, start_fake_hub
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch

BLIND128_SOURCES = frozenset({"nbclient128", "nbconvert128", "jupyterclient128", "hfhub128", "transformers128",
                              "datasets128", "mlflow128", "safetensors128"})


def _nbclient_cases(env: Env, f: Fixtures) -> list[PyCase]:
    import nbformat
    from nbclient import NotebookClient

    def execute(name: str) -> Any:
        def fn() -> None:
            nb = nbformat.read(str(f.notebooks / name), as_version=4)
            NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(f.root)}}
                           ).execute()
        return fn

    return [
        ("nbclient_cell_typeerror", "programming", "nbclient128", "CellExecutionError",
         execute("weekly-revenue.ipynb")),
        ("nbclient_cell_missing_csv", "filesystem", "nbclient128", "CellExecutionError",
         execute("churn-features.ipynb")),
        ("nbclient_cell_refused", "network", "nbclient128", "CellExecutionError", execute("refresh-dashboard.ipynb")),
        ("nbclient_cell_http_503", "service", "nbclient128", "CellExecutionError", execute("fx-rates.ipynb")),
        ("nbclient_cell_memory", "resource", "nbclient128", "CellExecutionError", execute("embeddings-batch.ipynb")),
        ("nbclient_cell_json", "validation", "nbclient128", "CellExecutionError", execute("model-card.ipynb")),
    ]


def _jupyter_client_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from jupyter_client import BlockingKernelClient

    def load(path: str) -> Any:
        def fn() -> None:
            client = BlockingKernelClient()
            client.load_connection_file(path)
        return fn

    return [
        ("jupyter_client_missing_connection", "filesystem", "jupyterclient128", "FileNotFoundError",
         load(str(f.root / "runtime" / "kernel-77e2b1d0.json"))),
    ]


def _hub_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi(token="hf_fake0local0token0for0corpus0runs")

    def download(repo: str, filename: str, endpoint: str | None = None) -> Any:
        return lambda: hf_hub_download(repo, filename, endpoint=endpoint, cache_dir=str(f.root / "hub-cache"),
                                       token="hf_fake0local0token0for0corpus0runs")

    return [
        ("hfhub_info_401", "auth", "hfhub128", "HfHubHTTPError",
         lambda: api.model_info("acme-ml/invoice-ner-v3")),
        ("hfhub_download_gated", "auth", "hfhub128", "GatedRepoError",
         download("acme-ml/llama-guard-internal", "model.safetensors")),
        ("hfhub_info_429", "resource", "hfhub128", "HfHubHTTPError",
         lambda: api.model_info("acme-ml/whisper-ft-callcenter")),
        ("hfhub_info_503", "service", "hfhub128", "HfHubHTTPError",
         lambda: api.model_info("acme-ml/sentence-embed-de")),
        ("hfhub_refused", "network", "hfhub128", "ConnectError|ConnectionError|OSError",
         lambda: HfApi(endpoint=f"http://127.0.0.1:{env.closed_port}").model_info("acme-ml/invoice-ner-v3")),
        ("hfhub_reset", "network", "hfhub128", "ReadError|RemoteProtocolError|ConnectionError|OSError",
         lambda: HfApi(endpoint=f"http://127.0.0.1:{env.reset_port}").model_info("acme-ml/invoice-ner-v3")),
    ]


def _transformers_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    return [
        ("transformers_no_generation_config", "filesystem", "transformers128", "OSError",
         lambda: GenerationConfig.from_pretrained(str(f.models / "invoice-ner-v3"))),
        ("transformers_corrupt_config", "validation", "transformers128", "OSError|JSONDecodeError|ValueError",
         lambda: AutoConfig.from_pretrained(str(f.models / "distilbert-support-intent"))),
        ("transformers_corrupt_tokenizer_json", "validation", "transformers128", "Exception",
         lambda: AutoTokenizer.from_pretrained(str(f.models / "receipt-tokenizer"))),
        ("transformers_hub_401", "auth", "transformers128", "OSError",
         lambda: AutoConfig.from_pretrained("acme-ml/invoice-ner-v3", token="hf_fake0local0token0for0corpus0runs")),
    ]


def _datasets_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from datasets import Dataset, load_dataset

    cache = str(f.root / "ds-cache")

    def load(kind: str, files: str, **kw: Any) -> Any:
        return lambda: load_dataset(kind, data_files=files, split="train", cache_dir=cache, **kw)

    def small() -> Any:
        return Dataset.from_dict({"text": ["great product", "never again"], "label": [1, 0]})

    def save(path: str) -> Any:
        def fn() -> None:
            ds = Dataset.from_dict({"text": ["x" * 2000] * 400, "label": list(range(400))})
            ds.save_to_disk(path)
        return fn

    def buggy_map() -> None:
        small().map(lambda row: {"n_tokens": len(row["text"].split()) + row["text"].count})

    return [
        ("datasets_missing_file", "filesystem", "datasets128", "FileNotFoundError",
         load("csv", str(f.data / "tickets-2026-11.csv"))),
        ("datasets_csv_ragged", "validation", "datasets128", "DatasetGenerationError|ParserError",
         load("csv", str(f.data / "tickets-2026-10.csv"))),
        ("datasets_json_broken", "validation", "datasets128", "DatasetGenerationError|ArrowInvalid",
         load("json", str(f.data / "reviews-train.jsonl"))),
        ("datasets_save_full", "resource", "datasets128", "OSError", save(str(f.full / "tickets-processed"))),
        ("datasets_save_read_only", "filesystem", "datasets128", "OSError", save(str(f.ro / "tickets-processed"))),
        ("datasets_map_typeerror", "programming", "datasets128", "TypeError", buggy_map),
    ]


def _mlflow_cases(env: Env, f: Fixtures) -> list[PyCase]:
    from mlflow.tracking import MlflowClient

    local = MlflowClient(tracking_uri=f"sqlite:///{f.root / 'mlflow-local.db'}")
    ro_exp = local.create_experiment("nightly-retrain", artifact_location=f"file://{f.ro}/mlruns/nightly-retrain")
    ro_run = local.create_run(ro_exp)
    full_exp = local.create_experiment("ranker-ablation", artifact_location=f"file://{f.full}/artifacts")
    full_run = local.create_run(full_exp)
    artifact = f.root / "confusion-matrix.npy"
    artifact.write_bytes(os.urandom(200 * 1024))

    server = MlflowClient(tracking_uri=f"http://127.0.0.1:{private_mlflow(env, f.root)}")

    return [
        ("mlflow_artifact_read_only", "filesystem", "mlflow128", "OSError",
         lambda: local.log_artifact(ro_run.info.run_id, str(artifact))),
        ("mlflow_artifact_full", "resource", "mlflow128", "OSError",
         lambda: local.log_artifact(full_run.info.run_id, str(artifact))),
        ("mlflow_server_bad_metric_key", "validation", "mlflow128", "MlflowException|RestException",
         lambda: server.log_metric(server.create_run(server.create_experiment("ctr-model")).info.run_id,
                                   "val/../loss", 0.31)),
        ("mlflow_server_401", "auth", "mlflow128", "MlflowException",
         lambda: MlflowClient(tracking_uri=env.url(401)).create_experiment("ctr-model")),
        ("mlflow_server_503", "service", "mlflow128", "MlflowException",
         lambda: MlflowClient(tracking_uri=env.url(503)).search_experiments()),
        ("mlflow_server_refused", "network", "mlflow128", "MlflowException|ConnectionError",
         lambda: MlflowClient(tracking_uri=f"http://127.0.0.1:{env.closed_port}").get_experiment_by_name("ctr")),
    ]


def _safetensors_cases(env: Env, f: Fixtures) -> list[PyCase]:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    w = f.models / "weights"

    def open_(path: str) -> Any:
        def fn() -> None:
            with safe_open(path, framework="numpy") as fh:
                for key in fh.keys():  # noqa: SIM118 (safe_open is no mapping)
                    fh.get_tensor(key)
        return fn

    return [
        ("safetensors_truncated", "validation", "safetensors128", "SafetensorError|Exception",
         lambda: load_file(str(w / "model-00002-of-00004.safetensors"))),
        ("safetensors_corrupt_header", "validation", "safetensors128", "SafetensorError|Exception",
         open_(str(w / "pytorch_lora.safetensors"))),
        ("safetensors_save_full", "resource", "safetensors128", "OSError|SafetensorError|Exception",
         lambda: save_file({"embeddings.word_embeddings.weight": np.ones((512, 256), dtype="float32")},
                           str(f.full / "model.safetensors"))),
        ("safetensors_save_list", "programming", "safetensors128", "AttributeError|TypeError|ValueError",
         lambda: save_file({"classifier.bias": [0.0, 0.1, 0.2]}, str(f.root / "head.safetensors"))),
    ]


def _tool_cases(env: Env, f: Fixtures) -> list[tuple[str, ToolCase]]:
    jupyter = os.path.join(os.path.dirname(PY), "jupyter")
    nbs = f.notebooks
    return [
        ("nbconvert128", ("nbconvert_missing_notebook", "filesystem", "not found|No such file|matched no files",
                          [jupyter, "nbconvert", "--to", "html", "--execute", str(nbs / "q4-forecast.ipynb")])),
        ("nbconvert128", ("nbconvert_invalid_json", "validation", "NotJSONError|JSON",
                          [jupyter, "nbconvert", "--to", "html", str(nbs / "ab-test-readout.ipynb")])),
        ("nbconvert128", ("nbconvert_execute_typeerror", "programming", "TypeError",
                          [jupyter, "nbconvert", "--to", "notebook", "--execute", "--output-dir", str(f.root / "out"),
                           str(nbs / "weekly-revenue.ipynb")])),
        ("nbconvert128", ("nbconvert_output_full", "resource", "No space left",
                          [jupyter, "nbconvert", "--to", "html", "--output-dir", str(f.full / "site"),
                           str(nbs / "churn-features.ipynb")])),
    ]


def blind128_records(env: Env) -> list[Record]:
    start_fake_hub(env)
    f = prepare(env)
    cases: list[PyCase] = []
    for make in (_nbclient_cases, _jupyter_client_cases, _hub_cases, _transformers_cases, _datasets_cases,
                 _mlflow_cases, _safetensors_cases):
        cases += make(env, f)
    # a DatasetGenerationError's own line names no cause (only its chained traceback does): keep the traceback
    out = [r for r in python_records(cases)
           if not (r["kind"] == "exception" and r["exc_type"].endswith("DatasetGenerationError"))]
    for source, case in _tool_cases(env, f):
        out += tool_records([case], source, env.tmp, timeout=120)
    return out


if __name__ == "__main__":
    assert support.HUB_PORT
    write_batch(blind128_records)


__all__ = ["BLIND128_SOURCES", "blind128_records"]
