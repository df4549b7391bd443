"""Channel-neutral wording of a notice: a one-line summary and a plain-text body, so every channel says the
same thing and a reader of an SMS, an email or a Slack message sees the same facts."""

from __future__ import annotations

from datetime import UTC, datetime

from recoup.incidents.model import Notice, NoticeKind

_RESOLVED = frozenset({NoticeKind.RESOLVED, NoticeKind.INCIDENT_RESOLVED})
_LABELS_SHOWN = 12
_ALERTS_SHOWN = 20


def is_resolution(notice: Notice) -> bool:
    return notice.kind in _RESOLVED


def status_word(notice: Notice) -> str:
    """``RESOLVED``, ``ACKNOWLEDGED`` or the severity in capitals."""
    if is_resolution(notice):
        return "RESOLVED"
    if notice.kind is NoticeKind.INCIDENT_ACKNOWLEDGED:
        return "ACKNOWLEDGED"
    return notice.severity.value.upper()


def summary(notice: Notice) -> str:
    """``[CRITICAL] HighErrorRate on checkout`` -- the subject line / SMS first line / Slack fallback."""
    return f"[{status_word(notice)}] {notice.title}"


def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def labels_line(notice: Notice) -> str:
    items = sorted(notice.labels.items())
    shown = ", ".join(f"{k}={v}" for k, v in items[:_LABELS_SHOWN])
    if len(items) > _LABELS_SHOWN:
        shown += f", ... ({len(items) - _LABELS_SHOWN} more)"
    return shown


def alert_lines(notice: Notice) -> list[str]:
    lines = []
    for alert in notice.alerts[:_ALERTS_SHOWN]:
        labels = alert.get("labels") or {}
        name = labels.get("alertname") or alert.get("rule") or "alert"
        state = alert.get("state", "")
        extra = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
        lines.append(f"- {name} {state}".rstrip() + (f" ({extra})" if extra else ""))
    if len(notice.alerts) > _ALERTS_SHOWN:
        lines.append(f"- ... and {len(notice.alerts) - _ALERTS_SHOWN} more")
    return lines


def plain_text(notice: Notice) -> str:
    """The full plain-text body (email text part, apprise message)."""
    parts = [summary(notice), ""]
    if notice.text:
        parts += [notice.text, ""]
    parts.append(f"Severity: {notice.severity.value}")
    parts.append(f"Kind: {notice.kind.value}")
    parts.append(f"At: {iso_time(notice.created_at)}")
    if notice.incident_id is not None:
        parts.append(f"Incident: #{notice.incident_id}")
    if notice.labels:
        parts.append(f"Labels: {labels_line(notice)}")
    if notice.alerts:
        parts += ["", f"Alerts ({len(notice.alerts)}):", *alert_lines(notice)]
    if notice.url:
        parts += ["", notice.url]
    return "\n".join(parts) + "\n"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
