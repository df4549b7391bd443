"""Escalation: the pure step schedule, steps with waits and repeats through the manager's tick, stopping on
acknowledgement, `next_due`, and a restarted manager continuing from the stored state."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from recoup.incidents.escalation import EscalationConfig, EscalationPolicy, EscalationState, advance, following, start
from recoup.incidents.incidents import IncidentManager, IncidentPolicy, IncidentStatus, TimelineKind, loads_policy
from recoup.incidents.model import Alert, AlertState, AlertTransition, Notice, NoticeKind, Severity, labels_fingerprint
from recoup.store import Store, open_store

T0 = datetime(2027, 1, 5, 10, 0, tzinfo=UTC).timestamp()  # bob's day on "primary"

POLICY = """
escalation:
  policies:
    - name: page
      steps:
        - {targets: ["oncall:primary"], wait: 5m}
        - {targets: ["lead", "oncall:primary"], wait: 10m}
      repeat: 1
    - name: quiet
      steps: [{targets: ["team"], wait: 30m}]
  routes: [{match: ['severity="critical"'], policy: page}]
  default: quiet
schedules:
  - {name: primary, people: [alice, bob], handoff: "2027-01-04T09:00:00Z", shift: 1d}
rto: {fallback: 1h}
"""


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[tuple[Notice, str]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        for receiver in receivers:
            if all((n.key, r) != (notice.key, receiver) for n, r in self.sent):
                self.sent.append((notice, receiver))


class Clock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def critical(name: str = "Down") -> AlertTransition:
    labels = {"alertname": name, "severity": "critical", "service": "api", "project": "p1"}
    a = Alert(labels_fingerprint(labels), name, labels, {}, Severity.CRITICAL, AlertState.FIRING, 1.0, T0, T0)
    return AlertTransition(a, AlertState.PENDING, T0)


def make(store: Store, sink: RecordingSink | None = None) -> tuple[IncidentManager, RecordingSink]:
    sink = sink or RecordingSink()
    return IncidentManager(store, loads_policy(POLICY), clock=Clock(), sink=sink), sink


PAGE = EscalationPolicy.model_validate({"name": "p", "steps": [{"targets": ["a"], "wait": 60},
                                                               {"targets": ["b"], "wait": "2m"}], "repeat": 1})


def test_the_pure_schedule_runs_the_steps_then_repeats_then_stops() -> None:
    state = start(PAGE, 0.0)
    assert state == EscalationState(0, 0, 60.0)
    seen = [(state.step, state.repeat, state.next_at)]
    now = 60.0
    while (nxt := advance(PAGE, state, now)) is not None:
        seen.append((nxt.step, nxt.repeat, nxt.next_at))
        state = nxt
        now = nxt.next_at if nxt.next_at is not None else now
    assert seen == [(0, 0, 60.0), (1, 0, 180.0), (0, 1, 240.0), (1, 1, None)]
    assert following(PAGE, 1, 1) is None
    single = EscalationPolicy.model_validate({"name": "s", "steps": [{"targets": ["a"]}]})
    assert start(single, 5.0) == EscalationState(0, 0, None)  # nothing after the only step


def test_policy_selection_and_validation() -> None:
    config = EscalationConfig.model_validate({
        "policies": [PAGE.model_dump(), {"name": "q", "steps": [{"targets": ["c"]}]}],
        "routes": [{"match": ['incident_type=~"db.*"', 'severity!="info"'], "policy": "p"}],
        "default": "q",
    })
    assert config.select({"incident_type": "db_pool", "severity": "warning"}).name == "p"
    assert config.select({"incident_type": "db_pool", "severity": "info"}).name == "q"
    assert config.select({}).name == "q"
    assert PAGE.last_targets == ("b",)
    with pytest.raises(ValidationError, match="names must be unique, repeated: p"):
        EscalationConfig.model_validate({"policies": [PAGE.model_dump(), PAGE.model_dump()]})
    with pytest.raises(ValidationError, match="default: unknown policy 'zz'"):
        EscalationConfig.model_validate({"policies": [PAGE.model_dump()], "default": "zz"})
    with pytest.raises(ValidationError, match="a step needs at least one target"):
        EscalationPolicy.model_validate({"name": "e", "steps": [{"targets": []}]})
    with pytest.raises(ValidationError, match="a policy needs at least one step"):
        EscalationPolicy.model_validate({"name": "e", "steps": []})


def test_steps_wait_repeat_and_stop(store: Store) -> None:
    mgr, sink = make(store)
    [incident] = mgr.on_transitions([critical()])
    assert [(n.kind, r) for n, r in sink.sent] == [(NoticeKind.INCIDENT_TRIGGERED, "bob")]
    assert mgr.next_due() == T0 + 300
    assert mgr.tick(T0 + 299) == []
    [after] = mgr.tick(T0 + 300)
    assert (after.escalation_step, after.escalation_repeat, after.next_escalation_at) == (1, 0, T0 + 900)
    assert [(n.kind, r) for n, r in sink.sent[1:]] == [(NoticeKind.ESCALATION, "lead"), (NoticeKind.ESCALATION, "bob")]
    assert mgr.tick(T0 + 899) == []
    mgr.tick(T0 + 900)  # pass 2, step 1
    mgr.tick(T0 + 1200)  # pass 2, step 2: the last
    last = mgr.get(incident.id)
    assert (last.escalation_step, last.escalation_repeat, last.next_escalation_at) == (1, 1, None)
    assert mgr.tick(T0 + 3000) == []  # nothing scheduled after the last step (and the 1h RTO is still ahead)
    receivers = [r for n, r in sink.sent if n.kind is NoticeKind.ESCALATION]
    assert receivers == ["lead", "bob", "bob", "lead", "bob"]
    keys = [n.key for n, _ in sink.sent if n.kind is NoticeKind.ESCALATION]
    assert len(set(keys)) == 3  # one notice per step sent, each to all its receivers
    steps = [e for e in mgr.timeline(incident.id) if e.kind is TimelineKind.ESCALATION_STEP]
    assert [e.text for e in steps] == ["page: step 2 of 2, pass 1 of 2", "page: step 1 of 2, pass 2 of 2",
                                       "page: step 2 of 2, pass 2 of 2 (last step)"]


def test_acknowledgement_stops_escalation(store: Store) -> None:
    mgr, sink = make(store)
    [incident] = mgr.on_transitions([critical()])
    mgr.tick(T0 + 300)
    acked = mgr.acknowledge(incident.id, "bob")
    assert acked.status is IncidentStatus.ACKNOWLEDGED and acked.next_escalation_at is None
    # the acknowledgement reaches everyone paged so far
    assert [(n.kind, r) for n, r in sink.sent[-2:]] == [(NoticeKind.INCIDENT_ACKNOWLEDGED, "bob"),
                                                        (NoticeKind.INCIDENT_ACKNOWLEDGED, "lead")]
    count = len(sink.sent)
    assert mgr.tick(T0 + 900) == []
    assert mgr.tick(T0 + 1500) == []
    assert len(sink.sent) == count
    assert mgr.next_due() == T0 + 3600  # only the RTO deadline is left


def test_resolution_stops_escalation(store: Store) -> None:
    mgr, sink = make(store)
    [incident] = mgr.on_transitions([critical()])
    mgr.resolve(incident.id, "bob")
    assert mgr.tick(T0 + 300) == []
    assert [n.kind for n, _ in sink.sent] == [NoticeKind.INCIDENT_TRIGGERED, NoticeKind.INCIDENT_RESOLVED]
    assert mgr.next_due() is None


def test_a_restarted_manager_continues_from_the_stored_state(db_url: str) -> None:
    sink = RecordingSink()
    with open_store(db_url) as first_store:
        first, _ = make(first_store, sink)
        [incident] = first.on_transitions([critical()])
        first.tick(T0 + 300)
    with open_store(db_url) as second_store:
        second, _ = make(second_store, sink)
        assert second.next_due() == T0 + 900
        assert second.tick(T0 + 899) == []
        [continued] = second.tick(T0 + 900)
        assert (continued.id, continued.escalation_step, continued.escalation_repeat) == (incident.id, 0, 1)
        # a repeated tick at the same moment sends nothing twice
        assert second.tick(T0 + 900) == []
    escalations = [(n.key.rsplit("-", 2)[-2:], r) for n, r in sink.sent if n.kind is NoticeKind.ESCALATION]
    assert escalations == [(["r0", "s1"], "lead"), (["r0", "s1"], "bob"), (["r1", "s0"], "bob")]


def test_a_policy_removed_from_the_config_stops_with_a_record(store: Store) -> None:
    mgr, _ = make(store)
    [incident] = mgr.on_transitions([critical()])
    renamed = loads_policy(POLICY.replace("name: page", "name: pager").replace("policy: page", "policy: pager"))
    later = IncidentManager(store, renamed, clock=Clock(), sink=RecordingSink())
    [stopped] = later.tick(T0 + 300)
    assert stopped.next_escalation_at is None
    assert "policy 'page' is no longer configured" in later.timeline(incident.id)[-1].text


def test_warnings_follow_their_own_policy(store: Store) -> None:
    mgr, sink = make(store)
    incident = mgr.declare("slow", "warning", by="carol")
    assert incident.escalation_policy == "quiet" and incident.next_escalation_at is None
    assert [(n.kind, r) for n, r in sink.sent] == [(NoticeKind.INCIDENT_TRIGGERED, "team")]


def test_a_policy_object_is_what_the_manager_uses() -> None:
    policy = loads_policy(POLICY)
    assert isinstance(policy, IncidentPolicy)
    assert policy.escalation.policy("page").repeat == 1
    with pytest.raises(KeyError, match="unknown escalation policy 'x'"):
        policy.escalation.policy("x")


def test_concurrent_ticks_send_each_step_once(db_url: str) -> None:
    with open_store(db_url) as setup:
        [incident] = make(setup)[0].on_transitions([critical()])
    stores = [open_store(db_url, migrate=False) for _ in range(3)]
    errors: list[BaseException] = []

    def tick(store: Store) -> None:
        try:
            make(store)[0].tick(T0 + 300)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=tick, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        timeline = make(stores[0])[0].timeline(incident.id)
    finally:
        for s in stores:
            s.close()
    assert [e.kind for e in timeline].count(TimelineKind.ESCALATION_STEP) == 1
