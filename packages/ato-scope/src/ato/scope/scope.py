"""``Scope``: a named config built from priority-ordered views and the command line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from types import MappingProxyType
from typing import ClassVar

from ato.adict import ADict

from .apply import BuildResult, ExternalArgs, Request, build, check_extra
from .cli import (
    Command,
    Item,
    Override,
    Word,
    command_line,
    exit_on_usage_error,
    parse_argv,
)
from .compat import AssignApply
from .errors import ViewDefinitionError
from .fingerprint import Fingerprint, runtime_fingerprint, static_fingerprint
from .injection import InjectionSwitch, call_with, check_parameters
from .lazy import LazyBlock
from .provenance import Write, flatten
from .views import View, ViewRegistry, check_view_name, normalize_chain
from .workflow import run_commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, TypeVar

    from .external import ParsedCommandLine

    F = TypeVar("F", bound=Callable[..., Any])


class Scope(InjectionSwitch, AssignApply):
    """A config built from *views*, command-line overrides and (optionally) argparse flags.

    ``Scope.registry`` maps each scope name to the latest scope created with that name (ato
    2.x code reads it); ``initialize_registry`` clears it between test cases.

    Args:
        config: an initial mapping, applied below every view (deep-copied on each build).
        name: the name of the parameter the config is injected into, and of the scope in
            ``manual``/``explain`` output and under a [`MultiScope`][ato.scope.MultiScope] (``name.key=v``).
        use_external_parser: merge the flags of an ``argparse`` parser: defaults below the
            views, explicitly passed flags above them (see `ato.scope.external`). Register
            the parser with ``parser=`` or `use_parser`; without one, the program's first
            ``parse_args()`` call is taken as the parser (the ato 2.x form).
        strict: True (the default, as Hydra): a CLI override of a key that no view defines
            raises [`UnknownKeyError`][ato.scope.UnknownKeyError] unless written ``+key=value``
            (add) or ``++key=value`` (add or override), and a value that cannot be converted to
            the key's type raises [`OverrideTypeError`][ato.scope.OverrideTypeError] (from the
            command line: ``prog: error: ...`` and exit status 2). False keeps ato 2.x's
            permissive behaviour: such keys are added (an
            [`UnknownKeyWarning`][ato.scope.UnknownKeyWarning] when one is close to a defined
            key) and such values used as parsed, with an
            [`OverrideTypeWarning`][ato.scope.OverrideTypeWarning].
        parser: an ``argparse.ArgumentParser`` whose flags this scope merges (implies
            ``use_external_parser=True``); see `use_parser`.

    Order of application on every build: initial config → argparse defaults → default and
    named views by priority (ties: definition order) → argparse flags → CLI overrides →
    ``extra`` values given to `build` → deferred ``with Scope.lazy():`` blocks → lazy
    views by priority.

    Raises:
        ViewDefinitionError: ``name`` is not an identifier.
        TypeError: ``config`` is not a mapping.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        name: str = "config",
        use_external_parser: bool = False,
        strict: bool = True,
        parser: argparse.ArgumentParser | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ViewDefinitionError(f"Scope name must be an identifier, got {name!r}")
        if config is not None and not isinstance(config, Mapping):
            raise TypeError(f"Scope(config=...) takes a mapping, not {type(config).__name__}")
        self.name = name
        self.strict = strict
        self.use_external_parser = use_external_parser or parser is not None
        self._parser: argparse.ArgumentParser | None = None
        self._adopted: ParsedCommandLine | None = None
        self._external: ExternalArgs | None = None
        self._initial = config
        self._views = ViewRegistry()
        self._manuals: list[Callable[[Any], Any]] = []
        self._active = True
        self._fingerprints: dict[str, Fingerprint] = {}
        self._last: BuildResult | None = None
        Scope.registry[name] = self
        if parser is not None:
            self.use_parser(parser)
        elif use_external_parser:
            from . import external

            external.capture_next_parse(self)

    registry: ClassVar[dict[str, Scope]] = {}

    @classmethod
    def initialize_registry(cls) -> None:
        """Forget every scope created so far (as tests of ato 2.x projects do between cases):
        empties ``registry``; scopes built with ``use_external_parser=True`` and no
        parser stop waiting for a ``parse_args()`` call and forget the one they took. Scopes
        still referenced keep working when used directly."""
        from . import external

        for scope in cls.registry.values():
            scope._adopted = None
        cls.registry.clear()
        external.stop_capture()

    def __repr__(self) -> str:
        return f"Scope(name={self.name!r}, views={self._views.names()!r})"

    # -- argparse ------------------------------------------------------------------------
    def use_parser(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """Merge ``parser``'s flags into every build from the command line (returns ``parser``).

        The scope parses the command line with it (ato tokens may sit next to its flags;
        see `ato.scope.external`); while a decorated function's config is being built, a
        ``parser.parse_args()`` call on this parser object returns the same values. No
        ``ArgumentParser`` method is replaced for the process, and other parsers are untouched.

        Raises:
            TypeError: ``parser`` is not an ``argparse.ArgumentParser``.
        """
        import argparse

        if not isinstance(parser, argparse.ArgumentParser):
            raise TypeError(
                f"use_parser takes an argparse.ArgumentParser, not {type(parser).__name__}"
            )
        from . import external

        external.stop_capture(self)
        self._parser, self._adopted = parser, None
        self.use_external_parser = True
        return parser

    @property
    def parser(self) -> argparse.ArgumentParser | None:
        """The registered ``argparse`` parser (None without one)."""
        return self._parser

    def adopt_parse(self, parsed: ParsedCommandLine) -> None:
        """ato 2.x form: take a ``parse_args()`` call the program made as this scope's parser
        and command line (called by `ato.scope.external`)."""
        self._parser, self._adopted = parsed.parser, parsed

    # -- defining views ------------------------------------------------------------------
    def observe(
        self,
        name_or_fn: Any = None,
        mapping: Mapping[str, Any] | None = None,
        *,
        default: bool = False,
        priority: int = 0,
        lazy: bool = False,
        chain_with: str | Iterable[str] | None = None,
    ) -> Any:
        """Register a view.

        Forms:
            ``@scope.observe(...)`` on ``def view(config): ...`` (named after the function);
            ``@scope.observe`` without parentheses; ``@scope.observe('name', ...)`` to choose
            the name; ``scope.observe('name', mapping, ...)`` for a config-valued view that is
            deep-merged into the config.

        Args:
            default: apply on every run; otherwise only when named on the command line.
            priority: lower first; ties keep definition order.
            lazy: apply after the command-line overrides.
            chain_with: a view name or list of names applied whenever this view is.

        Re-defining a name replaces the old view (keeping its position among equal
        priorities), so re-running a notebook cell never leaves stale views.

        Raises:
            ViewDefinitionError: bad name (not an identifier, or a command word) or arguments.
        """
        if not isinstance(priority, (int, float)) or isinstance(priority, bool):
            raise ViewDefinitionError(f"priority must be a number, got {priority!r}")
        chain = normalize_chain(chain_with)
        options: dict[str, Any] = {
            "default": default,
            "priority": priority,
            "lazy": lazy,
            "chain_with": chain,
        }
        if callable(name_or_fn) and mapping is None:
            return self._add_function(name_or_fn, None, options)
        if mapping is not None:
            if not isinstance(mapping, Mapping):
                raise ViewDefinitionError(
                    f"scope.observe({name_or_fn!r}, ...) takes a mapping, not "
                    f"{type(mapping).__name__}"
                )
            caller = sys._getframe(1)
            check_view_name(name_or_fn)
            file, line = caller.f_code.co_filename, caller.f_lineno
            self._views.add(View(name_or_fn, mapping, file=file, line=line, **options))
            return mapping
        if name_or_fn is not None and not isinstance(name_or_fn, str):
            raise ViewDefinitionError(
                f"scope.observe takes a function, a name or (name, mapping), not {name_or_fn!r}"
            )
        return lambda fn: self._add_function(fn, name_or_fn, options)

    def _add_function(self, fn: F, name: str | None, options: dict[str, Any]) -> F:
        if not callable(fn):
            raise ViewDefinitionError(f"@scope.observe must decorate a function, not {fn!r}")
        view_name = name or getattr(fn, "__name__", None)
        check_view_name(view_name)
        file, line = definition_site(fn)
        # check_view_name raised unless view_name is a str; mypy cannot see that
        self._views.add(View(view_name, fn, file=file, line=line, **options))  # type: ignore[arg-type]
        return fn

    def manual(self, fn: F) -> F:
        """Register a manual: ``fn(docs)`` sets ``docs.key = 'description'`` for each key.

        ``manual`` (or ``-h``/``--help``) on the command line prints these entries.
        """
        if not callable(fn):
            raise ViewDefinitionError(f"@scope.manual must decorate a function, not {fn!r}")
        name = getattr(fn, "__qualname__", None)
        self._manuals = [m for m in self._manuals if getattr(m, "__qualname__", 0) != name]
        self._manuals.append(fn)
        return fn

    @staticmethod
    def lazy() -> LazyBlock:
        """``with Scope.lazy():`` inside a view defers the block until after the CLI overrides.

        See `ato.scope.lazy` for how the block is captured and replayed.
        """
        return LazyBlock()

    # -- building ------------------------------------------------------------------------
    @property
    def view_names(self) -> list[str]:
        """Names of the registered views, in definition order."""
        return self._views.names()

    def has_view(self, name: str) -> bool:
        """True when a view called ``name`` is registered."""
        return name in self._views

    def build(
        self,
        argv: Sequence[str] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        source: str = "extra",
    ) -> ADict:
        """Build the config for ``argv`` (default: the process's command line).

        Args:
            argv: command-line tokens (``['high_lr', 'lr=0.1']``); with a registered parser
                they may hold its flags too.
            extra: ``{key or dotted path: value}`` applied after the command line, above
                every view, argparse flag and CLI override; lazy blocks and lazy views run
                after it and see its values. Values are deep-copied. A tool that drives the
                program (a hyperparameter search) passes its values here.
            source: the name ``explain`` and `provenance` show for the ``extra`` values
                (``lr = 0.1 ← search``) and the step's name in `applied_views`
                (``'(search)'``).

        ``manual``, ``-h``/``--help``, ``print`` and ``explain`` print their report and raise
        ``SystemExit(0)`` (``explain KEY`` with an unknown key: ``SystemExit(2)``).

        Returns:
            a fresh ADict (auto-nesting off: a misspelt key raises with a suggestion).
        Raises:
            CLIParseError, UnknownViewError, ViewChainError, UnknownKeyError: see their docs.
                When ``argv`` is None (the real command line), the usage errors among them
                (CLIParseError, UnknownViewError, UnknownKeyError) instead print
                ``prog: error: ...`` to stderr and exit with status 2.
        """
        check_extra(extra, source)
        if argv is None:
            with self._answering():
                return exit_on_usage_error(lambda: self._build_tokens(None, extra, source))
        return self._build_tokens(argv, extra, source)

    def _build_tokens(
        self, argv: Sequence[str] | None, extra: Mapping[str, Any] | None, source: str
    ) -> ADict:
        request = self.request_from(parse_argv(self._argv(argv)))
        request.extra, request.extra_source = extra, source
        return run_commands([self], {self.name: request}, multi=False)[self.name]

    def _answering(self) -> Any:
        if self._parser is None:
            return nullcontext()
        from . import external

        return external.answering(self._parser)

    def request_from(self, items: Sequence[Item]) -> Request:
        """Turn parsed argv items into this scope's `Request`."""
        request = Request()
        words = iter_words(items, lambda w: w in self._views, request)
        for word in words:
            if word not in self._views:
                raise self._views.unknown(word)
            request.views.append(word)
        request.overrides.extend(i for i in items if isinstance(i, Override))
        return request

    def _argv(self, argv: Sequence[str] | None) -> list[str]:
        """The scope's tokens of ``argv`` (None: the command line); with a parser, parses its
        flags out of them and keeps their values for the next build."""
        self._external = None
        if self._parser is None:
            return command_line() if argv is None else list(argv)
        from . import external

        if argv is None and self._adopted is not None:
            parsed = self._adopted
        else:
            parsed = external.parse(self._parser, command_line() if argv is None else argv)
        self._external = parsed.args
        return list(parsed.argv)

    def external_args(self) -> ExternalArgs | None:
        """The argparse values of the latest build's command line (None without a parser)."""
        return self._external

    def build_request(self, request: Request) -> BuildResult:
        """Apply views and overrides for ``request``; remembers the result for inspection."""
        views = self._views.resolve(request.views)
        result = build(self.name, self._initial, views, request, self._external, self.strict)
        self._last = result
        return result

    @property
    def config(self) -> ADict | None:
        """The config of the latest build (None before the first)."""
        return self._last.config if self._last else None

    @property
    def provenance(self) -> Mapping[str, list[Write]]:
        """Per-key writes of the latest build: ``{dotted key: [Write(value, source), ...]}``,
        oldest first. Empty before the first build."""
        return MappingProxyType(self._last.provenance.writes if self._last else {})

    @property
    def applied_views(self) -> list[str]:
        """Step names of the latest build in order, with ``'(CLI Inputs)'`` marking the CLI."""
        return list(self._last.applied) if self._last else []

    def applying_order(self, requested: Sequence[str] | None = None) -> list[str]:
        """The steps in the order they apply, with ``'(CLI Inputs)'`` marking the command line.

        Args:
            requested: view names typed on a command line: only the views that apply then
                (the default views, these, and the views they chain with; what ``manual``
                shows). ``None``: every view, as if all were selected.
        Raises:
            UnknownViewError: a requested name is not a view.
        """
        views = self._views.all_in_order() if requested is None else self._views.resolve(requested)
        order = [v.name for v in views if not v.lazy]
        if self.use_external_parser:
            order = ["(argparse defaults)", *order, "(argparse flags)"]
        return [*order, "(CLI Inputs)", *(v.name for v in views if v.lazy)]

    def views_not_applied(self, requested: Sequence[str] = ()) -> list[str]:
        """Views that do not apply for the view names ``requested`` (in the order they would
        apply if named); ``manual`` lists them apart from the applying order.

        Raises:
            UnknownViewError: a requested name is not a view.
        """
        applying = {v.name for v in self._views.resolve(requested)}
        return [v.name for v in self._views.all_in_order() if v.name not in applying]

    def manual_entries(self) -> dict[str, str]:
        """``{dotted key: description}`` from every ``@scope.manual`` function."""
        entries: dict[str, str] = {}
        for fn in self._manuals:
            docs = ADict.auto()
            fn(docs)
            entries.update({k: str(v) for k, v in flatten(docs).items()})
        return entries

    # -- injection -----------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        """Decorate ``fn`` so each call builds the config and passes it as the parameter named
        after the scope (positionally or by keyword; other arguments are left alone). Passing
        that argument explicitly, or a paused scope, skips the build.

        Raises:
            ViewDefinitionError: ``fn`` has no parameter named after the scope.
        """
        signature = check_parameters(fn, [self.name])

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self._active or self.name in kwargs:
                return fn(*args, **kwargs)
            return call_with(fn, signature, {self.name: self.build()}, args, kwargs)

        # wraps() keeps fn's signature; naming F needs a run-time cast (typing is not imported)
        return wrapper  # type: ignore[return-value]

    # -- fingerprints --------------------------------------------------------------------
    @property
    def fingerprints(self) -> Mapping[str, Fingerprint]:
        """``{trace_id: Fingerprint(kind, sha256 hex)}`` recorded by `trace` and
        `runtime_trace`, for the tracker to store with a run."""
        return MappingProxyType(self._fingerprints)

    def trace(self, trace_id: str | None = None) -> Callable[[F], F]:
        """Decorator recording a static fingerprint of the function's normalized source
        (algorithm: `ato.scope.fingerprint`) under ``trace_id`` (default: qualname).

        Raises:
            TraceError: the function has no retrievable source.
        """

        def decorate(fn: F) -> F:
            key = trace_id or fn.__qualname__
            self._fingerprints[key] = Fingerprint("static", static_fingerprint(fn))
            return fn

        return decorate

    def runtime_trace(
        self,
        init_fn: Callable[[], Any] | None = None,
        inspect_fn: Callable[[Any], Any] | None = None,
        trace_id: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator fingerprinting the function's output on every call.

        Args:
            init_fn: called with no arguments before each call (e.g. to seed RNGs).
            inspect_fn: maps the output to what is hashed (e.g. ``lambda t: t.tolist()``).
            trace_id: key in `fingerprints` (default: the function's qualname).

        The output is returned unchanged; the hash is SHA-256 of its pickle (else repr).
        """

        def decorate(fn: F) -> F:
            key = trace_id or fn.__qualname__

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if init_fn is not None:
                    init_fn()
                output = fn(*args, **kwargs)
                inspected = inspect_fn(output) if inspect_fn is not None else output
                self._fingerprints[key] = Fingerprint("runtime", runtime_fingerprint(inspected))
                return output

            # wraps() keeps fn's signature; naming F needs a run-time cast
            return wrapper  # type: ignore[return-value]

        return decorate


def definition_site(fn: Callable[..., Any]) -> tuple[str, int]:
    """``(file, line of the def statement)`` of ``fn`` (decorator lines skipped)."""
    import linecache

    code = getattr(fn, "__code__", None)
    if code is None:
        return "<unknown>", 0
    line = code.co_firstlineno
    lines = linecache.getlines(code.co_filename)
    for number in range(line, min(line + 50, len(lines) + 1)):
        if lines[number - 1].lstrip().startswith(("def ", "async def ")):
            return code.co_filename, number
    return code.co_filename, line


def iter_words(
    items: Sequence[Item], is_view: Callable[[str], bool], request: Request
) -> list[str]:
    """Collect commands into ``request`` and return the bare words that name views.

    Words right after ``explain`` are keys to explain, except words that name views.
    """
    words: list[str] = []
    after_explain = False
    for item in items:
        if isinstance(item, Command):
            request.commands.append(item.name)
            after_explain = item.name == "explain"
        elif isinstance(item, Word):
            after_explain = after_explain and not is_view(item.name)
            if after_explain:
                request.explain_keys.append(item.name)
            else:
                words.append(item.name)
        else:
            after_explain = False
    return words
