"""Passing built configs to a decorated function by parameter name."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .errors import ViewDefinitionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import inspect
    from typing import Any


def check_parameters(fn: Callable[..., Any], names: Sequence[str]) -> inspect.Signature:
    """The signature of ``fn``, after checking it has a parameter for each name.

    Raises:
        ViewDefinitionError: naming the missing parameter and what to do.
    """
    import inspect

    if not callable(fn):
        raise ViewDefinitionError(f"a scope decorates functions, not {fn!r}")
    signature = inspect.signature(fn)
    for name in names:
        if name not in signature.parameters:
            raise ViewDefinitionError(
                f"{getattr(fn, '__qualname__', fn)!r} has no parameter named {name!r}; the "
                f"config is passed by name: add a parameter {name!r} or build the scope with "
                f"Scope(name=...) matching an existing parameter"
            )
    return signature


def call_with(
    fn: Callable[..., Any],
    signature: inspect.Signature,
    injected: Mapping[str, Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Call ``fn`` with ``injected`` values in their parameters' slots.

    Caller arguments fill the other parameters in order; an injected parameter passed by
    keyword by the caller keeps the caller's value.
    """
    remaining = {k: v for k, v in injected.items() if k not in kwargs}
    pending = list(args)
    call_args: list[Any] = []
    skipped = False
    for param in signature.parameters.values():
        if param.kind is param.VAR_POSITIONAL:
            call_args.extend(pending)
            pending = []
        elif param.kind not in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
            continue
        elif param.name in remaining and (pending or param.kind is param.POSITIONAL_ONLY):
            if not skipped:
                call_args.append(remaining.pop(param.name))
        elif param.name in remaining:
            continue
        elif pending and not skipped:
            call_args.append(pending.pop(0))
        else:
            skipped = True
    call_args.extend(pending)
    return fn(*call_args, **remaining, **kwargs)


class InjectionSwitch:
    """Turns config injection on and off; shared by [`Scope`][ato.scope.Scope] and [`MultiScope`][ato.scope.MultiScope]."""

    _active = True

    @property
    def active(self) -> bool:
        """False while injection is turned off by `pause` / `deactivate`."""
        return self._active

    def activate(self) -> None:
        """Turn config injection back on."""
        self._active = True

    def deactivate(self) -> None:
        """Turn config injection off: decorated functions are called with their own arguments."""
        self._active = False

    def pause(self) -> Pause:
        """Turn injection off now; as a context manager, restore the previous state on exit."""
        return Pause(self)


class Pause:
    """What `InjectionSwitch.pause` returns: injection is off until ``__exit__``."""

    def __init__(self, switch: InjectionSwitch) -> None:
        self._switch = switch
        self._was_active = switch.active
        switch.deactivate()

    def __enter__(self) -> Pause:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._was_active:
            self._switch.activate()
