"""``MultiScope``: several independent scopes injected into one function by parameter name."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ato.adict import ADict

from .apply import Request
from .cli import Override, command_line, exit_on_usage_error, parse_argv
from .errors import CLIParseError, UnknownViewError, ViewDefinitionError
from .fingerprint import Fingerprint
from .injection import InjectionSwitch, call_with, check_parameters
from .scope import Scope, iter_words
from .suggest import did_you_mean
from .workflow import run_commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T", bound=Callable[..., Any])


class MultiScope(InjectionSwitch):
    """Independent scopes (each with its own views and priorities) used together.

    ``@multi`` injects each scope's config into the parameter named after that scope. On the
    command line ``model.lr=0.1`` reaches only the scope named ``model``, a bare view name goes
    to the scope that defines it (``model.resnet101`` picks one explicitly), and ``manual``,
    ``print``, ``explain`` report every scope.

    Raises:
        ViewDefinitionError: no scopes, a non-Scope argument, or two scopes with one name.
    """

    def __init__(self, *scopes: Scope) -> None:
        if not scopes:
            raise ViewDefinitionError("MultiScope needs at least one Scope")
        names = [getattr(s, "name", None) for s in scopes]
        for scope in scopes:
            if not isinstance(scope, Scope):
                raise ViewDefinitionError(f"MultiScope takes Scope objects, not {scope!r}")
        if len(set(names)) != len(names):
            raise ViewDefinitionError(
                f"MultiScope scopes need distinct names, got {names}; use Scope(name=...)"
            )
        self.scopes: tuple[Scope, ...] = scopes
        self._by_name = {s.name: s for s in scopes}
        self._active = True

    def __repr__(self) -> str:
        return f"MultiScope({', '.join(repr(s) for s in self.scopes)})"

    def build(self, argv: Sequence[str] | None = None) -> dict[str, ADict]:
        """Build every scope for ``argv`` (default: the command line); ``{name: config}``.

        Raises:
            CLIParseError: an override without a scope prefix (``lr=1`` instead of ``model.lr=1``).
            UnknownViewError: a view name no scope defines, or one defined by several scopes.
                When ``argv`` is None (the real command line), these print
                ``prog: error: ...`` to stderr and exit with status 2 instead.
        """
        if argv is None:
            return exit_on_usage_error(lambda: self.build(self._argv(None)))
        items = parse_argv(list(argv))
        requests = self.requests_from(items)
        return run_commands(list(self.scopes), requests, multi=True)

    def _argv(self, argv: Sequence[str] | None) -> list[str]:
        if argv is not None:
            return list(argv)
        for scope in self.scopes:
            if scope.use_external_parser:
                return scope._argv(None)
        return command_line()

    def requests_from(self, items: Sequence[Any]) -> dict[str, Request]:
        """Split parsed argv items into one request per scope."""
        shared = Request()
        words = iter_words(items, self._is_view, shared)
        requests = {
            name: Request(commands=list(shared.commands), explain_keys=list(shared.explain_keys))
            for name in self._by_name
        }
        for word in words:
            owner, view = self._owner_of(word)
            requests[owner].views.append(view)
        for item in items:
            if isinstance(item, Override):
                name, _, key = item.key.partition(".")
                if name not in self._by_name or not key:
                    raise CLIParseError(
                        f"under a MultiScope every key starts with a scope name "
                        f"({', '.join(n + '.' + (key or name) for n in self._by_name)})",
                        item.token,
                    )
                requests[name].overrides.append(item.with_key(key))
        return requests

    def _is_view(self, word: str) -> bool:
        try:
            self._owner_of(word)
        except UnknownViewError:
            return False
        return True

    def _owner_of(self, word: str) -> tuple[str, str]:
        head, _, rest = word.partition(".")
        if rest and head in self._by_name:
            scope = self._by_name[head]
            if not scope.has_view(rest):
                raise scope._views.unknown(rest, f" in scope {head!r}")
            return head, rest
        owners = [s.name for s in self.scopes if s.has_view(word)]
        if len(owners) > 1:
            raise UnknownViewError(
                f"view {word!r} is defined by scopes {owners}; name one, e.g. {owners[0]}.{word}"
            )
        if not owners:
            known = [f"{s.name}.{v}" for s in self.scopes for v in s.view_names]
            plain = [v for s in self.scopes for v in s.view_names]
            hint = did_you_mean(word, plain + known)
            raise UnknownViewError(
                f"unknown view {word!r}.{hint} Known views: {', '.join(known) or '(none)'}."
            )
        return owners[0], word

    def __call__(self, fn: T) -> T:
        """Decorate ``fn``: each call builds all scopes and passes each config to the parameter
        of its scope's name (unless the caller passes it by keyword, or the MultiScope is paused).

        Raises:
            ViewDefinitionError: ``fn`` lacks a parameter for one of the scopes.
        """
        names = list(self._by_name)
        signature = check_parameters(fn, names)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self._active or all(n in kwargs for n in names):
                return fn(*args, **kwargs)
            configs = self.build()
            injected = {n: c for n, c in configs.items() if n not in kwargs}
            return call_with(fn, signature, injected, args, kwargs)

        # wraps() keeps fn's signature; naming T needs a run-time cast (typing is not imported)
        return wrapper  # type: ignore[return-value]

    @property
    def fingerprints(self) -> Mapping[str, Fingerprint]:
        """All scopes' fingerprints merged (``{trace_id: Fingerprint}``)."""
        merged: dict[str, Fingerprint] = {}
        for scope in self.scopes:
            merged.update(scope.fingerprints)
        return MappingProxyType(merged)

    @property
    def provenance(self) -> Mapping[str, Mapping[str, Any]]:
        """``{scope name: that scope's provenance}`` of the latest build."""
        return MappingProxyType({s.name: s.provenance for s in self.scopes})
