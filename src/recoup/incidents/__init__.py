"""Incident response: alert rules evaluated on the event stream, the alert lifecycle, routing (grouping,
inhibition, silences, acknowledgement), incidents with escalation and RTO/SLA tracking, notifications,
post-mortems, and exports of the same rules for Prometheus, Alertmanager and Grafana.

Module map (each has one job):

- `model`       shared value types: severities, alert states, label matchers, alerts, notices
- `catalogue`   the metrics rules may watch, and the Prometheus series recoup exports for each
- `signals`     telemetry event (wire dict) -> metric observations
- `rules`       the YAML rule format: parsing and validation
- `windows`, `evaluator`   rolling windows and the in-process, event-driven rule evaluation
- `routing`, `silences`    grouping, inhibition, silences, acknowledgement
- `incidents`, `escalation`, `oncall`, `sla`, `postmortem`
- `notify/`     channels and the durable delivery queue
- `export/`     Prometheus rules, Alertmanager config, Grafana dashboard

Nothing here is imported by ``import recoup``; the package needs the ``server`` extra (pydantic, PyYAML).
"""
