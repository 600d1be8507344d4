"""Views: named config sources of a scope, their registry and their application order."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping

from .cli import COMMANDS, is_key
from .errors import UnknownViewError, ViewChainError, ViewDefinitionError
from .suggest import did_you_mean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class View:
    """One registered view.

    Attributes:
        name: the view's name (what the command line uses).
        source: a function ``fn(config)`` that edits the config in place, or a mapping that is
            deep-merged into it.
        priority: views are applied in ascending priority; ties keep definition order.
        default: applied on every run, without being named.
        lazy: applied after the command-line overrides.
        chain_with: names of views applied whenever this one is.
        file, line: where the view was defined (for ``explain`` and error messages).
        order: definition order inside the scope (kept when a view is re-defined).
    """

    def __init__(
        self,
        name: str,
        source: Callable[[Any], Any] | Mapping[str, Any],
        priority: float,
        default: bool,
        lazy: bool,
        chain_with: tuple[str, ...],
        file: str,
        line: int,
    ) -> None:
        self.name = name
        self.source = source
        self.priority = priority
        self.default = default
        self.lazy = lazy
        self.chain_with = chain_with
        self.file = file
        self.line = line
        self.order = 0

    def __repr__(self) -> str:
        return f"View({self.name!r}, priority={self.priority}, at {self.where})"

    @property
    def where(self) -> str:
        """``file:line`` of the definition (file relative to the working directory)."""
        return f"{short_path(self.file)}:{self.line}"

    def sort_key(self) -> tuple[float, int]:
        """``(priority, definition order)``: the application order among selected views."""
        return (self.priority, self.order)


def short_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it, else unchanged."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def normalize_chain(chain_with: str | Iterable[str] | None) -> tuple[str, ...]:
    """``chain_with`` as a tuple of names (accepts one name, a list, or None)."""
    if chain_with is None:
        return ()
    if isinstance(chain_with, str):
        return (chain_with,)
    names = tuple(chain_with)
    for name in names:
        if not isinstance(name, str):
            raise ViewDefinitionError(f"chain_with entries must be view names, got {name!r}")
    return names


def check_view_name(name: object) -> None:
    """Raise ViewDefinitionError unless ``name`` can be typed on the command line."""
    if not isinstance(name, str) or not is_key(name) or "." in name:
        raise ViewDefinitionError(
            f"view name {name!r} cannot be used on the command line; use an identifier "
            "such as high_lr"
        )
    if name in COMMANDS:
        raise ViewDefinitionError(
            f"view name {name!r} is a reserved command word ({', '.join(sorted(COMMANDS))}); "
            "rename the view"
        )


class ViewRegistry:
    """The views of one scope, by name. Re-registering a name replaces the old view in place."""

    def __init__(self) -> None:
        self._views: dict[str, View] = {}
        self._counter = 0

    def add(self, view: View) -> None:
        """Register ``view``; one with the same name is replaced and keeps its position."""
        old = self._views.get(view.name)
        if old is not None:
            view.order = old.order
        else:
            view.order = self._counter
            self._counter += 1
        self._views[view.name] = view

    def __contains__(self, name: object) -> bool:
        return name in self._views

    def __getitem__(self, name: str) -> View:
        return self._views[name]

    def names(self) -> list[str]:
        """Registered view names in definition order."""
        return list(self._views)

    def all_in_order(self) -> list[View]:
        """Every view: normal ones by priority, then lazy ones by priority."""
        return _in_application_order(self._views.values())

    def unknown(self, name: str, context: str = "") -> UnknownViewError:
        """The error for an unregistered view name, with a "did you mean" hint."""
        hint = did_you_mean(name, self._views)
        known = ", ".join(self._views) or "(none defined)"
        return UnknownViewError(f"unknown view {name!r}{context}.{hint} Known views: {known}.")

    def resolve(self, requested: Iterable[str]) -> list[View]:
        """Default views + ``requested`` + everything they chain with, in application order.

        Raises:
            UnknownViewError: a requested or chained name is not registered ("did you mean").
            ViewChainError: ``chain_with`` links form a cycle (the message shows it).
        """
        selected: dict[str, View] = {}
        for name in requested:
            if name not in self._views:
                raise self.unknown(name)
        roots = [v.name for v in self._views.values() if v.default] + list(requested)
        for name in roots:
            self._collect(name, selected, [])
        return _in_application_order(selected.values())

    def _collect(self, name: str, selected: dict[str, View], path: list[str]) -> None:
        if name in path:
            cycle = " → ".join([*path[path.index(name) :], name])
            raise ViewChainError(f"chain_with forms a cycle: {cycle}; remove one of these links")
        if name not in self._views:
            raise self.unknown(name, f" (named in chain_with of {path[-1]!r})")
        if name in selected:
            return
        view = self._views[name]
        selected[name] = view
        for chained in view.chain_with:
            self._collect(chained, selected, [*path, name])


def _in_application_order(views: Iterable[View]) -> list[View]:
    """Normal views by `View.sort_key`, then lazy views by the same key."""
    ordered = sorted(views, key=View.sort_key)
    return [v for v in ordered if not v.lazy] + [v for v in ordered if v.lazy]
