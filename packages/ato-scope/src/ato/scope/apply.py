"""Building one scope's config: initial config → argparse defaults → views → argparse flags
→ CLI overrides → deferred lazy blocks → lazy views, with provenance recorded at each step."""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence

from ato.adict import ADict

from .cli import Override
from .errors import (
    KeyExistsError,
    OverrideTypeError,
    OverrideTypeWarning,
    UnknownKeyError,
    UnknownKeyWarning,
)
from .lazy import DeferredBlock, close_capture, open_capture
from .overrides import fit, is_missing, lookup
from .provenance import DELETED, ProvenanceLog, Source, all_paths, diff, leaves, snapshot
from .suggest import did_you_mean
from .views import View, short_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_is_auto = ADict.is_auto.fget


class Request:
    """What the command line asks of one scope: view names, overrides, command words and the
    keys named after ``explain``."""

    def __init__(
        self,
        views: list[str] | None = None,
        overrides: list[Override] | None = None,
        commands: list[str] | None = None,
        explain_keys: list[str] | None = None,
    ) -> None:
        self.views = views or []
        self.overrides = overrides or []
        self.commands = commands or []
        self.explain_keys = explain_keys or []


class ExternalArgs(namedtuple("ExternalArgs", "values explicit")):
    """The result of an argparse ``parse_args`` call: all values and the explicitly passed ones.

    ``explicit`` maps each passed dest to the option string the user typed (``--gpu``).
    """

    __slots__ = ()

    values: dict[str, Any]
    explicit: dict[str, str]


class BuildResult(namedtuple("BuildResult", "config provenance applied")):
    """A built config, its provenance and the names of the steps applied, in order."""

    __slots__ = ()

    config: ADict
    provenance: ProvenanceLog
    applied: list[str]


class _Builder:
    def __init__(self, scope_name: str, strict: bool) -> None:
        self.scope_name = scope_name
        self.strict = strict
        self.config = ADict.auto()
        self.log = ProvenanceLog()
        self.snapshot: dict[str, Any] = {}
        self.applied: list[str] = []

    def step(self, source: Source) -> dict[str, Any]:
        """Record what changed since the previous step against ``source``; returns the changes."""
        after = _flatten_auto(self.config)
        changes = diff(self.snapshot, after)
        self.log.record(changes, source)
        self.snapshot = after
        return changes

    def merge(self, mapping: Mapping[str, Any], source: Source) -> dict[str, Any]:
        """Deep-merge a copy of ``mapping`` and record the step; returns its changes."""
        ADict.update(self.config, copy.deepcopy(mapping), recurrent=True)
        return self.step(source)


def build(
    scope_name: str,
    initial: Mapping[str, Any] | None,
    views: Sequence[View],
    request: Request,
    external: ExternalArgs | None,
    strict: bool = False,
) -> BuildResult:
    """Apply every step to a fresh auto ADict and return it (auto-nesting switched off).

    Raises:
        UnknownKeyError: with ``strict``, a CLI override (``key=v``) names a key no step
            defines; ``+key=v`` adds a key on purpose.
        KeyExistsError: ``+key=v`` names a key that exists.
        OverrideTypeError: with ``strict``, an override does not fit the key's type
            (``ato.scope.overrides``).
    Warns:
        UnknownKeyWarning: (not strict) a CLI override creates a key close to an existing one.
        OverrideTypeWarning: (not strict) an override does not fit the key's type.
    """
    b = _Builder(scope_name, strict)
    if initial:
        b.merge(initial, Source("initial", "Scope(config=...)"))
    if external is not None:
        defaults = {k: v for k, v in external.values.items() if k not in external.explicit}
        b.merge(_nested(defaults), Source("argparse", "defaults"))
        b.applied.append("(argparse defaults)")
    blocks: list[tuple[View, DeferredBlock]] = []
    for view in (v for v in views if not v.lazy):
        _run_view(b, view, blocks)
    if external is not None:
        b.applied.append("(argparse flags)")
        for dest, flag in external.explicit.items():
            ADict.set_path(b.config, dest, copy.deepcopy(external.values[dest]))
            b.log.record_override(dest, external.values[dest], Source("argparse", flag))
        if external.explicit:
            b.snapshot = _flatten_auto(b.config)
    before_cli = b.snapshot
    _apply_overrides(b, request.overrides)
    b.applied.append("(CLI Inputs)")
    lazy_paths: set[str] = set()
    for view, block in blocks:
        block.run()
        where = f"{short_path(block.file)}:{block.line}"
        lazy_paths.update(b.step(Source("lazy", view.name, where)))
    for view in (v for v in views if v.lazy):
        lazy_paths.update(_run_view(b, view, None))
    _check_unknown(b, request.overrides, before_cli, lazy_paths)
    ADict.set_auto(b.config, False)
    return BuildResult(b.config, b.log, b.applied)


