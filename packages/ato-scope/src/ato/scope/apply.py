"""Building one scope's config: initial config → argparse defaults → views → argparse flags
→ CLI overrides → deferred lazy blocks → lazy views, with provenance recorded at each step."""

from __future__ import annotations

import copy
from collections import namedtuple
from collections.abc import Iterable, Mapping, Sequence

from ato.adict import ADict
from ato.adict.suggest import did_you_mean

from .built import BuildRecord, attach, new_config
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
from .views import View, short_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_is_auto = ADict.is_auto.fget


class Request:
    """What a build asks of one scope: view names, overrides, command words and the keys
    named after ``explain`` (from the command line), and ``extra`` values applied after the
    command line under the provenance name ``extra_source``."""

    def __init__(
        self,
        views: list[str] | None = None,
        overrides: list[Override] | None = None,
        commands: list[str] | None = None,
        explain_keys: list[str] | None = None,
        extra: Mapping[str, Any] | None = None,
        extra_source: str = "extra",
    ) -> None:
        self.views = views or []
        self.overrides = overrides or []
        self.commands = commands or []
        self.explain_keys = explain_keys or []
        self.extra = extra
        self.extra_source = extra_source


def check_extra(extra: Any, source: Any) -> None:
    """Check the ``extra=``/``source=`` arguments of ``Scope.build``.

    Raises:
        TypeError: ``extra`` is not a mapping (or None), a key is not a non-empty string
            without empty dotted segments, or ``source`` is not a non-empty string.
    """
    if not isinstance(source, str) or not source:
        raise TypeError(f"build(source=...) takes a non-empty string, not {source!r}")
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise TypeError(
            f"build(extra=...) takes a mapping of dotted keys to values, not {type(extra).__name__}"
        )
    for key in extra:
        if not isinstance(key, str) or not all(key.split(".")):
            raise TypeError(
                f"build(extra=...): key {key!r} is not a key or dotted path such as 'optim.lr'"
            )


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
        self.config = new_config()
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
    strict: bool = True,
) -> BuildResult:
    """Apply every step to a fresh auto ADict and return it (auto-nesting switched off),
    carrying the record of this build (`ato.scope.built`).

    Raises:
        UnknownKeyError: with ``strict``, a CLI override (``key=v``) names a key no step
            defines; ``+key=v`` adds a key on purpose, ``++key=v`` adds or overrides.
        KeyExistsError: ``+key=v`` names a key that exists.
        OverrideTypeError: with ``strict``, an override cannot be converted to the key's type
            (``ato.scope.overrides``), also for a key only a lazy step writes.
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
    if request.extra is not None:
        _apply_extra(b, request.extra, request.extra_source)
    lazy_paths: set[str] = set()
    for view, block in blocks:
        block.run()
        where = f"{short_path(block.file)}:{block.line}"
        lazy_paths.update(_written(b.step(Source("lazy", view.name, where))))
    for view in (v for v in views if v.lazy):
        lazy_paths.update(_written(_run_view(b, view, None)))
    _check_unknown(b, request.overrides, before_cli, lazy_paths)
    ADict.set_auto(b.config, False)
    attach(b.config, BuildRecord(scope_name, b.applied, b.log.writes))
    return BuildResult(b.config, b.log, b.applied)


def _written(changes: Mapping[str, Any]) -> list[str]:
    """The paths of a step's changes that it wrote (not the ones it removed)."""
    return [path for path, value in changes.items() if value is not DELETED]


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


def _apply_extra(b: _Builder, extra: Mapping[str, Any], label: str) -> None:
    """Set each ``{dotted path: value}`` of ``extra`` (a copy), recorded as ``label``."""
    source = Source("extra", label)
    for key, value in extra.items():
        ADict.set_path(b.config, key, copy.deepcopy(value))
        b.log.record_override(key, value, source)
    after = _flatten_auto(b.config)
    gone = leaves(b.snapshot).keys() - leaves(after).keys()
    b.log.record(dict.fromkeys(gone, DELETED), source)
    b.snapshot = after
    b.applied.append(f"({label})")


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
        _type_problem(b, problem)
    return value


def _type_problem(b: _Builder, problem: str) -> None:
    """Raise OverrideTypeError (strict) or warn OverrideTypeWarning for ``problem``."""
    if b.strict:
        raise OverrideTypeError(problem)
    import warnings

    warnings.warn(
        problem + "; the value was used as given (Scope(strict=False))",
        OverrideTypeWarning,
        stacklevel=_user_level(),
    )


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
    """After the lazy steps: an override (``key=v``) of a key that no step before the command
    line defined must name a key a lazy step wrote, and fit the type of what it wrote."""
    if not overrides:
        return
    defined = all_paths(before_cli)
    written_lazily = _prefixes(lazy)
    for ov in overrides:
        if ov.mode != "set" or ov.key in defined:
            continue
        if ov.key in written_lazily:
            problem = fit(ov, lookup(b.snapshot, ov.key))[1]
            if problem is not None:
                _type_problem(b, f"{problem} (a lazy step writes it)")
            continue
        _unknown_key(b, ov, sorted(defined | written_lazily))


def _unknown_key(b: _Builder, ov: Override, known: list[str]) -> None:
    hint = did_you_mean(ov.key, known, cutoff=0.75)
    message = (
        f"CLI override {ov.token!r} sets key {ov.key!r}, which no view of scope "
        f"{b.scope_name!r} defines.{hint}"
    )
    on_purpose = f"+{ov.token.lstrip('+')}"
    if b.strict:
        raise UnknownKeyError(
            f"{message} To add a new key on purpose, write {on_purpose!r} (or define the key "
            "in a view)."
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
