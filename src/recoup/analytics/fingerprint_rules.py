"""Custom fingerprint rules: let users merge groups the default fingerprint splits, and split groups it merges.

A rules file holds one rule per line, in the spirit of Sentry's fingerprinting rules::

    # comments and blank lines are ignored
    error.type:ConnectionError -> network-down
    message:"*timed out*" -> timeouts
    module:payments.* -> {{ default }}-payments
    tags.region:eu-* error.type:TimeoutError -> eu-timeouts
    message:/deadlock detected \\(pid \\d+\\)/ -> deadlocks

Matchers on one line are AND-ed; the first rule whose matchers all match decides the fingerprint. A value is
a glob (``*``, ``?``, ``[...]``; case-sensitive), a quoted glob when it holds spaces, or a regex between
slashes (searched, not anchored). Keys: ``error.type`` (alias ``type``), ``message`` (alias
``error.value``), ``module`` (any in-app frame's module matches), ``function`` (any in-app frame's
function), ``category`` and ``tags.NAME``. A leading ``!`` negates a matcher. The right-hand side is the
new fingerprint; ``{{ default }}`` in it stands for the default fingerprint, so ``{{ default }}-payments``
splits each default group by whether it came through payments code. Errors name the line.

This module is stdlib-only: the server imports it on every start.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

#: The placeholder for the default fingerprint (spaces inside the braces are optional).
DEFAULT_PLACEHOLDER = re.compile(r"\{\{\s*default\s*\}\}")
_ANY_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_KEY_ALIASES = {"error.type": "type", "type": "type", "message": "message", "error.value": "message",
                "module": "module", "function": "function", "category": "category"}
#: Longest fingerprint text a rule may produce (it is hashed, but a typo'd 10 kB line is a mistake).
MAX_FINGERPRINT_TEXT = 200
MAX_RULES = 1000

Kind = Literal["glob", "regex"]


class RuleError(ValueError):
    """A rules file that cannot be used; ``line`` is 1-based (0 when the whole file is at fault)."""

    def __init__(self, line: int, problem: str, source: str = "") -> None:
        where = f"{source}:{line}" if source else f"line {line}"
        super().__init__(f"{where}: {problem}")
        self.line = line
        self.problem = problem


@dataclass(frozen=True, slots=True)
class ErrorFacts:
    """What a rule can look at: one error event, as ingest knows it."""

    exception_type: str
    message: str
    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    tags: Mapping[str, str] | None = None
    category: str = ""


@dataclass(frozen=True, slots=True)
class Matcher:
    key: str  # canonical key: type, message, module, function, category or tags.NAME
    kind: Kind
    pattern: re.Pattern[str]
    negated: bool = False
    source: str = ""  # the matcher as written, for messages

    def matches(self, facts: ErrorFacts) -> bool:
        return self._hit(facts) != self.negated

    def _hit(self, facts: ErrorFacts) -> bool:
        key = self.key
        if key == "type":
            return self._test(facts.exception_type)
        if key == "message":
            return self._test(facts.message)
        if key == "module":
            return any(self._test(m) for m in facts.modules)
        if key == "function":
            return any(self._test(f) for f in facts.functions)
        if key == "category":
            return self._test(facts.category)
        tags = facts.tags or {}
        value = tags.get(key[5:])
        return value is not None and self._test(value)

    def _test(self, value: str) -> bool:
        if self.kind == "regex":
            return self.pattern.search(value) is not None
        return self.pattern.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Rule:
    matchers: tuple[Matcher, ...]
    template: str  # the right-hand side, placeholders kept
    line: int

    def matches(self, facts: ErrorFacts) -> bool:
        return all(m.matches(facts) for m in self.matchers)

    def fingerprint(self, default: str) -> str:
        """The rule's fingerprint for an event whose default fingerprint is ``default``."""
        text = DEFAULT_PLACEHOLDER.sub(default, self.template)
        if text == default:
            return default
        return custom_fingerprint(text)


def custom_fingerprint(text: str) -> str:
    """A fixed-size fingerprint for a rule's text: the store's fingerprint column has a bounded length, and
    distinct texts must never collide into one group."""
    h = hashlib.blake2b(digest_size=10, person=b"recoup-rule")
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class FingerprintRules:
    """An ordered rule list: the first rule that matches decides."""

    rules: tuple[Rule, ...]

    def __len__(self) -> int:
        return len(self.rules)

    def match(self, facts: ErrorFacts) -> Rule | None:
        for rule in self.rules:
            if rule.matches(facts):
                return rule
        return None

    def apply(self, facts: ErrorFacts, default: str) -> str:
        """The fingerprint of this event: the first matching rule's, else ``default``."""
        rule = self.match(facts)
        return default if rule is None else rule.fingerprint(default)


