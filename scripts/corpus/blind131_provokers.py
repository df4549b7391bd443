"""Hundred-and-thirty-first batch of blind provokers: remote filesystem layers against local servers, each
failing for a cause provoked here (blind131_support). s3fs, smart_open, obstore and aiobotocore against a
private moto S3 server with IAM authentication on (a missing bucket or key, a user whose policy does not cover
the bucket or the write, an unknown access key, a wrong secret), against refused and silent ports, against fakes
answering 500 InternalError and 503 ServiceUnavailable, downloading onto a full or read-only tmpfs, a gzip
object that is not gzipped, invalid bucket names and config keys, and wrong API use; fsspec over a local path,
HTTP (403, 429, 503 from the local status server, a refused port), its zip layer on a garbled object and a
simplecache on a full tmpfs."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from blind131_support import REGION, Keys, S3Lab, prepare_lab
from checked import PyCase, python_records
from common import Env, Record, write_batch

BLIND131_SOURCES = frozenset({"s3fs131", "fsspec131", "smartopen131", "obstore131", "aiobotocore131"})


def _s3fs_cases(env: Env, lab: S3Lab) -> list[PyCase]:
    import s3fs

    def fs(keys: Keys, endpoint: str = lab.endpoint) -> Any:
        return s3fs.S3FileSystem(key=keys.key, secret=keys.secret, endpoint_url=endpoint,
                                 skip_instance_cache=True, use_listings_cache=False,
                                 client_kwargs={"region_name": REGION},
                                 config_kwargs={"retries": {"max_attempts": 1}, "connect_timeout": 2,
                                                "read_timeout": 2})

    admin, reader = lab.admin, lab.reader
    unknown = Keys("AKIAZ7Q2EXPORTJOB4XQ", "c9k3Jq0Yx2vT8mN4pL6sR1wE5aZ7bH0dF3gK9uIo")

    def put_denied() -> None:
        fs(reader).pipe("analytics-exports/daily/2026-11-29/orders.csv", b"order_id,total\n")

    return [
        ("s3fs_missing_bucket", "filesystem", "s3fs131", "FileNotFoundError",
         lambda: fs(admin).ls("analytics-exports-staging/daily/")),
        ("s3fs_denied_put", "auth", "s3fs131", "PermissionError", put_denied),
        ("s3fs_unknown_key", "auth", "s3fs131", "PermissionError|ClientError",
         lambda: fs(unknown).ls("analytics-exports/daily/")),
        ("s3fs_read_timeout", "network", "s3fs131", "ReadTimeoutError|TimeoutError|ConnectTimeoutError",
         lambda: fs(admin, f"http://127.0.0.1:{env.hang_port}").cat("analytics-exports/daily/x.csv")),
        ("s3fs_internal_error", "service", "s3fs131", "OSError|ClientError",
         lambda: fs(admin, lab.err500).cat("analytics-exports/daily/2026-11-28/orders.csv")),
        ("s3fs_get_full_disk", "resource", "s3fs131", "OSError",
         lambda: fs(admin).get("billing-archive/invoices/2026/INV-20931.pdf", str(lab.full / "INV-20931.pdf"))),
        ("s3fs_get_read_only", "filesystem", "s3fs131", "OSError",
         lambda: fs(admin).get("analytics-exports/daily/2026-11-28/orders.csv",
                               str(lab.ro / "exports" / "orders.csv"))),
        ("s3fs_bad_bucket_name", "validation", "s3fs131", "ParamValidationError|ValueError|OSError",
         lambda: fs(admin).ls("Analytics_Exports!/daily/")),
    ]


def _fsspec_cases(env: Env, lab: S3Lab) -> list[PyCase]:
    import fsspec

    s3opts = {"key": lab.admin.key, "secret": lab.admin.secret, "endpoint_url": lab.endpoint,
              "client_kwargs": {"region_name": REGION}, "skip_instance_cache": True}

    def http_cat(url: str) -> Any:
        return lambda: fsspec.filesystem("http", skip_instance_cache=True).cat_file(url)

    def read(url: str, **kw: Any) -> Any:
        def fn() -> None:
            with fsspec.open(url, "rb", **kw) as f:
                f.read()
        return fn

    def zip_members() -> None:
        fsspec.filesystem("zip", fo="s3://analytics-exports/bundles/reports-2026-11.zip",
                          target_options=s3opts).ls("/")

    return [
        ("fsspec_local_missing", "filesystem", "fsspec131", "FileNotFoundError",
         read(f"file://{lab.root}/warehouse/exports/2026-11-29/customers.parquet")),
        ("fsspec_http_403", "auth", "fsspec131", "ClientResponseError",
         http_cat(env.url(403) + "?file=exports/orders.csv")),
        ("fsspec_http_503", "service", "fsspec131", "ClientResponseError",
         http_cat(env.url(503) + "?file=exports/orders.csv")),
        ("fsspec_http_429", "resource", "fsspec131", "ClientResponseError",
         http_cat(env.url(429) + "?file=exports/orders.csv")),
        ("fsspec_http_refused", "network", "fsspec131", "ClientConnectorError|ClientOSError|OSError",
         http_cat(f"http://127.0.0.1:{env.closed_port}/exports/orders.csv")),
        ("fsspec_simplecache_full", "resource", "fsspec131", "OSError",
         read("simplecache::s3://billing-archive/invoices/2026/INV-20931.pdf", s3=s3opts,
              simplecache={"cache_storage": str(lab.full / "fsspec-cache")})),
        ("fsspec_zip_corrupt", "validation", "fsspec131", "BadZipFile", zip_members),
        ("fsspec_cat_int", "programming", "fsspec131", "TypeError|AttributeError",
         lambda: fsspec.filesystem("file").cat_file(20261128)),
    ]


def _smart_open_cases(env: Env, lab: S3Lab) -> list[PyCase]:
    import boto3
    import smart_open
    from botocore.config import Config

    def client(keys: Keys, endpoint: str = lab.endpoint) -> Any:
        return boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id=keys.key,
                            aws_secret_access_key=keys.secret,
                            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2))

    def read(url: str, keys: Keys = lab.admin, endpoint: str = lab.endpoint) -> Any:
        def fn() -> None:
            with smart_open.open(url, "rb", transport_params={"client": client(keys, endpoint)}) as f:
                f.read()
        return fn

    return [
        ("smartopen_missing_key", "filesystem", "smartopen131", "OSError|ClientError",
         read("s3://analytics-exports/daily/2026-11-30/orders.csv")),
        ("smartopen_denied", "auth", "smartopen131", "OSError|ClientError",
         read("s3://billing-archive/invoices/2026/INV-20931.pdf", lab.reader)),
        ("smartopen_refused", "network", "smartopen131", "EndpointConnectionError|OSError",
         read("s3://analytics-exports/daily/2026-11-28/orders.csv", endpoint=f"http://127.0.0.1:{env.closed_port}")),
        ("smartopen_503", "service", "smartopen131", "OSError|ClientError",
         read("s3://analytics-exports/daily/2026-11-28/orders.csv", endpoint=lab.err503)),
        ("smartopen_gzip_not_gzip", "validation", "smartopen131", "BadGzipFile|OSError",
         read("s3://analytics-exports/daily/2026-11-28/events.json.gz")),
        ("smartopen_open_int", "programming", "smartopen131", "TypeError", lambda: smart_open.open(None, "rb")),
    ]


def _obstore_cases(env: Env, lab: S3Lab) -> list[PyCase]:
    import obstore
    from obstore.store import LocalStore, S3Store

    def store(bucket: str, keys: Keys = lab.admin, endpoint: str = lab.endpoint, **kw: Any) -> Any:
        return S3Store(bucket, endpoint=endpoint, access_key_id=keys.key, secret_access_key=keys.secret,
                       region=REGION, virtual_hosted_style_request=False,
                       client_options={"allow_http": True, "timeout": "3s", "connect_timeout": "2s"},
                       retry_config={"max_retries": 0, "retry_timeout": timedelta(seconds=2),
                                     "backoff": {"base": 2, "init_backoff": timedelta(milliseconds=100),
                                                 "max_backoff": timedelta(seconds=1)}},
                       **kw)

    def get(bucket: str, path: str, **kw: Any) -> Any:
        return lambda: obstore.get(store(bucket, **kw), path).bytes()

    def bad_config() -> None:
        S3Store("analytics-exports", endpoint=lab.endpoint, config={"aws_acess_key_id": lab.admin.key})

    return [
        ("obstore_missing_key", "filesystem", "obstore131", "NotFoundError|FileNotFoundError",
         get("analytics-exports", "daily/2026-11-30/orders.csv")),
        ("obstore_wrong_secret", "auth", "obstore131", "PermissionDeniedError|UnauthenticatedError|GenericError",
         get("analytics-exports", "daily/2026-11-28/orders.csv", keys=Keys(lab.reader.key, "x" * 40))),
        ("obstore_refused", "network", "obstore131", "GenericError|BaseError",
         get("analytics-exports", "daily/2026-11-28/orders.csv", endpoint=f"http://127.0.0.1:{env.closed_port}")),
        ("obstore_500", "service", "obstore131", "GenericError|BaseError",
         get("analytics-exports", "daily/2026-11-28/orders.csv", endpoint=lab.err500)),
        ("obstore_unknown_config", "validation", "obstore131", "UnknownConfigurationKeyError|ValueError",
         bad_config),
        ("obstore_get_missing_path", "programming", "obstore131", "TypeError",
         lambda: obstore.get(LocalStore(str(lab.root)))),
    ]


def _aiobotocore_cases(env: Env, lab: S3Lab) -> list[PyCase]:
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session

    def call(op: str, keys: Keys = lab.admin, endpoint: str = lab.endpoint, **params: Any) -> Any:
        async def go() -> None:
            cfg = AioConfig(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2)
            async with get_session().create_client("s3", endpoint_url=endpoint, region_name=REGION,
                                                   aws_access_key_id=keys.key, aws_secret_access_key=keys.secret,
                                                   config=cfg) as s3:
                resp = await getattr(s3, op)(**params)
                if "Body" in resp:
                    async with resp["Body"] as body:
                        await body.read()
        return lambda: asyncio.run(go())

    def forgot_await() -> None:
        async def go() -> None:
            async with get_session().create_client("s3", endpoint_url=lab.endpoint, region_name=REGION,
                                                   aws_access_key_id=lab.admin.key,
                                                   aws_secret_access_key=lab.admin.secret) as s3:
                resp = s3.get_object(Bucket="analytics-exports", Key="daily/2026-11-28/orders.csv")
                try:
                    resp["Body"]
                finally:
                    resp.close()
        asyncio.run(go())

    orders = {"Bucket": "analytics-exports", "Key": "daily/2026-11-28/orders.csv"}
    return [
        ("aiobotocore_no_such_key", "filesystem", "aiobotocore131", "ClientError",
         call("get_object", Bucket="ml-feature-store", Key="features/users/part-0001.parquet")),
        ("aiobotocore_signature", "auth", "aiobotocore131", "ClientError",
         call("get_object", Keys(lab.admin.key, lab.admin.secret[:-4] + "abcd"), **orders)),
        ("aiobotocore_read_timeout", "network", "aiobotocore131", "ReadTimeoutError|ConnectTimeoutError",
         call("get_object", endpoint=f"http://127.0.0.1:{env.hang_port}", **orders)),
        ("aiobotocore_internal_error", "service", "aiobotocore131", "ClientError",
         call("head_object", endpoint=lab.err500, **orders)),
        ("aiobotocore_bad_bucket", "validation", "aiobotocore131", "ParamValidationError",
         call("get_object", Bucket="ml_feature_store/features", Key="users/part-0000.parquet")),
        ("aiobotocore_forgot_await", "programming", "aiobotocore131", "TypeError", forgot_await),
    ]


def blind131_records(env: Env) -> list[Record]:
    lab = prepare_lab(env)
    cases: list[PyCase] = []
    for make in (_s3fs_cases, _fsspec_cases, _smart_open_cases, _obstore_cases, _aiobotocore_cases):
        cases += make(env, lab)
    return python_records(cases)


if __name__ == "__main__":
    write_batch(blind131_records)


__all__ = ["BLIND131_SOURCES", "blind131_records"]
