"""The direction of a metric to optimize: ``'max'`` or ``'min'``, checked once for every package."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    Mode = Literal["max", "min"]

MODES = ("max", "min")


def check_mode(mode: object, error: type[Exception] = ValueError, what: str = "mode") -> Mode:
    """Return ``mode`` if it is ``'max'`` or ``'min'``.

    Args:
        mode: the value given.
        error: the exception class raised (called with the message); each package passes its
            own (``ato.tracker.InvalidModeError``, ``ato.hyperopt.SearchSettingError``).
        what: the setting's name in the message.

    Raises:
        error: for anything else, with the message
            ``"<what> must be 'max' or 'min', got <mode!r>"`` and a hint for near misses
            (``'maximize'``, ``'Min'``).
    """
    if mode == "max" or mode == "min":
        return mode
    from .suggest import did_you_mean

    hint = ""
    if isinstance(mode, str):
        lowered = mode.strip().lower()
        head = lowered[:3]
        hint = f" Did you mean {head!r}?" if head in MODES else did_you_mean(lowered, MODES)
    raise error(f"{what} must be 'max' or 'min', got {mode!r}.{hint}")