_TOKEN = re.compile(
    r'\s*(!?)([A-Za-z_][\w.-]*):(?:"((?:[^"\\]|\\.)*)"|/((?:[^/\\]|\\.)*)/|(\S+))'
)


def _glob(text: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(text), re.DOTALL)


def _key(raw: str, line: int, source: str) -> str:
    if raw.startswith("tags."):
        if len(raw) == 5:
            raise RuleError(line, "'tags.' needs a tag name, e.g. tags.region:eu-*", source)
        return raw
    key = _KEY_ALIASES.get(raw)
    if key is None:
        known = ", ".join(sorted(_KEY_ALIASES)) + ", tags.NAME"
        raise RuleError(line, f"unknown matcher key {raw!r}; one of: {known}", source)
    return key


def _parse_matchers(text: str, line: int, source: str) -> tuple[Matcher, ...]:
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(text):
        if not text[pos:].strip():
            break
        m = _TOKEN.match(text, pos)
        if m is None:
            rest = text[pos:].strip()
            raise RuleError(line, f"cannot read matcher at {rest[:40]!r}: expected key:value, key:\"quoted "
                                  "value\" or key:/regex/", source)
        negated, raw_key, quoted, regex, bare = m.groups()
        key = _key(raw_key, line, source)
        written = m.group(0).strip()
        if regex is not None:
            try:
                pattern = re.compile(regex.replace("\\/", "/"))
            except re.error as exc:
                raise RuleError(line, f"bad regex in {written!r}: {exc}", source) from None
            matchers.append(Matcher(key, "regex", pattern, bool(negated), written))
        else:
            value = bare if bare is not None else re.sub(r"\\(.)", r"\1", quoted)
            if not value:
                raise RuleError(line, f"empty value in {written!r}", source)
            matchers.append(Matcher(key, "glob", _glob(value), bool(negated), written))
        pos = m.end()
    if not matchers:
        raise RuleError(line, "a rule needs at least one matcher before '->'", source)
    return tuple(matchers)


def _parse_template(text: str, line: int, source: str) -> str:
    template = text.strip()
    if len(template) >= 2 and template[0] == template[-1] == '"':
        template = template[1:-1]
    if not template:
        raise RuleError(line, "missing fingerprint after '->'", source)
    if len(template) > MAX_FINGERPRINT_TEXT:
        raise RuleError(line, f"fingerprint is {len(template)} characters, at most {MAX_FINGERPRINT_TEXT}", source)
    for placeholder in _ANY_PLACEHOLDER.finditer(template):
        if not DEFAULT_PLACEHOLDER.fullmatch(placeholder.group(0)):
            raise RuleError(line, f"unknown placeholder {placeholder.group(0)!r}; only {{{{ default }}}} is "
                                  "supported", source)
    return template


def parse_rules(text: str, source: str = "") -> FingerprintRules:
    """Parse a rules file's text; `RuleError` names the first bad line. ``source`` (a file name) prefixes
    messages."""
    rules: list[Rule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "\x00" in line:
            raise RuleError(number, "NUL character in rule", source)
        left, arrow, right = _split_arrow(line)
        if not arrow:
            raise RuleError(number, "expected 'matchers -> fingerprint'", source)
        rules.append(Rule(_parse_matchers(left, number, source), _parse_template(right, number, source), number))
        if len(rules) > MAX_RULES:
            raise RuleError(number, f"more than {MAX_RULES} rules", source)
    return FingerprintRules(tuple(rules))


def _split_arrow(line: str) -> tuple[str, str, str]:
    """Split on the first ``->`` outside quotes and regexes (a message glob may contain an arrow)."""
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"/" and i > 0 and line[i - 1] == ":":
            quote = ch
        elif line.startswith("->", i):
            return line[:i], "->", line[i + 2:]
        i += 1
    return line, "", ""


def load_rules(path: str | Path) -> FingerprintRules:
    """Read and parse a rules file; `RuleError` (naming file and line) for a bad one, OSError if unreadable."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError(0, f"not UTF-8 text ({exc.reason} at byte {exc.start})", str(p)) from None
    return parse_rules(text, str(p))


def facts_for(exception_type: str | None, message: str, frames: Sequence[tuple[str, str]] = (),
              tags: Mapping[str, str] | None = None, category: str | None = None) -> ErrorFacts:
    """`ErrorFacts` from what ingest holds: in-app (module, function) frames and string tags."""
    return ErrorFacts(exception_type or "", message, tuple(m for m, _ in frames), tuple(f for _, f in frames),
                      tags, category or "")


def describe(rules: Iterable[Rule]) -> list[str]:
    """One line per rule, for ``recoup serve`` to log what it loaded."""
    return [f"line {r.line}: {' '.join(m.source for m in r.matchers)} -> {r.template}" for r in rules]
