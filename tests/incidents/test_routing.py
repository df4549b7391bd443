"""Routing: the routing-tree config, grouping and its timers (group_wait, group_interval, repeat_interval),
nested routes with ``continue``, inhibition, silences, acknowledgement and resolved notices. Driven by
hand-made `AlertTransition`s and a fake clock; notices land in a collecting sink."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from recoup.incidents.model import (
    Alert,
    AlertState,
    AlertTransition,
    Notice,
    NoticeKind,
    Severity,
    labels_fingerprint,
)
from recoup.incidents.routing import Router, UnknownAlertOrGroup, dedup_key_of, group_key
from recoup.incidents.routing_config import (
    Routing,
    RoutingError,
    default_routing,
    loads_routing,
    parse_routing,
)
from recoup.incidents.silences import InMemorySilenceStore
from recoup.testing import FakeClock


class Sink:
    """Collects what routing hands over, like the delivery queue; can be told to refuse."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notice, list[str]]] = []
        self.refuse = False

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        if self.refuse:
            raise ConnectionError("queue unavailable")
        self.sent.append((notice, list(receivers)))

    def to(self, receiver: str) -> list[Notice]:
        return [n for n, r in self.sent if receiver in r]


def make_alert(
    name: str = "HighErrorRate",
    *,
    service: str = "api",
    project: str = "checkout",
    severity: Severity = Severity.WARNING,
    state: AlertState = AlertState.FIRING,
    fired_at: float | None = None,
    **labels: str,
) -> Alert:
    identity = {"alertname": name, "project": project, "service": service, **labels}
    return Alert(
        fingerprint=labels_fingerprint(identity),
        rule=name,
        labels={**identity, "severity": severity.value},
        annotations={"summary": f"{name} on {service}", "runbook": f"docs/runbooks/{name}.md"},
        severity=severity,
        state=state,
        value=0.5,
        active_at=0.0,
        fired_at=fired_at,
    )


def fire(alert: Alert, at: float, previous_severity: Severity | None = None) -> AlertTransition:
    firing = alert.evolve(state=AlertState.FIRING, fired_at=alert.fired_at if alert.fired_at is not None else at)
    previous = AlertState.PENDING if previous_severity is None else AlertState.FIRING
    return AlertTransition(firing, previous, at, previous_severity)


def resolve(alert: Alert, at: float) -> AlertTransition:
    return AlertTransition(alert.evolve(state=AlertState.RESOLVED, resolved_at=at), AlertState.FIRING, at)


SIMPLE = """
receivers: [team, oncall]
route:
  receiver: team
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
"""

INHIBIT = SIMPLE + """
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [project, service]
"""


class Setup:
    def __init__(self, config: Routing) -> None:
        self.clock = FakeClock()
        self.sink = Sink()
        self.silences = InMemorySilenceStore(clock=self.clock.monotonic)
        self.router = Router(config, clock=self.clock.monotonic, silences=self.silences, sink=self.sink)

    def at(self, t: float) -> list[Notice]:
        """Move the clock to ``t`` and tick."""
        self.clock.advance(t - self.clock.monotonic())
        return self.router.tick()

    def send(self, *transitions: AlertTransition) -> None:
        self.router.on_transitions(transitions)


def setup(text: str = SIMPLE) -> Setup:
    return Setup(loads_routing(text))


def fingerprints(notice: Notice) -> list[str]:
    return sorted(str(a["fingerprint"]) for a in notice.alerts)


# -- config -----------------------------------------------------------------------------------------------


def test_default_routing_sends_everything_to_default_and_critical_also_to_oncall() -> None:
    routing = default_routing()
    assert set(routing.receivers) == {"default", "oncall"}
    crit = [r.receiver for r in routing.route.match({"severity": "critical", "alertname": "X"})]
    warn = [r.receiver for r in routing.route.match({"severity": "warning", "alertname": "X"})]
    assert crit == ["oncall", "default"]
    assert warn == ["default"]
    assert routing.route.group_by == ("alertname", "project", "service")
    (rule,) = routing.inhibit_rules
    assert rule.equal == ("project", "service", "incident_type")
    assert [str(m) for m in rule.source] == ['severity="critical"']


