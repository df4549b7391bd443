"""Resilience policies (stdlib only): backoff, retry, circuit breakers, timeout, bulkhead,
rate limiter, fallback, and the pipeline that composes them."""
