"""Ninetieth batch of blind provokers: Python scientific and ML libraries not seen before, each failing for real on
this machine. XGBoost and LightGBM boosters trained here and scored with input that lacks a feature, labels out
of range, a model file that is not there, a typo in the code's own parameters, a tracker port nobody listens on
and a training run under a low RLIMIT_AS; an ONNX scorer built with onnx.helper and run with onnxruntime (a batch
of the wrong width, an input name typo, a truncated or missing model file, an unknown operator, a save to a full
tmpfs); numba typing errors and an allocation under RLIMIT_AS; sympy formulas typed by a user and a matrix
product of the wrong shape; networkx routes with no path, a directed graph given to an undirected algorithm, a
missing GraphML file; shapely WKT cut short and an immutable point; pyproj with an unknown EPSG code and its grid
sync against a closed port and a local endpoint answering 503 or 403; fastparquet with a mixed-type column, a
full tmpfs, a read-only mount and a 401 or 503 over fsspec's HTTP; h5netcdf opening a CSV and a file another
process holds locked; a dask LocalCluster whose worker exceeds its memory limit, a closed scheduler port and
arrays that do not broadcast. Only 127.0.0.1."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from blind90_support import XGB_RLIMIT_SCRIPT, address_space, hold_hdf5_for_writing, onnx_scorer
from checked import PyCase, ToolCase, python_records, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND90_SOURCES = frozenset({"xgboost90", "lightgbm90", "onnx90", "numba90", "sympy90", "networkx90", "shapely90",
                             "pyproj90", "fastparquet90", "h5netcdf90", "dask90"})

FEATURES = ["age", "income", "tenure", "visits"]


def _training_data() -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(90)
    X = rng.random((200, len(FEATURES)))
    y = (X[:, 0] + X[:, 2] > 1.0).astype(int)
    return X, y


def _scoring_csv(env: Env) -> Path:
    """An export from the CRM whose `visits` column was dropped upstream."""
    path = env.tmp / "customers90.csv"
    path.write_text("age,income,tenure\n0.31,0.52,0.77\n0.64,0.18,0.05\n0.12,0.91,0.44\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- XGBoost / LightGBM


def _boosting_cases(env: Env) -> list[PyCase]:
    import lightgbm as lgb
    import numpy as np
    import xgboost as xgb

    X, y = _training_data()
    booster = xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, y, feature_names=FEATURES), 5)
    lgb_model = lgb.train({"objective": "binary", "verbose": -1}, lgb.Dataset(X, y), 5)
    csv = _scoring_csv(env)

    def xgb_missing_feature() -> None:
        header = csv.read_text(encoding="utf-8").splitlines()[0].split(",")
        rows = np.loadtxt(csv, delimiter=",", skiprows=1)
        booster.predict(xgb.DMatrix(rows, feature_names=header))

    def xgb_label_out_of_range() -> None:
        # satisfaction scores 1..3 loaded where the churn flag (0/1) was expected
        labels = np.random.default_rng(1).integers(1, 4, len(y))
        xgb.train({"objective": "binary:logistic", "base_score": 0.5}, xgb.DMatrix(X, labels), 3)

    def xgb_rounds_as_string() -> None:
        settings = {"rounds": "25"}  # read back from the code's own defaults dict, never converted
        xgb.train({"objective": "binary:logistic"}, xgb.DMatrix(X, y), num_boost_round=settings["rounds"])

    def xgb_tracker_refused() -> None:
        from xgboost import collective

        collective.init(dmlc_communicator="rabit", dmlc_tracker_uri="127.0.0.1", dmlc_tracker_port=env.closed_port,
                        dmlc_task_id="worker-0", dmlc_retry=1, dmlc_timeout=5)

    def lgb_feature_count() -> None:
        lgb_model.predict(np.loadtxt(csv, delimiter=",", skiprows=1))

    def lgb_unknown_objective() -> None:
        lgb.train({"objective": "binary_logistic", "verbose": -1}, lgb.Dataset(X, y), 5)

    def lgb_model_missing() -> None:
        lgb.Booster(model_file=str(env.tmp / "models" / "churn90_lgb.txt"))

    return [
        ("xgb_predict_missing_feature", "validation", "xgboost90", "ValueError", xgb_missing_feature),
        ("xgb_label_out_of_range", "validation", "xgboost90", "XGBoostError", xgb_label_out_of_range),
        ("xgb_rounds_as_string", "programming", "xgboost90", "TypeError", xgb_rounds_as_string),
        ("lgb_predict_feature_count", "validation", "lightgbm90", "LightGBMError", lgb_feature_count),
        ("lgb_unknown_objective", "programming", "lightgbm90", "LightGBMError", lgb_unknown_objective),
        ("lgb_model_file_missing", "filesystem", "lightgbm90", "LightGBMError", lgb_model_missing),
        ("xgb_tracker_refused", "network", "xgboost90", "XGBoostError", xgb_tracker_refused),
    ]


def _boosting_tools() -> list[ToolCase]:
    return [("xgb_train_rlimit_as", "resource", "bad_malloc|bad_alloc|MemoryError",
             [sys.executable, "-c", XGB_RLIMIT_SCRIPT])]


# --------------------------------------------------------------------------- ONNX / onnxruntime


def _onnx_cases(env: Env, full: Path) -> list[PyCase]:
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx_scorer()
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    csv = _scoring_csv(env)

    def wrong_width() -> None:
        batch = np.loadtxt(csv, delimiter=",", skiprows=1, dtype=np.float32)
        session.run(None, {"features": batch})

    def input_name_typo() -> None:
        session.run(None, {"feature": np.zeros((2, 4), dtype=np.float32)})

    def truncated_model() -> None:
        path = env.tmp / "scorer90_partial.onnx"
        data = model.SerializeToString()
        path.write_bytes(data[: len(data) // 3])  # an upload interrupted a third of the way
        ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def unknown_operator() -> None:
        onnx.checker.check_model(onnx_scorer(op_type="MatMull"), full_check=True)

    def save_full() -> None:
        big = onnx_scorer(n_features=4096, n_outputs=32)
        onnx.save_model(big, str(full / "scorer90_large.onnx"))

    return [
        ("ort_input_wrong_width", "validation", "onnx90", "InvalidArgument", wrong_width),
        ("ort_input_name_typo", "programming", "onnx90", "ValueError", input_name_typo),
        ("ort_model_truncated", "validation", "onnx90", "InvalidProtobuf", truncated_model),
        ("ort_model_missing", "filesystem", "onnx90", "NoSuchFile",
         lambda: ort.InferenceSession(str(env.tmp / "deploy" / "scorer90.onnx"), providers=["CPUExecutionProvider"])),
        ("onnx_checker_unknown_op", "programming", "onnx90", "ValidationError", unknown_operator),
        ("onnx_save_full_tmpfs", "resource", "onnx90", "OSError", save_full),
    ]


# --------------------------------------------------------------------------- numba / sympy


def _numba_sympy_cases() -> list[PyCase]:
    import numba
    import numpy as np
    import sympy

    @numba.njit
    def sku_label(prefix: Any, number: Any) -> Any:
        return prefix + number

    @numba.njit
    def scratch(n: Any) -> Any:
        return np.empty(n)

    def typing_error() -> None:
        sku_label("SKU-", 7)

    def allocation_under_rlimit() -> None:
        scratch(8)  # compiled before the limit
        with address_space(512 << 20):
            scratch(1 << 31)

    def sympify_user_formula() -> None:
        typed = "2*x +* 3"  # a formula typed into the calculator form
        sympy.sympify(typed)

    def matrix_shape() -> None:
        rotation = sympy.Matrix([[0, -1], [1, 0]])
        point = sympy.Matrix([[3, 4, 1]])  # homogeneous row vector where a 2x1 column was meant
        _ = rotation * point

    return [
        ("numba_str_plus_int", "programming", "numba90", "TypingError", typing_error),
        ("numba_alloc_rlimit_as", "resource", "numba90", "MemoryError", allocation_under_rlimit),
        ("sympy_sympify_user_formula", "validation", "sympy90", "SympifyError", sympify_user_formula),
        ("sympy_matrix_shape", "programming", "sympy90", "ShapeError", matrix_shape),
    ]


# --------------------------------------------------------------------------- networkx / shapely / pyproj


def _graph_geo_cases(env: Env) -> list[PyCase]:
    import networkx as nx
    import pyproj
    import shapely.wkt
    from shapely.geometry import Point

    def no_path() -> None:
        edges = env.tmp / "rail90.edgelist"
        edges.write_text("Berlin Hamburg\nHamburg Bremen\nMunich Stuttgart\nStuttgart Karlsruhe\n", encoding="utf-8")
        graph = nx.read_edgelist(edges)
        nx.shortest_path(graph, "Bremen", "Karlsruhe")

    def directed_misuse() -> None:
        deps = nx.DiGraph([("build", "test"), ("test", "package"), ("lint", "package")])
        nx.is_connected(deps)

    def wkt_truncated() -> None:
        field = "POLYGON ((13.37 52.51, 13.40 52.51, 13.40 52.53"  # a CSV cell cut at its column limit
        shapely.wkt.loads(field)

    def immutable_point() -> None:
        depot = Point(13.37, 52.51)
        depot.x = 13.38

    def unknown_epsg() -> None:
        code = "EPSG:999999"  # from the upload form's projection field
        pyproj.CRS.from_user_input(code)

    return [
        ("nx_shortest_path_no_path", "validation", "networkx90", "NetworkXNoPath", no_path),
        ("nx_directed_not_implemented", "programming", "networkx90", "NetworkXNotImplemented", directed_misuse),
        ("nx_graphml_missing", "filesystem", "networkx90", "FileNotFoundError",
         lambda: nx.read_graphml(env.tmp / "graphs" / "network90.graphml")),
        ("shapely_wkt_truncated", "validation", "shapely90", "GEOSException|ShapelyError", wkt_truncated),
        ("shapely_point_immutable", "programming", "shapely90", "AttributeError", immutable_point),
        ("pyproj_unknown_epsg", "validation", "pyproj90", "CRSError", unknown_epsg),
    ]


def _pyproj_tools() -> list[ToolCase]:
    sync = "VENV/pyproj sync --list-files --target-directory TMP/grids90"
    return [
        ("pyproj_sync_refused", "network", "Connection refused",
         f"PROJ_NETWORK_ENDPOINT=http://127.0.0.1:CLOSED {sync}"),
        ("pyproj_sync_503", "service", "503", f"PROJ_NETWORK_ENDPOINT=HTTP/status/503 {sync}"),
        ("pyproj_sync_403", "auth", "403", f"PROJ_NETWORK_ENDPOINT=HTTP/status/403 {sync}"),
    ]


# --------------------------------------------------------------------------- fastparquet / h5netcdf


def _file_format_cases(env: Env, full: Path, ro: Path) -> list[PyCase]:
    import fastparquet
    import fsspec
    import h5netcdf
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"sensor": np.arange(40_000) % 17, "reading": np.random.default_rng(90).random(40_000)})
    http = fsspec.filesystem("http")

    def mixed_column() -> None:
        upload = env.tmp / "inventory90.csv"
        upload.write_text("sku,qty\nA1,3\n42,5\nB7,2\n", encoding="utf-8")
        df = pd.read_csv(upload, dtype=object)
        df["sku"] = [int(v) if v.isdigit() else v for v in df["sku"]]  # numeric-looking SKUs came through as ints
        fastparquet.write(str(env.tmp / "inventory90.parq"), df)

    def not_hdf5() -> None:
        path = env.tmp / "station90.nc"
        path.write_text("station,time,temp\n10382,2026-01-01T00:00,1.5\n", encoding="utf-8")
        h5netcdf.File(path, "r")

    def locked() -> None:
        path = env.tmp / "forecast90.nc"
        hold_hdf5_for_writing(env, path)
        h5netcdf.File(path, "a")

    return [
        ("fastparquet_mixed_column", "validation", "fastparquet90", "ValueError", mixed_column),
        ("fastparquet_full_tmpfs", "resource", "fastparquet90", "OSError",
         lambda: fastparquet.write(str(full / "readings90.parq"), frame)),
        ("fastparquet_read_only", "filesystem", "fastparquet90", "OSError",
         lambda: fastparquet.write(str(ro / "readings90.parq"), frame)),
        ("fastparquet_http_401", "auth", "fastparquet90", "ClientResponseError",
         lambda: fastparquet.ParquetFile(env.url(401), open_with=http.open)),
        ("fastparquet_http_503", "service", "fastparquet90", "ClientResponseError",
         lambda: fastparquet.ParquetFile(env.url(503), open_with=http.open)),
        ("h5netcdf_not_hdf5", "validation", "h5netcdf90", "OSError", not_hdf5),
        ("h5netcdf_file_locked", "resource", "h5netcdf90", "BlockingIOError|OSError", locked),
    ]


# --------------------------------------------------------------------------- dask


def _dask_cases(env: Env) -> list[PyCase]:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster

    def hog(blocks: int) -> int:
        import time

        import numpy as np

        held = []
        for _ in range(blocks):
            held.append(np.ones(25_000_000))
            time.sleep(0.05)
        return len(held)

    def killed_worker() -> None:
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
                LocalCluster(n_workers=1, threads_per_worker=1, memory_limit="300MiB", processes=True,
                             dashboard_address=None, host="127.0.0.1") as cluster, Client(cluster) as client:
            client.submit(hog, 20).result(timeout=90)

    def closed_scheduler() -> None:
        Client(f"tcp://127.0.0.1:{env.closed_port}", timeout="3s")

    def broadcast() -> None:
        grid = da.ones((300, 400), chunks=100)
        weights = da.ones((500,), chunks=100)
        (grid * weights).sum().compute()

    return [
        ("dask_worker_memory_killed", "resource", "dask90", "KilledWorker", killed_worker),
        ("dask_scheduler_closed_port", "network", "dask90", "OSError", closed_scheduler),
        ("dask_array_broadcast", "programming", "dask90", "ValueError", broadcast),
    ]


def blind90_records(env: Env) -> list[Record]:
    full = mount_tmpfs(env, "full90", "size=64k")
    ro = mount_tmpfs(env, "ro90", "size=64k,ro")
    venv_bin = Path(sys.executable).parent

    def fill(text: str) -> str:
        return (text.replace("VENV", str(venv_bin)).replace("TMP", str(env.tmp)).replace("HTTP", env.http)
                .replace("CLOSED", str(env.closed_port)))

    out = python_records(_boosting_cases(env))
    out += tool_records(_boosting_tools(), "xgboost90", env.tmp, timeout=120)
    out += python_records(_onnx_cases(env, full))
    out += python_records(_numba_sympy_cases())
    out += python_records(_graph_geo_cases(env))
    out += tool_records(_pyproj_tools(), "pyproj90", env.tmp, fill)
    out += python_records(_file_format_cases(env, full, ro))
    out += python_records(_dask_cases(env))
    return out


if __name__ == "__main__":
    write_batch(blind90_records)


__all__ = ["BLIND90_SOURCES", "blind90_records"]
