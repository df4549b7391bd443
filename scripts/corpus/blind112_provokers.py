"""Hundred-and-twelfth batch of blind provokers: Python clients of search engines and vector databases, each failing
against a loopback fake that answers in the product's own error format (blind112_support), or against the common
misbehaving ports. meilisearch (a refused port, an invalid API key, a filter on a non-filterable attribute, a full
disk in Meilisearch's words, an nginx 502 in front of it, search options passed as a string); typesense (a read
timeout, a rejected API key, a document field of the wrong type, a write rejected for lack of disk, a lagging node,
search parameters passed as a string); qdrant-client in REST mode (a refused port, an invalid API key, a vector of
the wrong dimension, a strict-mode rate limit, a full disk, a 503 from the load balancer, points passed as a dict);
weaviate-client v4 (a hanging node, anonymous access refused, a missing permission, an unknown property, a 503 from
the proxy, properties passed as a string); pysolr (a refused port, Jetty's 401 page, an undefined field, no shard
leader, a full disk); algoliasearch v4 (a refused host, an invalid API key, a rate limit, a malformed filter)."""

from __future__ import annotations

from typing import Any

from blind112_support import jetty_page, reply, serve, solr_error
from checked import PyCase, python_records
from common import Env, Record, write_batch

BLIND112_SOURCES = frozenset({"meilisearch112", "typesense112", "qdrant112", "weaviate112", "pysolr112",
                              "algolia112"})

NGINX_502 = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
             b"</center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n")
NGINX_503 = (b"<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n<center><h1>"
             b"503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n"
             b"</html>\r\n")


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _meili(code: str, message: str, kind: str) -> dict[str, str]:
    return {"message": message, "code": code, "type": kind, "link": f"https://docs.meilisearch.com/errors#{code}"}


def _meilisearch_cases(env: Env) -> list[PyCase]:
    import meilisearch

    key = "9f3c1a7e5b2d4c8a0e6f1b3d5a7c9e2f4b6d8a0c"

    def client(url: str) -> Any:
        return meilisearch.Client(url, key, timeout=3)

    bad_key = serve(env, reply(403, _meili("invalid_api_key", "The provided API key is invalid.", "auth")))
    bad_filter = serve(env, reply(400, _meili(
        "invalid_search_filter", "Attribute `brand` is not filterable. Available filterable attributes are: "
        "`category`, `in_stock`, `price`.\n1:6 brand = \"Acme Outdoor\"", "invalid_request")))
    no_space = serve(env, reply(422, _meili("no_space_left_on_device", "No space left on device (os error 28)",
                                            "system")))
    gateway = serve(env, reply(502, NGINX_502, "text/html"))
    docs = [{"id": "sku-88213", "title": "Trail runner GTX", "brand": "Acme Outdoor", "price": 129.0},
            {"id": "sku-88214", "title": "Trail runner GTX wide", "brand": "Acme Outdoor", "price": 134.0}]

    def search_options_string() -> None:
        client(bad_filter).index("products").search("trail runner", "limit=20&offset=40")

    return [
        ("meili_refused", "network", "meilisearch112", "MeilisearchCommunicationError",
         lambda: client(f"http://127.0.0.1:{env.closed_port}").index("products").search("trail runner")),
        ("meili_invalid_api_key", "auth", "meilisearch112", "MeilisearchApiError",
         lambda: client(bad_key).index("products").search("trail runner")),
        ("meili_filter_not_filterable", "validation", "meilisearch112", "MeilisearchApiError",
         lambda: client(bad_filter).index("products").search("trail", {"filter": 'brand = "Acme Outdoor"'})),
        ("meili_no_space_left", "resource", "meilisearch112", "MeilisearchApiError",
         lambda: client(no_space).index("products").add_documents(docs, primary_key="id")),
        ("meili_nginx_502", "service", "meilisearch112", "MeilisearchApiError",
         lambda: client(gateway).index("support_articles").search("reset password")),
        ("meili_search_options_str", "programming", "meilisearch112", "TypeError", search_options_string),
    ]


