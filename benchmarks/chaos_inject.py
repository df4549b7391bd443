"""Cost of a chaos injection point and of an injected fault, beside a bare call and a real provocation.

Run: `.venv/bin/python benchmarks/chaos_inject.py` (timeit, best of 5; ns per call and the ratio to a bare call).
"""
import contextlib
import socket
import timeit
from collections.abc import Callable

from recoup.chaos.catalogue import fault
from recoup.chaos.catalogue_net import closed_port
from recoup.chaos.inject import Chaos
from recoup.chaos.inject_rules import Rule
from recoup.chaos.schedule import FirstCalls


def bare() -> int:
    return 1


def point(chaos: Chaos) -> Callable[[], int]:
    @chaos.inject("svc.call")
    def call() -> int:
        return 1
    return call


no_rules = point(Chaos())
unmatched = point(Chaos(Rule.fail(KeyError, target="elsewhere.*")))
not_firing = point(Chaos(Rule.fail(KeyError, schedule=FirstCalls(0))))
injected = point(Chaos(Rule.fail("network.connection-refused")))


def catch(fn: Callable[[], int]) -> None:
    with contextlib.suppress(OSError):
        fn()


def real_refusal() -> None:
    with closed_port() as port, contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", port)).close()


def main() -> None:
    fault("network.connection-refused").exception()  # provoke once, as the first injection would
    cases = [
        ("bare call", bare, 200_000),
        ("@inject, no rules armed", no_rules, 200_000),
        ("@inject, rule for another target", unmatched, 100_000),
        ("@inject, matching rule, schedule not firing", not_firing, 100_000),
        ("@inject, injecting connection-refused (raise+catch)", lambda: catch(injected), 20_000),
        ("real refused connect (bind+connect+catch)", real_refusal, 2_000),
    ]
    rows = [(label, min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e9) for label, fn, n in cases]
    print(f"{'case':55} {'ns/call':>10} {'x bare':>8}")
    for label, ns in rows:
        print(f"{label:55} {ns:10.0f} {ns / rows[0][1]:8.1f}")


if __name__ == "__main__":
    main()