def _run_view(
    b: _Builder, view: View, blocks: list[tuple[View, DeferredBlock]] | None
) -> dict[str, Any]:
    source = Source("view", view.name, view.where)
    b.applied.append(view.name)
    if isinstance(view.source, Mapping):
        return b.merge(view.source, source)
    sink: list[DeferredBlock] = []
    token = open_capture(sink) if blocks is not None else None
    try:
        view.source(b.config)
    finally:
        if token is not None:
            close_capture(token)
    if blocks is not None:
        blocks.extend((view, block) for block in sink)
    return b.step(source)


def _apply_overrides(b: _Builder, overrides: Sequence[Override]) -> None:
    if not overrides:
        return
    for ov in overrides:
        value = _checked_value(b, ov)
        ADict.set_path(b.config, ov.key, copy.deepcopy(value))
        b.log.record_override(ov.key, value, Source("cli", ov.token))
    after = _flatten_auto(b.config)
    for path in leaves(b.snapshot).keys() - leaves(after).keys():
        owner = next(
            (
                ov
                for ov in reversed(overrides)
                if path == ov.key or path.startswith(ov.key + ".") or ov.key.startswith(path + ".")
            ),
            overrides[-1],
        )
        b.log.record({path: DELETED}, Source("cli", owner.token))
    b.snapshot = after


def _checked_value(b: _Builder, ov: Override) -> Any:
    """The value ``ov`` sets, after the ``+key`` and type rules of ``ato.scope.overrides``."""
    current = lookup(b.snapshot, ov.key)
    if ov.mode == "add" and not is_missing(current):
        raise KeyExistsError(
            f"{ov.token!r} adds key {ov.key!r}, but scope {b.scope_name!r} already defines it "
            f"({current!r}); write {ov.key}=... to change it (or ++{ov.key}=... to set it "
            "either way)"
        )
    value, problem = fit(ov, current)
    if problem is not None:
        if b.strict:
            raise OverrideTypeError(problem + " (strict scope)")
        import warnings

        warnings.warn(
            problem + "; the value was used as given", OverrideTypeWarning, stacklevel=_user_level()
        )
    return value


def _nested(values: Mapping[str, Any]) -> ADict:
    out = ADict.auto()
    for key, value in values.items():
        ADict.set_path(out, key, value)
    return out


def _flatten_auto(config: ADict) -> dict[str, Any]:
    """Snapshot, turning ADicts a view assigned (``config.data = ADict(...)``) auto-nesting."""
    return snapshot(config, on_mapping=_make_auto)


def _make_auto(node: Any) -> None:
    if isinstance(node, ADict) and not _is_auto(node):
        ADict.set_auto(node, True)


def _prefixes(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for path in paths:
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            out.add(".".join(parts[:i]))
    return out


def _check_unknown(
    b: _Builder, overrides: Sequence[Override], before_cli: Mapping[str, Any], lazy: set[str]
) -> None:
    if not overrides:
        return
    known = all_paths(before_cli) | _prefixes(lazy)
    final_keys: list[str] | None = None
    for ov in overrides:
        if ov.key in known or ov.mode != "set":
            continue
        if final_keys is None:
            final_keys = sorted(known)
        hint = did_you_mean(ov.key, final_keys, cutoff=0.75)
        message = (
            f"CLI override {ov.token!r} sets key {ov.key!r}, which no view of scope "
            f"{b.scope_name!r} defines.{hint}"
        )
        on_purpose = f"+{ov.token.lstrip('+')}"
        if b.strict:
            raise UnknownKeyError(
                f"{message} (strict scope: to add a new key on purpose, write {on_purpose!r}; "
                "or define the key in a view)"
            )
        if hint:
            import warnings

            warnings.warn(
                f"{message} The key was added; write {on_purpose!r} to add a new key on purpose.",
                UnknownKeyWarning,
                stacklevel=_user_level(),
            )


def _user_level() -> int:
    """``stacklevel`` pointing at the first frame outside ato.scope (the user's call)."""
    import os
    import sys

    here = os.path.dirname(__file__)
    frame: Any = sys._getframe(1)
    level = 1
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == here:
        frame, level = frame.f_back, level + 1
    return level
