"""Seventieth batch of blind provokers: scientific Python beyond numpy and pandas, as data pipelines and CI jobs
meet it. SciPy linear algebra, sparse and optimize misuse by the calling code, scipy.io readers given files that
are not what they claim or are missing; statsmodels formulas naming columns the frame lacks, NaNs refused with
missing='raise', and its dataset downloader fetching from a local server that answers 401/429/503 or from a
closed port; xarray opening missing, corrupt or engine-less files, writing to a full tmpfs and reading a remote
dataset through fsspec from the same misbehaving server; netCDF4 writing to a read-only or full tmpfs and
opening files that are missing, corrupt or already there; matplotlib saving into a missing directory, a full or
read-only mount, or in an unknown format, and being handed a colormap that does not exist. Only 127.0.0.1."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checked import PyCase, python_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND70_SOURCES = frozenset({"scipy70", "statsmodels70", "xarray70", "netcdf70", "matplotlib70"})


class _OtherCause(Exception):
    """Raised instead of an OSError whose errno is not the provoked one, so the cause check drops the case."""


def _errno(fn: Callable[[], Any], *wanted: int, negative: bool = False) -> Callable[[], None]:
    """`fn`, kept only when its OSError carries one of the `wanted` errnos (or a netCDF library code, < 0)."""
    def go() -> None:
        try:
            fn()
        except OSError as exc:
            if exc.errno in wanted or (negative and isinstance(exc.errno, int) and exc.errno < 0):
                raise
            raise _OtherCause(exc.errno) from None

    return go


def _scipy_cases(env: Env) -> list[PyCase]:
    def solve_shapes() -> None:
        import numpy as np
        from scipy import linalg

        linalg.solve(np.eye(3), np.ones(4))

    def inv_not_square() -> None:
        import numpy as np
        from scipy import linalg

        linalg.inv(np.arange(6.0).reshape(2, 3))

    def sparse_matmul() -> None:
        from scipy import sparse

        weights = sparse.random(40, 12, density=0.1, format="csr", random_state=7)
        features = sparse.random(40, 5, density=0.1, format="csr", random_state=8)
        _ = weights @ features

    def loadmat_not_mat() -> None:
        from scipy import io as sio

        path = env.tmp / "b70_results.mat"
        rows = "".join(f"{n},{12.5 + n / 10:.2f},{1013 - n}\n" for n in range(40))
        path.write_text("station,temp,pressure\n" + rows, encoding="utf-8")
        sio.loadmat(str(path))

    def loadmat_missing() -> None:
        from scipy import io as sio

        sio.loadmat(str(env.tmp / "exports" / "b70_run_0042.mat"))

    def minimize_arity() -> None:
        import numpy as np
        from scipy import optimize

        def loss(params: Any, data: Any) -> float:
            return float(np.sum((data - params[0]) ** 2))

        optimize.minimize(loss, x0=np.zeros(1))

    def wavfile_not_wav() -> None:
        from scipy.io import wavfile

        path = env.tmp / "b70_sensor.wav"
        path.write_bytes(b"ID3\x03\x00\x00\x00not really audio" * 8)
        wavfile.read(str(path))

    return [
        ("scipy_solve_shape_mismatch", "programming", "scipy70", "ValueError", solve_shapes),
        ("scipy_inv_not_square", "programming", "scipy70", "ValueError", inv_not_square),
        ("scipy_sparse_matmul_dims", "programming", "scipy70", "ValueError", sparse_matmul),
        ("scipy_loadmat_not_mat", "validation", "scipy70", "ValueError|MatReadError", loadmat_not_mat),
        ("scipy_loadmat_missing", "filesystem", "scipy70", "FileNotFoundError", loadmat_missing),
        ("scipy_minimize_typeerror", "programming", "scipy70", "TypeError", minimize_arity),
        ("scipy_wavfile_not_riff", "validation", "scipy70", "ValueError", wavfile_not_wav),
    ]


def _statsmodels_cases(env: Env) -> list[PyCase]:
    def frame() -> Any:
        import pandas as pd

        return pd.DataFrame({"sales": [3.0, 4.5, 5.1, 6.2, 7.9, 8.4], "price": [9.0, 8.5, 8.1, 7.7, 7.0, 6.8]})

    def formula_missing_column() -> None:
        import statsmodels.formula.api as smf

        smf.ols("sales ~ price + advertising", data=frame()).fit()

    def nan_raise() -> None:
        import numpy as np
        import statsmodels.api as sm

        y = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
        x = sm.add_constant(np.array([0.5, 1.0, 1.5, 2.0, 2.5]))
        sm.OLS(y, x, missing="raise").fit()

    def glm_nan_raise() -> None:
        import numpy as np
        import statsmodels.api as sm

        y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
        x = sm.add_constant(np.array([0.2, np.nan, 0.9, 0.1, 0.8, 0.3]))
        sm.GLM(y, x, family=sm.families.Binomial(), missing="raise").fit()

    def length_mismatch() -> None:
        import numpy as np
        import statsmodels.api as sm

        sm.OLS(np.ones(10), sm.add_constant(np.arange(8.0))).fit()

    def fetch(path: str) -> Callable[[], None]:
        def go() -> None:
            from statsmodels.datasets import utils

            utils._get_data(f"{path}/", "b70_airquality", utils._get_cache(False))

        return go

    closed = f"http://127.0.0.1:{env.closed_port}/Rdatasets/csv/datasets"
    return [
        ("statsmodels_formula_missing_column", "programming", "statsmodels70",
         "PatsyError|FormulaicError|FactorEvaluationError|NameError|KeyError", formula_missing_column),
        ("statsmodels_ols_missing_raise", "validation", "statsmodels70", "MissingDataError", nan_raise),
        ("statsmodels_glm_missing_raise", "validation", "statsmodels70", "MissingDataError", glm_nan_raise),
        ("statsmodels_ols_length_mismatch", "programming", "statsmodels70", "ValueError", length_mismatch),
        ("statsmodels_fetch_503", "service", "statsmodels70", "HTTPError", fetch(env.url(503))),
        ("statsmodels_fetch_401", "auth", "statsmodels70", "HTTPError", fetch(env.url(401))),
        ("statsmodels_fetch_429", "resource", "statsmodels70", "HTTPError", fetch(env.url(429))),
        ("statsmodels_fetch_refused", "network", "statsmodels70", "URLError", fetch(closed)),
    ]


def _xarray_cases(env: Env, disk: Path) -> list[PyCase]:
    def missing() -> None:
        import xarray as xr

        xr.open_dataset(env.tmp / "b70_era5" / "t2m_2026-11.nc")

    def corrupt() -> None:
        import numpy as np
        import xarray as xr

        path = env.tmp / "b70_truncated.nc"
        xr.Dataset({"t2m": (("y", "x"), np.random.default_rng(70).random((60, 60)))}).to_netcdf(
            path, engine="netcdf4")
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 3])
        xr.open_dataset(path, engine="netcdf4")

    def engine_missing() -> None:
        import xarray as xr

        xr.open_dataset(env.tmp / "b70_store.zarr", engine="zarr")

    def sel_missing_variable() -> None:
        import numpy as np
        import xarray as xr

        ds = xr.Dataset({"t2m": (("time",), np.arange(4.0))}, coords={"time": np.arange(4)})
        print(ds["precip"].mean())

    def full_disk() -> None:
        import numpy as np
        import xarray as xr

        ds = xr.Dataset({"t2m": (("y", "x"), np.random.default_rng(70).random((200, 200)))})
        ds.to_netcdf(disk / "b70_grid.nc", engine="scipy")

    def remote(url: str) -> Callable[[], None]:
        def go() -> None:
            import fsspec
            import xarray as xr

            data = fsspec.filesystem("http").cat_file(url)
            xr.open_dataset(io.BytesIO(data), engine="scipy")

        return go

    closed = f"http://127.0.0.1:{env.closed_port}/thredds/fileServer/b70.nc"
    return [
        ("xarray_open_missing", "filesystem", "xarray70", "FileNotFoundError", missing),
        ("xarray_open_corrupt", "validation", "xarray70", "OSError", _errno(corrupt, negative=True)),
        ("xarray_engine_not_installed", "programming", "xarray70", "ImportError|ValueError", engine_missing),
        ("xarray_missing_variable", "programming", "xarray70", "KeyError", sel_missing_variable),
        ("xarray_to_netcdf_full", "resource", "xarray70", "OSError", _errno(full_disk, 28)),
        ("xarray_fsspec_503", "service", "xarray70", "ClientResponseError", remote(env.url(503))),
        ("xarray_fsspec_401", "auth", "xarray70", "ClientResponseError", remote(env.url(401))),
        ("xarray_fsspec_429", "resource", "xarray70", "ClientResponseError", remote(env.url(429))),
        ("xarray_fsspec_refused", "network", "xarray70", "ClientConnectorError|ClientOSError", remote(closed)),
    ]


def _netcdf_cases(env: Env, disk: Path, ro: Path) -> list[PyCase]:
    def write_to(path: Path, n: int) -> None:
        import netCDF4
        import numpy as np

        with netCDF4.Dataset(str(path), "w", format="NETCDF3_64BIT_OFFSET") as ds:
            ds.createDimension("time", n)
            var = ds.createVariable("sst", "f8", ("time",))
            var[:] = np.random.default_rng(70).random(n)

    def open_missing() -> None:
        import netCDF4

        netCDF4.Dataset(str(env.tmp / "b70_argo" / "profile_0001.nc"), "r")

    def open_garbage() -> None:
        import netCDF4

        path = env.tmp / "b70_download.nc"
        path.write_text("<html><body>Please log in</body></html>\n", encoding="utf-8")
        netCDF4.Dataset(str(path), "r")

    def exclusive_exists() -> None:
        import netCDF4

        path = env.tmp / "b70_exists.nc"
        write_to(path, 4)
        netCDF4.Dataset(str(path), "w", clobber=False)

    def unknown_dimension() -> None:
        import netCDF4

        with netCDF4.Dataset(str(env.tmp / "b70_dims.nc"), "w") as ds:
            ds.createDimension("time", None)
            ds.createVariable("sst", "f4", ("time", "lat"))

    return [
        ("netcdf_write_read_only", "filesystem", "netcdf70", "OSError",
         _errno(lambda: write_to(ro / "b70_out.nc", 8), 30)),
        ("netcdf_open_missing", "filesystem", "netcdf70", "FileNotFoundError", open_missing),
        ("netcdf_open_not_netcdf", "validation", "netcdf70", "OSError", _errno(open_garbage, -51)),
        ("netcdf_noclobber_exists", "filesystem", "netcdf70", "OSError", _errno(exclusive_exists, -35, 17)),
        ("netcdf_unknown_dimension", "programming", "netcdf70", "KeyError|ValueError", unknown_dimension),
    ]


def _matplotlib_cases(env: Env, disk: Path, ro: Path) -> list[PyCase]:
    def figure() -> Any:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [3.0, 1.0, 2.0])
        return fig

    def save(path: Path, **kw: Any) -> Callable[[], None]:
        def go() -> None:
            import matplotlib.pyplot as plt

            fig = figure()
            try:
                fig.savefig(path, **kw)
            finally:
                plt.close(fig)

        return go

    def colormap() -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        try:
            ax.imshow([[0.0, 1.0], [2.0, 3.0]], cmap="viridis_b70")
        finally:
            plt.close(fig)

    def xy_mismatch() -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        try:
            ax.plot([1, 2, 3, 4], [0.1, 0.2, 0.3])
        finally:
            plt.close(fig)

    big = {"dpi": 300, "format": "png"}
    return [
        ("matplotlib_savefig_missing_dir", "filesystem", "matplotlib70", "FileNotFoundError",
         save(env.tmp / "b70_reports" / "weekly" / "sales.png")),
        ("matplotlib_savefig_unknown_format", "validation", "matplotlib70", "ValueError",
         save(env.tmp / "b70_chart.png", format="pnj")),
        ("matplotlib_savefig_read_only", "filesystem", "matplotlib70", "OSError",
         _errno(save(ro / "b70_chart.png"), 30)),
        ("matplotlib_savefig_full", "resource", "matplotlib70", "OSError",
         _errno(save(disk / "b70_chart.png", **big), 28)),
        ("matplotlib_unknown_colormap", "programming", "matplotlib70", "ValueError|KeyError", colormap),
        ("matplotlib_plot_xy_mismatch", "programming", "matplotlib70", "ValueError", xy_mismatch),
    ]


def blind70_records(env: Env) -> list[Record]:
    ro = mount_tmpfs(env, "ro70", "size=64k,ro")
    out = python_records(_scipy_cases(env))
    out += python_records(_statsmodels_cases(env))
    out += python_records(_xarray_cases(env, mount_tmpfs(env, "xrdisk70", "size=64k")))
    out += python_records(_netcdf_cases(env, mount_tmpfs(env, "ncdisk70", "size=64k"), ro))
    out += python_records(_matplotlib_cases(env, mount_tmpfs(env, "mpldisk70", "size=16k"), ro))
    return out


if __name__ == "__main__":
    write_batch(blind70_records)


__all__ = ["BLIND70_SOURCES", "blind70_records"]
