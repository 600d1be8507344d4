"""Text shown by the reserved command words: ``manual``, ``print`` and ``explain``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .provenance import DELETED, Write

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RULE = "-" * 50
ARROW = " → "


def manual_section(
    name: str,
    order: Sequence[str],
    entries: Mapping[str, str],
    prefix: str = "",
    not_applied: Sequence[str] = (),
) -> str:
    """One scope's manual: the order of the views that apply, the views that do not (if any),
    then ``key: text`` lines.

    ``prefix`` (``'model.'`` under a MultiScope) is put before every manual key.
    """
    lines = [f'[Scope "{name}"]', "(The Applying Order of Views)", ARROW.join(order), ""]
    if not_applied:
        lines += ["(Views Not Applied: name one on the command line to apply it)"]
        lines += [", ".join(not_applied), ""]
    lines.append("(User Manuals)")
    if entries:
        lines.extend(f"{prefix}{key}: {text}" for key, text in entries.items())
    else:
        lines.append("(none: document keys with @scope.manual)")
    return "\n".join(lines)


def framed(sections: Sequence[str]) -> str:
    """Sections separated and surrounded by dashed rules."""
    out = [RULE]
    for section in sections:
        out.extend([section, RULE])
    return "\n".join(out)


def _show(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def explain_section(
    name: str,
    applied: Sequence[str],
    writes: Mapping[str, list[Write]],
    keys: Sequence[str] | None = None,
    prefix: str = "",
) -> str:
    """Provenance of one scope: for each key, the final value and its source, then the
    earlier writes it overrode (newest first).

    ``keys`` restricts the report to these keys and the keys below them.
    """
    lines = [f'[Scope "{name}"]', "(The Applied Order of Views)", ARROW.join(applied), ""]
    lines.append("(Provenance: key = final value ← source; overrode = earlier writes)")
    selected = [k for k in writes if keys is None or any(_under(k, q) for q in keys)]
    for key in selected:
        history = writes[key]
        final = history[-1]
        if final.value is DELETED and keys is None:
            continue
        lines.append(f"{prefix}{key} = {_show(final.value)} ← {final.source}")
        for earlier in reversed(history[:-1]):
            lines.append(f"    overrode {_show(earlier.value)} ← {earlier.source}")
    return "\n".join(lines)


def _under(key: str, query: str) -> bool:
    return key == query or key.startswith(query + ".")


def matches(writes: Mapping[str, Any], query: str) -> bool:
    """True when ``query`` names a recorded key or a key below it."""
    return any(_under(k, query) for k in writes)
