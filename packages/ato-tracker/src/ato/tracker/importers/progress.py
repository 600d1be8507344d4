"""A progress bar over the source runs of an import, shown only on a terminal (rich)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import Progress

T = TypeVar("T")


def progress_bar(
    description: str, total: int | None, show: bool | None = None
) -> Callable[[Iterable[T]], Iterator[T]]:
    """A function wrapping an iterable of runs in a progress bar on standard error.

    Args:
        description: the bar's label, e.g. ``'mlflow runs'``.
        total: the number of runs, or ``None`` when unknown (a spinner-like bar).
        show: ``True``/``False`` to force; ``None`` shows it when standard error is a terminal.
    """

    def wrap(items: Iterable[T]) -> Iterator[T]:
        console = Console(file=sys.stderr)
        visible = console.is_terminal if show is None else show
        with Progress(console=console, disable=not visible, transient=False) as bar:
            yield from bar.track(items, total=total, description=description)

    return wrap