def _typesense_cases(env: Env) -> list[PyCase]:
    import typesense

    def client(url: str, api_key: str = "ts-search-only-4f1e9b2c7d") -> Any:
        return typesense.Client({"nodes": [{"host": "127.0.0.1", "port": str(_port(url)), "protocol": "http"}],
                                 "api_key": api_key, "connection_timeout_seconds": 2, "num_retries": 1,
                                 "retry_interval_seconds": 0.1})

    unauthorized = serve(env, reply(401, {"message": "Forbidden - a valid `x-typesense-api-key` header must be sent."}))
    bad_field = serve(env, reply(400, {"message": "Field `price` must be an int32."}))
    out_of_disk = serve(env, reply(422, {"message": "Rejecting write: running out of resource type: OUT_OF_DISK"}))
    lagging = serve(env, reply(503, {"message": "Not Ready or Lagging"}))
    query = {"q": "usb-c dock", "query_by": "title,description", "filter_by": "in_stock:true"}
    doc = {"id": "sku-30071", "title": "USB-C dock 12-in-1", "price": "89.90", "in_stock": True}

    def search_with_string() -> None:
        client(lagging).collections["products"].documents.search("usb-c dock")

    return [
        ("typesense_read_timeout", "network", "typesense112", "ReadTimeout|TimeoutException",
         lambda: client(f"http://127.0.0.1:{env.hang_port}").collections["products"].documents.search(query)),
        ("typesense_missing_api_key", "auth", "typesense112", "RequestUnauthorized",
         lambda: client(unauthorized, "ts-admin-rotated-2026-10").collections["products"].documents.search(query)),
        ("typesense_field_type", "validation", "typesense112", "RequestMalformed",
         lambda: client(bad_field).collections["products"].documents.create(doc)),
        ("typesense_out_of_disk", "resource", "typesense112", "ObjectUnprocessable",
         lambda: client(out_of_disk).collections["products"].documents.upsert(doc)),
        ("typesense_not_ready", "service", "typesense112", "ServiceUnavailable",
         lambda: client(lagging).collections["products"].documents.search(query)),
        ("typesense_search_str", "programming", "typesense112", "AttributeError|TypeError", search_with_string),
    ]


def _qdrant_status(message: str) -> dict[str, Any]:
    return {"status": {"error": message}, "time": 0.000412}


def _qdrant_cases(env: Env) -> list[PyCase]:
    from qdrant_client import QdrantClient, models

    def client(url: str, api_key: str | None = None) -> Any:
        return QdrantClient(url=url, api_key=api_key, timeout=3, check_compatibility=False, prefer_grpc=False)

    bad_key = serve(env, reply(401, "Invalid API key or JWT", "text/plain; charset=utf-8"))
    wrong_dim = serve(env, reply(400, _qdrant_status("Wrong input: Vector dimension error: expected dim: 384, "
                                                     "got 512")))
    rate_limited = serve(env, reply(429, _qdrant_status(
        "Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens but only 0 were available. "
        "Retry after 1s"), Retry_After="1"))
    no_space = serve(env, reply(500, _qdrant_status(
        "Service internal error: No space left on device (os error 28) while writing "
        "/qdrant/storage/collections/product_embeddings/0/wal/open-17")))
    unavailable = serve(env, reply(503, NGINX_503, "text/html"))
    point = models.PointStruct(id=88213, vector=[0.01] * 512, payload={"sku": "sku-88213", "lang": "en"})
    probe = [0.02] * 384

    def points_as_dict() -> None:
        client(wrong_dim).upsert("product_embeddings", points={"id": 88213, "vector": [0.01] * 384})

    return [
        ("qdrant_refused", "network", "qdrant112", "ResponseHandlingException",
         lambda: client(f"http://127.0.0.1:{env.closed_port}").query_points("product_embeddings", query=probe)),
        ("qdrant_invalid_api_key", "auth", "qdrant112", "UnexpectedResponse",
         lambda: client(bad_key, "qd-2b7e9c41f0a3").query_points("product_embeddings", query=probe, limit=10)),
        ("qdrant_vector_dimension", "validation", "qdrant112", "UnexpectedResponse",
         lambda: client(wrong_dim).upsert("product_embeddings", points=[point])),
        ("qdrant_rate_limited", "resource", "qdrant112", "ResourceExhaustedResponse|UnexpectedResponse",
         lambda: client(rate_limited).upsert("product_embeddings", points=[point])),
        ("qdrant_no_space", "resource", "qdrant112", "UnexpectedResponse",
         lambda: client(no_space).upsert("product_embeddings", points=[point])),
        ("qdrant_lb_503", "service", "qdrant112", "UnexpectedResponse",
         lambda: client(unavailable).query_points("product_embeddings", query=probe, limit=10)),
        ("qdrant_points_dict", "programming", "qdrant112", "KeyError|TypeError|AttributeError", points_as_dict),
    ]


