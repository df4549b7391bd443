"""On-call schedules: the rotation, overrides (last wins, end exclusive), target resolution, validation, and the
manager paging whoever is on call when the incident is declared."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from recoup.incidents.incidents import IncidentManager, loads_policy
from recoup.incidents.model import Notice
from recoup.incidents.oncall import Schedule, is_oncall_target, resolve_targets
from recoup.store import Store

HANDOFF = datetime(2027, 1, 4, 9, 0, tzinfo=UTC).timestamp()
DAY = 86400.0


def at(day: int, hour: float = 9.0) -> float:
    return HANDOFF + day * DAY + (hour - 9.0) * 3600


def schedule(**extra: object) -> Schedule:
    return Schedule.model_validate({"name": "primary", "people": ["alice", "bob", "carol"],
                                    "handoff": "2027-01-04T09:00:00Z", "shift": "1d", **extra})


def test_the_rotation_hands_over_at_the_handoff_time() -> None:
    s = schedule()
    assert s.on_call(at(0)) == "alice"
    assert s.on_call(at(0, 23)) == "alice"
    assert s.on_call(at(1) - 1) == "alice"
    assert s.on_call(at(1)) == "bob"
    assert s.on_call(at(2)) == "carol"
    assert s.on_call(at(3)) == "alice"
    assert s.on_call(at(-1)) == "carol"  # before the first handoff the rotation runs backwards
    assert s.next_handoff(at(0, 12)) == at(1)
    assert s.next_handoff(at(1)) == at(2)


def test_overrides_replace_the_rotation_and_the_last_listed_wins() -> None:
    s = schedule(overrides=[
        {"person": "dave", "start": "2027-01-05T12:00:00Z", "end": "2027-01-05T18:00:00Z"},
        {"person": "erin", "start": "2027-01-05T17:00:00Z", "end": "2027-01-06T09:00:00Z"},
    ])
    assert s.on_call(at(1, 11.99)) == "bob"
    assert s.on_call(at(1, 12)) == "dave"  # start inclusive
    assert s.on_call(at(1, 17)) == "erin"  # overlap: the later override wins
    assert s.on_call(at(1, 20)) == "erin"
    assert s.on_call(at(2)) == "carol"  # end exclusive: carol's shift starts then
    assert s.rotation_at(at(1, 12)) == "bob"


def test_naive_times_are_utc() -> None:
    s = Schedule.model_validate({"name": "n", "people": ["a", "b"], "handoff": "2027-01-04T09:00:00", "shift": "12h"})
    assert s.handoff.timestamp() == HANDOFF
    assert s.on_call(HANDOFF + 12 * 3600) == "b"


def test_targets_resolve_to_receivers() -> None:
    schedules = {"primary": schedule()}
    assert is_oncall_target("oncall:primary") and not is_oncall_target("lead")
    assert resolve_targets(["oncall:primary", "lead", "alice"], schedules, at(0)) == ["alice", "lead"]
    assert resolve_targets(["oncall:primary", "lead"], schedules, at(1)) == ["bob", "lead"]
    with pytest.raises(KeyError, match="unknown on-call schedule 'other'"):
        resolve_targets(["oncall:other"], schedules, at(0))


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"people": []}, "at least one person"),
        ({"people": ["a", " "]}, "every person must name a receiver"),
        ({"shift": "0s"}, "must be longer than 0s"),
        ({"shift": "often"}, "expected a duration"),
        ({"name": "a:b"}, "is not a schedule name"),
        ({"overrides": [{"person": "x", "start": "2027-01-05T12:00:00Z", "end": "2027-01-05T11:00:00Z"}]},
         "must be after start"),
        ({"overrides": [{"person": "x", "start": "2027-01-05T12:00:00Z"}]}, "overrides.0.end"),
        ({"rotation": "weekly"}, "Extra inputs are not permitted"),
    ],
)
def test_bad_schedules_are_refused(change: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        schedule(**change)


class RecordingSink:
    def __init__(self) -> None:
        self.sent: list[tuple[Notice, str]] = []

    def enqueue(self, notice: Notice, receivers: Sequence[str]) -> None:
        self.sent.extend((notice, r) for r in receivers)


POLICY = """
escalation:
  policies: [{name: page, steps: [{targets: ["oncall:primary"], wait: 5m}, {targets: ["oncall:primary"]}]}]
schedules:
  - name: primary
    people: [alice, bob]
    handoff: "2027-01-04T09:00:00Z"
    shift: 1d
    overrides: [{person: dave, start: "2027-01-05T10:03:00Z", end: "2027-01-05T11:00:00Z"}]
rto: {fallback: 1h}
"""


def test_the_manager_pages_whoever_is_on_call_at_each_step(store: Store) -> None:
    now = [at(1, 10)]
    sink = RecordingSink()
    mgr = IncidentManager(store, loads_policy(POLICY), clock=lambda: now[0], sink=sink)
    mgr.declare("checkout down", "critical", by="carol")
    mgr.tick(at(1, 10) + 300)  # 10:05, inside dave's override
    assert [r for _, r in sink.sent] == ["bob", "dave"]
