"""Custom fingerprint rules: the file format, matching (globs, regexes, AND, first wins, negation), the
``{{ default }}`` placeholder, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from recoup.analytics.fingerprint_rules import (
    ErrorFacts,
    FingerprintRules,
    RuleError,
    custom_fingerprint,
    facts_for,
    load_rules,
    parse_rules,
)

RULES = """
# network errors are one problem, whatever the call site
error.type:ConnectionError -> network-down
message:"*timed out*" -> timeouts
module:payments.* -> {{ default }}-payments
tags.region:eu-* error.type:TimeoutError -> eu-timeouts
message:/deadlock detected \\(pid \\d+\\)/ -> deadlocks
!tags.env:prod type:ValueError -> "non-prod value errors"
"""

DEFAULT = "0123456789abcdef0123"


def _facts(type_: str = "KeyError", message: str = "boom", modules: tuple[str, ...] = (),
           tags: dict[str, str] | None = None) -> ErrorFacts:
    return facts_for(type_, message, [(m, "f") for m in modules], tags)


@pytest.fixture(scope="module")
def rules() -> FingerprintRules:
    return parse_rules(RULES)


def test_parses_every_form(rules: FingerprintRules) -> None:
    assert len(rules) == 6
    assert [r.line for r in rules.rules] == [3, 4, 5, 6, 7, 8]
    assert [m.kind for m in rules.rules[4].matchers] == ["regex"]
    assert [m.key for m in rules.rules[3].matchers] == ["tags.region", "type"]
    assert rules.rules[5].matchers[0].negated
    assert rules.rules[5].template == "non-prod value errors"


def test_type_glob_is_exact_not_substring(rules: FingerprintRules) -> None:
    hit = rules.apply(_facts("ConnectionError"), DEFAULT)
    assert hit == custom_fingerprint("network-down")
    assert rules.apply(_facts("ConnectionErrorX"), DEFAULT) == DEFAULT
    # two different call sites, one fingerprint: the rule merges what the default split
    assert rules.apply(_facts("ConnectionError", "a", ("app.a",)), "fp-a") == \
        rules.apply(_facts("ConnectionError", "b", ("app.b",)), "fp-b")


def test_quoted_message_glob(rules: FingerprintRules) -> None:
    assert rules.apply(_facts("OSError", "read timed out after 3s"), DEFAULT) == custom_fingerprint("timeouts")
    assert rules.apply(_facts("OSError", "read timeout"), DEFAULT) == DEFAULT


def test_default_placeholder_splits_by_module(rules: FingerprintRules) -> None:
    via_payments = rules.apply(_facts("KeyError", "x", ("app.views", "payments.charge")), DEFAULT)
    assert via_payments == custom_fingerprint(f"{DEFAULT}-payments")
    other_default = rules.apply(_facts("KeyError", "x", ("payments.charge",)), "ffff")
    assert other_default != via_payments  # the default part keeps different errors apart
    assert rules.apply(_facts("KeyError", "x", ("app.views",)), DEFAULT) == DEFAULT


def test_matchers_are_anded_and_tags_read(rules: FingerprintRules) -> None:
    eu = rules.apply(_facts("TimeoutError", "slow", tags={"region": "eu-west-1"}), DEFAULT)
    assert eu == custom_fingerprint("eu-timeouts")
    assert rules.apply(_facts("TimeoutError", "slow", tags={"region": "us-east-1"}), DEFAULT) == DEFAULT
    assert rules.apply(_facts("TimeoutError", "slow"), DEFAULT) == DEFAULT  # no tag: no match
    assert rules.apply(_facts("KeyError", "slow", tags={"region": "eu-west-1"}), DEFAULT) == DEFAULT


def test_regex_is_searched(rules: FingerprintRules) -> None:
    facts = _facts("OperationalError", "ERROR: deadlock detected (pid 4242) on relation 7")
    assert rules.apply(facts, DEFAULT) == custom_fingerprint("deadlocks")
    assert rules.apply(_facts("OperationalError", "deadlock detected"), DEFAULT) == DEFAULT


def test_negation(rules: FingerprintRules) -> None:
    non_prod = custom_fingerprint("non-prod value errors")
    assert rules.apply(_facts("ValueError", tags={"env": "dev"}), DEFAULT) == non_prod
    assert rules.apply(_facts("ValueError"), DEFAULT) == non_prod
    assert rules.apply(_facts("ValueError", tags={"env": "prod"}), DEFAULT) == DEFAULT


def test_first_matching_rule_wins() -> None:
    rules = parse_rules("type:OSError -> first\nmessage:* -> second\n")
    assert rules.apply(_facts("OSError"), DEFAULT) == custom_fingerprint("first")
    assert rules.apply(_facts("KeyError"), DEFAULT) == custom_fingerprint("second")
    assert rules.match(_facts("OSError")) is rules.rules[0]


def test_default_alone_keeps_default_and_aliases_work() -> None:
    rules = parse_rules("error.value:boom -> {{default}}\n")
    assert rules.apply(_facts(message="boom"), DEFAULT) == DEFAULT
    assert parse_rules("type:X -> a").rules[0].matchers[0].key == "type"


def test_arrow_inside_quotes_or_regex_is_not_the_separator() -> None:
    rules = parse_rules('message:"a -> b" -> arrows\nmessage:/x->y/ -> rx\n')
    assert rules.apply(_facts(message="a -> b"), DEFAULT) == custom_fingerprint("arrows")
    assert rules.apply(_facts(message="1 x->y 2"), DEFAULT) == custom_fingerprint("rx")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("type:A -> a\nbogus line\n", 2, "expected 'matchers -> fingerprint'"),
        ("\n\nlevel:error -> x", 3, "unknown matcher key 'level'"),
        ("message:/(unclosed/ -> x", 1, "bad regex"),
        ("type:A ->   ", 1, "missing fingerprint"),
        (" -> x", 1, "at least one matcher"),
        ("type:A -> {{ transaction }}", 1, "unknown placeholder"),
        ("tags.:x -> y", 1, "tags. needs a tag name"),
        ("type:A junk -> y", 1, "cannot read matcher at 'junk'"),
        ('message:"" -> y', 1, "empty value"),
        ("type:A -> " + "x" * 300, 1, "at most 200"),
    ],
)
def test_bad_rules_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rules(text, "rules.txt")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"rules.txt:{line}: ")
    assert words.replace("tags. ", "'tags.' ") in str(caught.value)


def test_load_rules_from_file(tmp_path: Path) -> None:
    good = tmp_path / "fp.rules"
    good.write_text(RULES)
    assert len(load_rules(good)) == 6
    bad = tmp_path / "bad.rules"
    bad.write_bytes(b"type:A -> \xff\xfe\n")
    with pytest.raises(RuleError, match="not UTF-8"):
        load_rules(bad)
    with pytest.raises(OSError):
        load_rules(tmp_path / "missing.rules")