def _weaviate_cases(env: Env) -> list[PyCase]:
    import weaviate
    from weaviate.classes.init import AdditionalConfig, Timeout

    meta = {"/v1/meta": reply(200, {"hostname": "http://[::]:8080", "modules": {}, "version": "1.30.4"})}

    def connect(url: str) -> Any:
        port = _port(url)
        return weaviate.connect_to_custom(http_host="127.0.0.1", http_port=port, http_secure=False,
                                          grpc_host="127.0.0.1", grpc_port=port + 1, grpc_secure=False,
                                          skip_init_checks=True,
                                          additional_config=AdditionalConfig(timeout=Timeout(init=2, query=3,
                                                                                             insert=3)))

    def insert(url: str, properties: Any) -> Any:
        def fn() -> None:
            client = connect(url)
            try:
                client.collections.get("Article").data.insert(properties)
            finally:
                client.close()
        return fn

    anonymous = serve(env, reply(401, {"code": 401, "message": "anonymous access not enabled, please provide an "
                                                               "auth scheme such as OIDC"}))
    forbidden = serve(env, reply(403, {"error": [{"message": "authorization, forbidden action: user 'ingest-bot' has "
                                                             "insufficient permissions to create_data [Domain: data, "
                                                             "Collection: Article]"}]}), meta)
    no_prop = serve(env, reply(422, {"error": [{"message": "invalid object: no such prop with name 'autor' found in "
                                                           "class 'Article' in the schema. Check your schema files "
                                                           "for which properties in this class are available"}]}),
                    meta)
    proxy_503 = serve(env, reply(503, NGINX_503, "text/html"))
    article = {"title": "Q3 earnings call: guidance raised", "autor": "Newsroom", "published": "2026-10-28T09:00:00Z"}
    return [
        ("weaviate_init_timeout", "network", "weaviate112", "WeaviateTimeoutError|WeaviateConnectionError",
         lambda: connect(f"http://127.0.0.1:{env.hang_port}")),
        ("weaviate_anonymous_401", "auth", "weaviate112", "UnexpectedStatusCodeError", lambda: connect(anonymous)),
        ("weaviate_forbidden_insert", "auth", "weaviate112", "InsufficientPermissionsError",
         insert(forbidden, {"title": "Q3 earnings call", "published": "2026-10-28T09:00:00Z"})),
        ("weaviate_unknown_property", "validation", "weaviate112", "UnexpectedStatusCodeError",
         insert(no_prop, article)),
        ("weaviate_proxy_503", "service", "weaviate112", "UnexpectedStatusCodeError|WeaviateStartUpError",
         lambda: connect(proxy_503)),
        ("weaviate_properties_str", "programming", "weaviate112", "WeaviateInvalidInputError|TypeError",
         insert(no_prop, "title=Q3 earnings call")),
    ]


