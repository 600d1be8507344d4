"""Running a command line against one or more scopes: builds, then ``manual``/``print``/
``explain`` reports (which end the process with ``SystemExit``)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from ato.adict import ADict
from ato.adict.suggest import did_you_mean

from .apply import Request
from .report import explain_section, framed, manual_section, matches

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def run_commands(
    scopes: Sequence[Any], requests: Mapping[str, Request], multi: bool
) -> dict[str, ADict]:
    """Build every scope for its request and handle the command words.

    Returns:
        ``{scope name: built ADict}`` when no command word was given.
    Raises:
        SystemExit: 0 after ``manual``/``print``/``explain``; 2 for ``explain`` of an unknown key.
    """
    commands = {c for r in requests.values() for c in r.commands}
    if "manual" in commands:
        print(manual_text(scopes, multi, requests))
        raise SystemExit(0)
    results = {s.name: s.build_request(requests[s.name]) for s in scopes}
    configs = {name: r.config for name, r in results.items()}
    if "print" in commands:
        shown = ADict(configs) if multi else configs[scopes[0].name]
        text = ADict.to_xyz(shown)
        print(text, end="" if text.endswith("\n") else "\n")
    if "explain" in commands:
        keys = [k for r in requests.values() for k in r.explain_keys]
        code = explain(scopes, keys, multi)
        raise SystemExit(code)
    if commands:
        raise SystemExit(0)
    return configs


def manual_text(
    scopes: Sequence[Any], multi: bool, requests: Mapping[str, Request] | None = None
) -> str:
    """The ``manual`` report of ``scopes`` (plus the argparse help when one was used): per
    scope, the order of the views that apply for its request (none: no views named) and,
    apart, the views that do not apply."""
    sections = []
    for s in scopes:
        named = requests[s.name].views if requests is not None else []
        prefix = f"{s.name}." if multi else ""
        order, idle = s.applying_order(named), s.views_not_applied(named)
        sections.append(manual_section(s.name, order, s.manual_entries(), prefix, idle))
    parsers = list({id(s.parser): s.parser for s in scopes if s.parser is not None}.values())
    for parser in parsers:
        sections.append("(Command-Line Flags)\n" + parser.format_help().rstrip())
    return framed(sections)


def explain(scopes: Sequence[Any], keys: Sequence[str], multi: bool) -> int:
    """Print the provenance report; returns the exit status (2 if a key matches nothing).

    ``keys`` empty: every key of every scope. Under a MultiScope a key may carry its scope's
    prefix (``model.lr``) or not (``lr``: that key in every scope), and a bare scope name
    (``model``) selects all of that scope's keys.
    """
    sections = []
    found: set[str] = set()
    for scope in scopes:
        writes = scope.provenance
        hits = []
        for key in keys:
            local = _local_key(scope.name, key, multi)
            if matches(writes, local):
                hits.append(local)
                found.add(key)
        whole = multi and scope.name in keys  # ``explain model``: every key of that scope
        if whole:
            found.add(scope.name)
        if keys and not hits and not whole:
            continue
        prefix = f"{scope.name}." if multi else ""
        shown = None if whole else hits or None
        sections.append(explain_section(scope.name, scope.applied_views, writes, shown, prefix))
    missing = [k for k in keys if k not in found]
    if sections:
        print(framed(sections))
    for key in missing:
        known = [f"{s.name}.{k}" if multi else k for s in scopes for k in s.provenance]
        hint = did_you_mean(key, known)
        print(f"explain: no key {key!r} in the config.{hint}", file=sys.stderr)
    return 2 if missing else 0


def _local_key(name: str, key: str, multi: bool) -> str:
    head, _, rest = key.partition(".")
    return rest if multi and head == name and rest else key
