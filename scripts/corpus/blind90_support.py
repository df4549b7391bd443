"""Helpers of the ninetieth batch (scientific and ML libraries): a small ONNX scorer built in code, a temporary
address-space limit for the running process, a process that holds an HDF5 file open for writing (its lock), and
the script that trains an XGBoost model in a child process under a low RLIMIT_AS."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import Env


def onnx_scorer(op_type: str = "MatMul", n_features: int = 4, n_outputs: int = 2) -> Any:
    """A one-node ONNX model `scores = features @ W` (float32, a dynamic batch), built with onnx.helper."""
    import numpy as np
    from onnx import TensorProto, helper

    weights = np.linspace(-1, 1, n_features * n_outputs, dtype=np.float32)
    w = helper.make_tensor("W", TensorProto.FLOAT, [n_features, n_outputs], weights.tolist())
    graph = helper.make_graph(
        [helper.make_node(op_type, ["features", "W"], ["scores"])], "churn_scorer",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_features])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", n_outputs])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="b90")
    model.ir_version = 8
    return model


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize")


@contextlib.contextmanager
def address_space(headroom: int) -> Iterator[None]:
    """Lower this process's soft RLIMIT_AS to its current size plus `headroom` bytes, restore it afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_vm_size() + headroom, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def hold_hdf5_for_writing(env: Env, path: Path) -> None:
    """Start a process that creates `path` with h5py and keeps it open (HDF5 locks it); stopped with `env`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, h5py\nf = h5py.File(sys.argv[1], 'w')\n"
         "f.create_dataset('temp', data=[1.0, 2.0])\nf.flush()\nprint('held', flush=True)\ntime.sleep(120)\n",
         str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env._closers.append(lambda: proc.wait(timeout=10))
    env._closers.append(proc.kill)
    if proc.stdout is None or proc.stdout.readline().strip() != "held":
        raise RuntimeError("the HDF5 holder did not start")


#: Train a histogram booster in a child process whose address space is capped at 1.4 GB.
XGB_RLIMIT_SCRIPT = """import resource
import numpy as np
import xgboost as xgb

rng = np.random.default_rng(90)
X = rng.random((2000, 50), dtype=np.float32)
y = rng.random(2000)
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (1_400_000_000, hard))
dtrain = xgb.DMatrix(X, y)
xgb.train({"tree_method": "hist", "max_depth": 12, "max_bin": 4096, "nthread": 2}, dtrain, num_boost_round=50)
"""


__all__ = ["XGB_RLIMIT_SCRIPT", "address_space", "hold_hdf5_for_writing", "onnx_scorer"]