def _pysolr_cases(env: Env) -> list[PyCase]:
    import pysolr

    def core(url: str) -> Any:
        return pysolr.Solr(f"{url}/solr/products", timeout=3, always_commit=True)

    unauth = serve(env, reply(401, jetty_page(401, "Unauthorized", "/solr/products/select", "require authentication"),
                              "text/html;charset=iso-8859-1", WWW_Authenticate='Basic realm="solr"'))
    undefined = serve(env, reply(400, solr_error(400, "undefined field category_s")))
    no_leader = serve(env, reply(503, solr_error(503, "No registered leader was found after waiting for 4000ms , "
                                                      "collection: products slice: shard1 saw state=null with "
                                                      "live_nodes=[solr-2.search.internal:8983_solr]")))
    no_space = serve(env, reply(500, solr_error(500, "java.io.IOException: No space left on device",
                                                "java.io.IOException")))
    docs = [{"id": "sku-88213", "title_t": "Trail runner GTX", "price_f": 129.0, "category_s": "footwear"}]
    return [
        ("pysolr_refused", "network", "pysolr112", "SolrError",
         lambda: core(f"http://127.0.0.1:{env.closed_port}").search("title_t:trail")),
        ("pysolr_401_jetty", "auth", "pysolr112", "SolrError", lambda: core(unauth).search("title_t:trail")),
        ("pysolr_undefined_field", "validation", "pysolr112", "SolrError",
         lambda: core(undefined).search("*:*", fq="category_s:footwear", rows=20)),
        ("pysolr_no_leader", "service", "pysolr112", "SolrError", lambda: core(no_leader).add(docs)),
        ("pysolr_no_space", "resource", "pysolr112", "SolrError", lambda: core(no_space).add(docs)),
    ]


def _algolia_cases(env: Env) -> list[PyCase]:
    from algoliasearch.http.hosts import Host, HostsCollection
    from algoliasearch.search.client import SearchClientSync
    from algoliasearch.search.config import SearchConfig

    def client(url: str) -> Any:
        config = SearchConfig("LATENCY7Q2", "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5")
        config.hosts = HostsCollection([Host("127.0.0.1", scheme="http", port=_port(url))])
        config.connect_timeout, config.read_timeout, config.write_timeout = 1000, 2000, 2000
        return SearchClientSync.create_with_config(config)

    bad_key = serve(env, reply(403, {"message": "Invalid Application-ID or API key", "status": 403}))
    throttled = serve(env, reply(429, {"message": "Too many requests", "status": 429}, Retry_After="1"))
    bad_filter = serve(env, reply(400, {"message": "filters: Unexpected token string(Outdoor) expected end of filter "
                                                   "at col 20", "status": 400}))
    query = {"query": "trail runner", "hitsPerPage": 20}
    return [
        ("algolia_refused", "network", "algolia112", "ConnectionError|AlgoliaUnreachableHostException",
         lambda: client(f"http://127.0.0.1:{env.closed_port}").search_single_index("prod_products", query)),
        ("algolia_invalid_key", "auth", "algolia112", "RequestException",
         lambda: client(bad_key).search_single_index("prod_products", query)),
        ("algolia_rate_limited", "resource", "algolia112", "RequestException",
         lambda: client(throttled).search_single_index("prod_products", query)),
        ("algolia_bad_filter", "validation", "algolia112", "RequestException",
         lambda: client(bad_filter).search_single_index(
             "prod_products", {"query": "trail", "filters": "brand:Acme Outdoor AND"})),
    ]


def blind112_records(env: Env) -> list[Record]:
    cases: list[PyCase] = []
    for make in (_meilisearch_cases, _typesense_cases, _qdrant_cases, _weaviate_cases, _pysolr_cases,
                 _algolia_cases):
        cases += make(env)
    return python_records(cases)


if __name__ == "__main__":
    write_batch(blind112_records)


__all__ = ["BLIND112_SOURCES", "blind112_records"]
