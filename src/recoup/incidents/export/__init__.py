"""recoup's rules for the Prometheus stack: `promql` (a rule as PromQL), `prometheus_rules` (a rule file),
`promtool_tests` (unit tests for ``promtool test rules``), `alertmanager_config` (routes every alert to
recoup's webhook and on to the channels) and `grafana` (a dashboard). ``recoup export ...`` writes them."""