def test_children_inherit_unset_values_and_the_root_gets_alertmanager_defaults() -> None:
    routing = loads_routing("""
receivers: [a, b]
route:
  receiver: a
  routes:
    - matchers: [team=db]
      group_wait: 1s
      routes:
        - matchers: ['severity=~"crit.*"']
          receiver: b
""")
    root = routing.route
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (30.0, 300.0, 14400.0)
    child = root.routes[0]
    grandchild = child.routes[0]
    assert (child.receiver, child.group_wait, child.group_interval) == ("a", 1.0, 300.0)
    assert (grandchild.receiver, grandchild.group_wait, grandchild.repeat_interval) == ("b", 1.0, 14400.0)
    assert grandchild.where == "route.routes[0].routes[0]"
    assert len({root.id, child.id, grandchild.id}) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("receivers: [a]\nroute: {receiver: b}", "route.receiver: unknown receiver 'b'; known: a"),
        ("receivers: [a]\nroute: {receiver: a, routes: [{receiver: x}]}", "route.routes[0].receiver: unknown"),
        ("receivers: [a]\nroute: {receiver: a, routes: [{group_wait: soon}]}", "route.routes[0].group_wait: expected"),
        ("receivers: [a]\nroute: {receiver: a, routes: [{matchers: ['x=~(']}]}", "route.routes[0].matchers: matcher"),
        ("receivers: [a]\nroute: {receiver: a, routes: [{matchers: ['x']}]}", "not a label matcher"),
        ("receivers: [a]\nroute: {receiver: a, colour: red}", "route.colour: Extra inputs are not permitted"),
        ("receivers: [a]\nroute: {receiver: a, matchers: [x=y]}", "route.matchers: the root route"),
        ("receivers: [a]\nroute: {}", "route.receiver: the root route needs a receiver"),
        ("receivers: [a]\nroute: {receiver: a, group_interval: 1h, repeat_interval: 5m}", "route.repeat_interval"),
        ("receivers: [a]\nroute: {receiver: a, group_interval: 0s}", "route.group_interval: must be longer"),
        ("receivers: [a, a]\nroute: {receiver: a}", "receivers: receiver 'a' is listed twice"),
        ("receivers: [a]\nroute: {receiver: a, group_by: [x, '...']}", "route.group_by:"),
        ("route: {receiver: a}", "receivers: no receivers are defined"),
        ("receivers: [a]\nroute: {receiver: a}\ninhibit_rules: [{target_matchers: [a=b]}]",
         "inhibit_rules[0].source_matchers: Field required"),
        ("receivers: [a]\nroute: {receiver: a}\ninhibit_rules: [{source_matchers: [a=b], target_matchers: [c=d], "
         "equal: ['not a label']}]", "inhibit_rules[0].equal:"),
        ("[1, 2]", "expected a mapping with a 'route'"),
        ("route: [", "not valid YAML"),
    ],
)
def test_config_errors_name_the_field(text: str, expected: str) -> None:
    with pytest.raises(RoutingError) as info:
        loads_routing(text, source="routing.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("routing.yaml")


def test_receivers_may_come_from_the_channel_configuration() -> None:
    data: dict[str, Any] = {"route": {"receiver": "ops", "routes": [{"receiver": "pager", "matchers": ["a=b"]}]}}
    routing = parse_routing(data, receivers=["ops", "pager"])
    assert routing.receivers == ("ops", "pager")
    with pytest.raises(RoutingError, match=r"route.routes\[0\].receiver: unknown receiver 'pager'; known: ops"):
        parse_routing(data, receivers=["ops"])


# -- grouping and timers -----------------------------------------------------------------------------------


def test_a_new_group_waits_group_wait_then_notifies_every_firing_alert() -> None:
    s = setup()
    a = make_alert(instance="1")
    b = make_alert(instance="2")
    s.send(fire(a, 0.0))
    assert s.router.next_due() == 30.0
    s.at(10.0)
    s.send(fire(b, 10.0))  # joins the same group (same alertname and service): no wait of its own
    assert s.router.next_due() == 30.0
    assert s.at(29.9) == []
    (notice,) = s.at(30.0)
    assert notice.kind is NoticeKind.FIRING
    assert notice.title == "[FIRING:2] HighErrorRate api"
    assert fingerprints(notice) == sorted([a.fingerprint, b.fingerprint])
    assert notice.labels == {"alertname": "HighErrorRate", "service": "api"}
    assert notice.dedup_key == dedup_key_of(group_key(s.router.config.route, a.labels))
    assert notice.severity is Severity.WARNING
    assert notice.created_at == 30.0
    assert "HighErrorRate on api" in notice.text and "runbook: docs/runbooks/HighErrorRate.md" in notice.text
    assert s.sink.sent == [(notice, ["team"])]
    assert notice.alerts[0]["state"] == "firing"


def test_alerts_with_different_group_labels_form_separate_groups() -> None:
    s = setup()
    s.send(fire(make_alert(service="api"), 0.0), fire(make_alert(service="web"), 0.0),
           fire(make_alert("Slow", service="api"), 0.0))
    notices = s.at(30.0)
    assert sorted(n.title for n in notices) == [
        "[FIRING:1] HighErrorRate api", "[FIRING:1] HighErrorRate web", "[FIRING:1] Slow api",
    ]
    assert len({n.dedup_key for n in notices}) == 3


def test_group_by_all_labels_gives_each_alert_its_own_group() -> None:
    s = setup(SIMPLE.replace("[alertname, service]", "['...']"))
    s.send(fire(make_alert(instance="1"), 0.0), fire(make_alert(instance="2"), 0.0))
    assert len(s.at(30.0)) == 2


def test_changes_wait_group_interval_after_the_last_flush() -> None:
    s = setup()
    a, b = make_alert(instance="1"), make_alert(instance="2")
    s.send(fire(a, 0.0))
    first = s.at(30.0)
    s.at(100.0)
    s.send(fire(b, 100.0))
    assert s.router.next_due() == 330.0  # last flush at 30 + group_interval 300
    assert s.at(329.0) == []
    (second,) = s.at(330.0)
    assert second.title == "[FIRING:2] HighErrorRate api"
    assert second.dedup_key == first[0].dedup_key
    assert second.key != first[0].key


def test_an_unchanged_group_repeats_every_repeat_interval() -> None:
    s = setup()
    s.send(fire(make_alert(), 0.0))
    s.at(30.0)
    assert s.router.next_due() == 30.0 + 4 * 3600
    assert s.at(30.0 + 4 * 3600 - 1) == []
    (repeat,) = s.at(30.0 + 4 * 3600)
    assert repeat.kind is NoticeKind.FIRING
    assert s.router.next_due() == 30.0 + 8 * 3600
    assert len({n.key for n, _ in s.sink.sent}) == 2


def test_resolution_sends_resolved_then_drops_the_group() -> None:
    s = setup()
    a, b = make_alert(instance="1"), make_alert(instance="2")
    s.send(fire(a, 0.0), fire(b, 0.0))
    s.at(30.0)
    s.at(60.0)
    s.send(resolve(a, 60.0))
    (partial,) = s.at(330.0)
    assert partial.kind is NoticeKind.FIRING and partial.title == "[FIRING:1] HighErrorRate api"
    states = {str(x["fingerprint"]): x["state"] for x in partial.alerts}
    assert states == {a.fingerprint: "resolved", b.fingerprint: "firing"}
    s.send(resolve(b, 400.0))
    (done,) = s.at(630.0)
    assert done.kind is NoticeKind.RESOLVED
    assert done.title == "[RESOLVED] HighErrorRate api"
    assert fingerprints(done) == [b.fingerprint]
    assert s.router.next_due() is None
    assert s.router.status()["groups"] == []


def test_an_alert_resolved_before_group_wait_is_never_notified() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.send(resolve(a, 5.0))
    assert s.at(30.0) == []
    assert s.router.next_due() is None
    assert s.sink.sent == []


def test_an_alert_that_fired_long_ago_does_not_wait_group_wait_again() -> None:
    s = setup()
    s.at(1000.0)
    s.send(fire(make_alert(fired_at=10.0), 1000.0))  # replayed after a restart
    assert s.router.next_due() == 40.0
    assert len(s.at(1000.0)) == 1


def test_severity_escalation_is_a_change() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    s.send(fire(make_alert(severity=Severity.CRITICAL, fired_at=0.0), 50.0, previous_severity=Severity.WARNING))
    (notice,) = s.at(330.0)
    assert notice.severity is Severity.CRITICAL
    assert notice.alerts[0]["severity"] == "critical"


def test_nested_routes_first_match_wins_unless_continue() -> None:
    s = setup("""
receivers: [default, db, oncall, api-warnings]
route:
  receiver: default
  group_by: [alertname]
  group_wait: 10s
  routes:
    - matchers: [team=db]
      receiver: db
      continue: true
    - matchers: ['severity="critical"']
      receiver: oncall
      group_wait: 0s
    - matchers: ['service=~"api|gateway"']
      group_wait: 20s
      routes:
        - matchers: ['severity="warning"']
          receiver: api-warnings
""")
    route = s.router.config.route
    assert [r.receiver for r in route.match({"team": "db", "severity": "critical"})] == ["db", "oncall"]
    assert [r.receiver for r in route.match({"severity": "critical", "service": "api"})] == ["oncall"]
    assert [r.receiver for r in route.match({"severity": "warning", "service": "gateway"})] == ["api-warnings"]
    assert [r.receiver for r in route.match({"severity": "info", "service": "api"})] == ["default"]
    assert [r.receiver for r in route.match({"severity": "warning", "service": "web"})] == ["default"]

    s.send(
        fire(make_alert("Db", severity=Severity.CRITICAL, team="db"), 0.0),
        fire(make_alert("Warn", service="gateway"), 0.0),
        fire(make_alert("Other", service="web"), 0.0),
    )
    assert [n.title for n in s.at(0.0)] == ["[FIRING:1] Db"]  # group_wait 0: the page leaves at once
    assert s.sink.to("oncall")[0].title == "[FIRING:1] Db"
    assert [n.title for n in s.at(10.0)] == ["[FIRING:1] Db", "[FIRING:1] Other"]
    assert [r for _, r in s.sink.sent[1:]] == [["db"], ["default"]]
    assert [n.title for n in s.at(20.0)] == ["[FIRING:1] Warn"]  # inherited group_wait 20s
    assert s.sink.to("api-warnings")[0].title == "[FIRING:1] Warn"


def test_an_alert_whose_labels_move_it_to_another_route_resolves_its_old_group() -> None:
    s = setup(SIMPLE.replace("  repeat_interval: 4h", """  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: oncall
      group_by: [alertname, service, severity]"""))
    s.send(fire(make_alert(severity=Severity.CRITICAL), 0.0))
    (page,) = s.at(30.0)
    assert s.sink.sent[0][1] == ["oncall"]
    s.send(fire(make_alert(severity=Severity.WARNING, fired_at=0.0), 40.0))  # no longer critical
    notices = s.at(330.0)
    kinds = {tuple(r): n.kind for n, r in s.sink.sent[1:]}
    assert kinds == {("oncall",): NoticeKind.RESOLVED, ("team",): NoticeKind.FIRING}
    assert [n.dedup_key for n in notices if n.kind is NoticeKind.RESOLVED] == [page.dedup_key]


# -- inhibition ------------------------------------------------------------------------------------------


def test_critical_inhibits_warning_with_equal_labels_only() -> None:
    s = setup(INHIBIT)
    crit = make_alert("Down", severity=Severity.CRITICAL)
    warn = make_alert("Slow", severity=Severity.WARNING)
    other = make_alert("Slow", service="web", severity=Severity.WARNING)
    s.send(fire(crit, 0.0), fire(warn, 0.0), fire(other, 0.0))
    notices = s.at(30.0)
    assert sorted(n.title for n in notices) == ["[FIRING:1] Down api", "[FIRING:1] Slow web"]
    status = {a["fingerprint"]: a for a in s.router.status()["alerts"]}
    assert status[warn.fingerprint]["inhibited_by"] == [crit.fingerprint]
    assert status[warn.fingerprint]["muted_by"] == ["inhibited"]
    assert status[other.fingerprint]["inhibited_by"] == []
    assert status[crit.fingerprint]["muted_by"] == []

    # The critical resolves: the warning is no longer inhibited and is told at the next group_interval.
    s.send(resolve(crit, 60.0))
    assert s.router.next_due() == 330.0
    notices = s.at(330.0)
    assert sorted(n.title for n in notices) == ["[FIRING:1] Slow api", "[RESOLVED] Down api"]


def test_an_alert_matching_both_sides_cannot_be_inhibited_by_another_that_does() -> None:
    s = setup(SIMPLE + """
inhibit_rules:
  - source_matchers: ['alertname=~"Down|Slow"']
    target_matchers: ['alertname=~"Slow|Other"']
    equal: [service]
""")
    down = make_alert("Down")
    slow = make_alert("Slow", instance="1")
    slow2 = make_alert("Slow", instance="2")
    other = make_alert("Other")
    s.send(fire(down, 0.0), fire(slow, 0.0), fire(slow2, 0.0), fire(other, 0.0))
    status = {a["fingerprint"]: a for a in s.router.status(now=0.0)["alerts"]}
    # The Slow alerts match both sides: only `down` (source side only) inhibits them, not each other (else
    # they would mute each other and nobody would hear); `other` is inhibited by all three.
    assert status[slow.fingerprint]["inhibited_by"] == [down.fingerprint]
    assert status[slow2.fingerprint]["inhibited_by"] == [down.fingerprint]
    assert status[other.fingerprint]["inhibited_by"] == sorted([down.fingerprint, slow.fingerprint,
                                                                slow2.fingerprint])
    assert status[down.fingerprint]["inhibited_by"] == []


# -- silences --------------------------------------------------------------------------------------------


def test_a_silenced_alert_is_not_notified_but_stays_visible() -> None:
    s = setup()
    silence = s.silences.create(['service=~"ap.*"'], ends_at=1000.0, created_by="alice", comment="deploy")
    a = make_alert(service="api")
    b = make_alert(service="web")
    s.send(fire(a, 0.0), fire(b, 0.0))
    notices = s.at(30.0)
    assert [n.title for n in notices] == ["[FIRING:1] HighErrorRate web"]
    (group,) = [g for g in s.router.status()["groups"] if g["labels"]["service"] == "api"]
    assert group["alerts"][0]["silenced_by"] == [silence.id]
    assert group["alerts"][0]["muted_by"] == ["silenced"]
    assert group["notifications_sent"] == 0


def test_alerts_are_notified_once_their_silence_ends() -> None:
    s = setup()
    silence = s.silences.create(["service=api"], ends_at=500.0, created_by="alice")
    s.send(fire(make_alert(), 0.0))
    assert s.at(30.0) == []
    assert s.router.next_due() == 330.0  # muted alerts are looked at again every group_interval
    assert s.at(330.0) == []  # still silenced
    (notice,) = s.at(630.0)  # expired at 500
    assert notice.title == "[FIRING:1] HighErrorRate api"
    assert s.silences.get(silence.id) is not None


def test_expiring_a_silence_early_lets_notifications_through() -> None:
    s = setup()
    silence = s.silences.create(["service=api"], ends_at=10_000.0, created_by="alice")
    s.send(fire(make_alert(), 0.0))
    assert s.at(30.0) == []
    s.at(100.0)
    s.silences.expire(silence.id)
    assert len(s.at(330.0)) == 1


def test_a_notified_alert_that_gets_silenced_stops_repeating_but_its_resolution_is_told() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    s.silences.create(["alertname=HighErrorRate"], ends_at=100_000.0, created_by="bob")
    assert s.at(30.0 + 4 * 3600) == []  # no repeat while silenced
    s.send(resolve(a, 20_000.0))
    (done,) = s.at(21_000.0)
    assert done.kind is NoticeKind.RESOLVED


def test_a_silenced_alert_stays_told_through_later_notices_so_its_resolution_is_told() -> None:
    s = setup()
    a, b, c = make_alert(instance="1"), make_alert(instance="2"), make_alert(instance="3")
    s.send(fire(a, 0.0), fire(b, 0.0))
    s.at(30.0)
    s.silences.create(["instance=1"], ends_at=100_000.0, created_by="bob")
    s.send(fire(c, 100.0))
    (update,) = s.at(330.0)
    assert fingerprints(update) == sorted([b.fingerprint, c.fingerprint])
    s.send(resolve(a, 400.0))
    (told,) = s.at(630.0)
    assert {str(x["fingerprint"]): x["state"] for x in told.alerts}[a.fingerprint] == "resolved"


# -- acknowledgement -------------------------------------------------------------------------------------


def test_acknowledging_an_alert_stops_repeats_and_escalation_renotifies() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    assert s.router.acknowledge(a.fingerprint, "alice") == [a.fingerprint]
    assert s.router.acknowledge(a.fingerprint, "bob") == []  # the first acknowledgement stands
    (ack,) = s.router.acknowledgements()
    assert (ack.by, ack.at) == ("alice", 30.0)
    status = s.router.status()["alerts"][0]
    assert status["acknowledged_by"] == "alice" and status["muted_by"] == ["acknowledged"]
    assert s.at(30.0 + 4 * 3600) == []
    assert s.router.next_due() is None

    # Re-evaluations that do not change severity keep the acknowledgement.
    s.send(fire(make_alert(fired_at=0.0), 15_000.0))
    assert s.router.acknowledgements() != []
    s.send(fire(make_alert(severity=Severity.CRITICAL, fired_at=0.0), 15_100.0, previous_severity=Severity.WARNING))
    assert s.router.acknowledgements() == []
    (again,) = s.at(15_100.0 + 300)
    assert again.severity is Severity.CRITICAL
    assert again.alerts[0]["acknowledged_by"] is None
    assert s.router.next_due() == 15_400.0 + 4 * 3600  # unacknowledged: repeats again


def test_acknowledging_a_group_covers_its_firing_alerts_and_is_reported_in_notices() -> None:
    s = setup()
    a, b = make_alert(instance="1"), make_alert(instance="2")
    s.send(fire(a, 0.0), fire(b, 0.0))
    (first,) = s.at(30.0)
    assert sorted(s.router.acknowledge(first.dedup_key, "carol")) == sorted([a.fingerprint, b.fingerprint])
    c = make_alert(instance="3")
    s.send(fire(c, 100.0))
    (update,) = s.at(330.0)  # a new alert is news even in an acknowledged group
    assert "acknowledged by carol" in update.text
    assert {x["fingerprint"]: x["acknowledged_by"] for x in update.alerts} == {
        a.fingerprint: "carol", b.fingerprint: "carol", c.fingerprint: None,
    }
    key = s.router.status()["groups"][0]["key"]
    assert s.router.acknowledge(key, "dave") == [c.fingerprint]
    assert s.at(330.0 + 4 * 3600) == []


def test_acknowledging_a_resolved_alert_ends_with_it() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    s.router.acknowledge(a.fingerprint, "alice")
    s.send(resolve(a, 40.0))
    assert s.router.acknowledgements() == []
    (done,) = s.at(330.0)
    assert done.kind is NoticeKind.RESOLVED
    s.send(fire(a, 400.0))  # fires again: a fresh alert, not acknowledged
    (again,) = s.at(430.0)
    assert again.alerts[0]["acknowledged_by"] is None


def test_acknowledge_rejects_unknown_targets_and_missing_names() -> None:
    s = setup()
    s.send(fire(make_alert(), 0.0))
    with pytest.raises(UnknownAlertOrGroup, match="nope"):
        s.router.acknowledge("nope", "alice")
    with pytest.raises(ValueError, match=r"^by: "):
        s.router.acknowledge(make_alert().fingerprint, " ")
    assert s.router.acknowledgements() == []


# -- delivery ---------------------------------------------------------------------------------------------


def test_a_refused_notice_is_retried_with_the_same_key_and_nothing_is_lost() -> None:
    s = setup()
    s.send(fire(make_alert(), 0.0))
    s.sink.refuse = True
    assert s.at(30.0) == []
    (group,) = s.router.status()["groups"]
    assert group["last_error"] == "ConnectionError: queue unavailable"
    assert group["next_due"] == 40.0
    s.sink.refuse = False
    (notice,) = s.at(40.0)
    assert notice.title == "[FIRING:1] HighErrorRate api"
    assert s.router.status()["groups"][0]["last_error"] is None
    assert notice.to_dict() == Notice.from_dict(notice.to_dict()).to_dict()


def test_pending_transitions_are_ignored() -> None:
    s = setup()
    pending = make_alert(state=AlertState.PENDING)
    s.send(AlertTransition(pending, AlertState.INACTIVE, 0.0))
    s.send(AlertTransition(pending.evolve(state=AlertState.INACTIVE), AlertState.PENDING, 1.0))
    assert s.router.next_due() is None
    assert s.router.status() == {"groups": [], "alerts": [], "acknowledgements": []}


def test_an_acknowledgement_made_on_the_evaluator_alert_is_honoured() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    acked = a.evolve(fired_at=0.0, acknowledged_by="erin", acknowledged_at=40.0)
    s.send(AlertTransition(acked, AlertState.FIRING, 40.0))
    (ack,) = s.router.acknowledgements()
    assert (ack.fingerprint, ack.by, ack.at) == (a.fingerprint, "erin", 40.0)
    assert s.at(30.0 + 4 * 3600) == []


# -- restart -----------------------------------------------------------------------------------------------


def restarted(s: Setup, text: str = SIMPLE) -> Setup:
    """A new router (same clock, sink and silences) restored from ``s``'s state, through JSON."""
    import json

    state = json.loads(json.dumps(s.router.to_state()))
    fresh = Setup(loads_routing(text))
    fresh.clock, fresh.sink, fresh.silences = s.clock, s.sink, s.silences
    fresh.router = Router(fresh.router.config, clock=s.clock.monotonic, silences=s.silences, sink=s.sink)
    assert fresh.router.from_state(state) >= 0
    return fresh


def test_a_restored_router_neither_repages_nor_forgets() -> None:
    s = setup()
    a, b = make_alert(instance="1"), make_alert(instance="2")
    s.send(fire(a, 0.0), fire(b, 0.0))
    (first,) = s.at(30.0)
    s.router.acknowledge(b.fingerprint, "alice")
    s.at(100.0)
    r = restarted(s)
    assert r.router.status()["acknowledgements"][0]["by"] == "alice"
    assert r.router.next_due() == 30.0 + 4 * 3600  # no page at start-up: the receiver was told already
    assert r.at(1000.0) == []
    (repeat,) = r.at(30.0 + 4 * 3600)
    assert repeat.dedup_key == first.dedup_key and repeat.key != first.key
    r.send(resolve(a, 20_000.0), resolve(b, 20_000.0))
    (done,) = r.at(30.0 + 4 * 3600 + 300)
    assert done.kind is NoticeKind.RESOLVED and done.dedup_key == first.dedup_key
    assert len({n.key for n, _ in s.sink.sent}) == len(s.sink.sent) == 3


def test_a_restore_before_group_wait_keeps_the_pending_first_notice() -> None:
    s = setup()
    s.send(fire(make_alert(), 0.0))
    r = restarted(s)
    assert r.router.next_due() == 30.0
    assert len(r.at(30.0)) == 1


def test_a_restore_under_a_changed_configuration_regroups_the_alerts() -> None:
    s = setup()
    a = make_alert()
    s.send(fire(a, 0.0))
    s.at(30.0)
    r = restarted(s, SIMPLE.replace("[alertname, service]", "[service]"))
    (notice,) = r.at(30.0)  # a new group for an alert that fired long ago: no second group_wait
    assert notice.title == "[FIRING:1] api"
    # The old group's receiver is told its group no longer holds the alert, closing it (e.g. in PagerDuty).
    (closed,) = r.at(330.0)
    assert closed.kind is NoticeKind.RESOLVED and closed.dedup_key == s.sink.sent[0][0].dedup_key
    assert closed.alerts == () and "no longer apply" in closed.text
    (group,) = r.router.status()["groups"]
    assert group["labels"] == {"service": "api"}


def test_malformed_state_is_refused_and_restores_nothing() -> None:
    s = setup()
    s.send(fire(make_alert(), 0.0))
    state = s.router.to_state()
    state["groups"][0]["notified"] = {"x": "catastrophic"}
    fresh = setup()
    with pytest.raises(ValueError, match=r"routing state: groups\[0\]"):
        fresh.router.from_state(state)
    with pytest.raises(ValueError, match="expected"):
        fresh.router.from_state({"version": 2})
    assert fresh.router.status()["alerts"] == []
    fresh.send(fire(make_alert(), 0.0))
    with pytest.raises(ValueError, match="before the router receives"):
        fresh.router.from_state(s.router.to_state())
