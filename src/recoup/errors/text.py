"""Parse error text: split tracebacks (Python, Node.js, Java, Go) into message lines and stack frames.

Stack frames and quoted source lines are not evidence of the cause (a frame of `socket.py` or a source line
`timeout=timeout` says nothing about why *this* call failed), so rules run on message lines only, while
frames feed the fingerprint. Exception type names found in message lines are returned separately so the
type-name rules can weigh them.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import NamedTuple

Frame = tuple[str, str]  # (module or file stem, function)


class ParsedText(NamedTuple):
    messages: list[str]  # lines that carry the error's own words
    types: list[str]  # exception type names, outermost last
    frames: list[Frame]  # in-app frames, in the order printed
    last_type: str  # type of the reported (last printed) exception, "" if none
    last_message: str  # its message


class _Patterns(NamedTuple):
    py_frame: re.Pattern[str]
    node_frame: re.Pattern[str]
    node_source_header: re.Pattern[str]
    java_frame: re.Pattern[str]
    go_func: re.Pattern[str]
    go_loc: re.Pattern[str]
    exc_line: re.Pattern[str]
    type_token: re.Pattern[str]
    noise: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    return _Patterns(
        py_frame=re.compile(r'^\s*File "([^"]+)", line \d+(?:, in (.+))?$'),
        node_frame=re.compile(r"^\s+at (?:(?:async )?(.+?) \()?(.+?)(?::\d+)?(?::\d+)?\)?$"),
        node_source_header=re.compile(r"^(?:node:[\w/]+|file://\S+|\[eval\d*\]|<anonymous_script>|\S+\.[cm]?[jt]s)"
                                      r":\d+$"),
        java_frame=re.compile(r"^\s+at ([\w$.<>/]+)\.([\w$<>]+)\((.*)\)$"),
        go_func=re.compile(r"^((?:[\w.-]+/)*[\w.-]+\.[\w.*()]+)\(.*\)$"),
        go_loc=re.compile(r"^\t\S+:\d+(?: \+0x[0-9a-f]+)?$"),
        exc_line=re.compile(r"^(?:Caused by: |Uncaught |\[cause\]: |Exception in thread \"[^\"]*\" )?"
                            r"([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?: \[([\w ]+)\])?(?::\s?(.*))?$"),
        type_token=re.compile(r"\b((?:[a-z_][\w]*\.)*[A-Z][\w$]*(?:Error|Exception|Exit|Interrupt|Fault|Failure|"
                              r"Timeout|Refused|Violation|Denied|Unavailable|Exceeded|Closed|Disconnected|"
                              r"NotFound|Iteration))\b"),
        noise=re.compile(r"^(?:Traceback \(most recent call last\):|During handling of the above exception.*|"
                         r"The above exception was the direct cause.*|\s*[\^~]+\s*|Node\.js v[\d.]+|"
                         r"\s*\.\.\. \d+ (?:more|common frames omitted)|\s*\.\.\.)$"),
    )


_STDLIB_HINTS = ("site-packages", "dist-packages", "/lib/python", "<frozen", "node:", "node_modules",
                 "/usr/lib/", "/usr/local/lib/", "\\lib\\", "<anonymous>")
_JAVA_LIB_PREFIXES = ("java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "scala.", "org.junit.",
                      "org.springframework.", "org.apache.", "io.netty.")
_GO_LIB_PREFIXES = ("runtime.", "net.", "net/", "os.", "os/", "sync.", "syscall.", "internal/", "reflect.",
                    "fmt.", "io.", "bufio.", "encoding/", "log.", "testing.", "crypto/", "main.fail")


def _stem(path: str) -> str:
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


@lru_cache(maxsize=4096)  # a process sees few distinct source files, each in many frames
def in_app_path(path: str) -> bool:
    """Whether a frame's file belongs to the application rather than the runtime or a library."""
    return not any(hint in path for hint in _STDLIB_HINTS)


_KNOWN_BARE_TYPES = frozenset({"KeyError", "StopIteration", "MemoryError", "SystemExit", "KeyboardInterrupt",
                               "GeneratorExit", "StopAsyncIteration", "Error", "panic"})


#: Python's socket module names its exceptions in lower case (`socket.gaierror: [Errno -2] ...`).
_KNOWN_LOWER_TYPES = frozenset({"gaierror", "herror", "socket.timeout"})


def _looks_like_type(name: str) -> bool:
    bare = name.rsplit(".", 1)[-1]
    if bare in _KNOWN_LOWER_TYPES or name in _KNOWN_LOWER_TYPES:
        return "." in name
    if not bare or not bare[0].isupper():
        return False
    if bare in _KNOWN_BARE_TYPES:
        return True
    if re.search(r"(Error|Exception|Exit|Interrupt|Fault|Failure|Warning|Timeout|Violation|Denied|Refused)$",
                 bare):
        return True
    return "." in name and name.split(".", 1)[0].islower()


def parse(text: str) -> ParsedText:
    """Split `text` into message lines, exception types and in-app frames."""
    p = _patterns()
    messages: list[str] = []
    types: list[str] = []
    frames: list[Frame] = []
    last_type = ""
    last_message = ""
    lines = text.splitlines()
    i = 0
    in_go_stack = False
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if not line.strip() or p.noise.match(line):
            continue
        m = p.py_frame.match(line)
        if m:
            path, func = m.group(1), (m.group(2) or "?").strip()
            if in_app_path(path):
                frames.append((_stem(path), func))
            # the quoted source lines that follow are indented deeper than the frame line
            indent = len(line) - len(line.lstrip())
            while i < len(lines) and lines[i].strip() and (len(lines[i]) - len(lines[i].lstrip())) > indent \
                    and not p.py_frame.match(lines[i]):
                i += 1
            continue
        m = p.java_frame.match(line)
        if m:
            klass, method = m.group(1), m.group(2)
            if not klass.startswith(_JAVA_LIB_PREFIXES):
                frames.append((klass, method))
            continue
        m = p.node_frame.match(line)
        if m and line.startswith((" ", "\t")):
            func, where = m.group(1) or "?", m.group(2)
            if in_app_path(where):
                frames.append((_stem(where), func))
            continue
        if p.node_source_header.match(line):
            # Node prints the failing source line and a caret under it: skip both
            for ahead in range(i, min(i + 3, len(lines))):
                if set(lines[ahead].strip()) <= {"^"} and lines[ahead].strip():
                    i = ahead + 1
                    break
            continue
        if line.startswith("goroutine ") and line.rstrip().endswith(":"):
            in_go_stack = True
            continue
        if in_go_stack:
            m = p.go_func.match(line)
            if m:
                if not m.group(1).startswith(_GO_LIB_PREFIXES):
                    module, _, func = m.group(1).rpartition(".")
                    frames.append((module, func))
                continue
            if p.go_loc.match(line):
                continue
            in_go_stack = False
        stripped = line.strip()
        messages.append(stripped)
        m = p.exc_line.match(stripped)
        if m and _looks_like_type(m.group(1)):
            name = m.group(1)
            types.append(name)
            if m.group(2) and _looks_like_type(m.group(2)):
                types.append(m.group(2))
            last_type, last_message = name, (m.group(3) or "").strip()
        for token in p.type_token.findall(stripped):
            if token not in types:
                types.append(token)
    return ParsedText(messages, types, frames, last_type, last_message)
