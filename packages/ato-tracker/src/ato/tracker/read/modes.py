"""Metric directions: which value of a metric is best, per key.

A ``Modes`` answers ``mode_for(key) -> 'max' | 'min'``. It is built from the text the
``ato`` command takes (``--mode loss=min,acc=max``; a bare ``min`` or ``max`` sets every key)
or from a mapping. Keys without an explicit direction use the default: ``'min'`` when the
key's last segment (after ``/`` or ``.``) names a quantity that is better when smaller
(``LOWER_IS_BETTER``: losses, errors, perplexity), else ``'max'``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ato.adict.modes import MODES, check_mode

from ..errors import InvalidModeError, ModeSpecError

#: Words that make a key default to ``'min'`` when they appear in its last segment.
LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "ppl", "wer", "cer")
_WORD = re.compile(r"[a-z]+")


def default_mode(key: str) -> str:
    """``'min'`` for keys like ``loss``, ``val/loss``, ``train_error``, ``test.mse``; else ``'max'``."""
    last = re.split(r"[/.]", key)[-1].lower()
    return "min" if any(word in LOWER_IS_BETTER for word in _WORD.findall(last)) else "max"


@dataclass(frozen=True)
class Modes:
    """Directions per metric key.

    Attributes:
        per_key: ``{key: 'max' | 'min'}`` given explicitly.
        default: direction of every other key; ``None`` means ``default_mode``.
    """

    per_key: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def mode_for(self, key: str) -> str:
        """``'max'`` or ``'min'`` for metric ``key``."""
        if key in self.per_key:
            return self.per_key[key]
        return self.default if self.default is not None else default_mode(key)

    @classmethod
    def parse(cls, text: str | None) -> Modes:
        """``None`` -> per-key defaults; ``'max'``/``'min'`` -> every key; ``'loss=min,acc=max'``
        -> those keys, the rest by default; ``'max,loss=min'`` -> ``loss`` min, the rest max.

        Raises:
            ModeSpecError: an item is neither ``max``/``min`` nor ``KEY=max|min`` (a ``ValueError``).
        """
        if text is None:
            return cls()
        per_key: dict[str, str] = {}
        default: str | None = None
        for item in (part.strip() for part in text.split(",")):
            key, sep, mode = item.rpartition("=")
            mode = mode.strip().lower()
            if mode not in MODES or (sep and not key.strip()):
                raise ModeSpecError(text, item)
            if sep:
                per_key[key.strip()] = mode
            else:
                default = mode
        return cls(per_key, default)

    @classmethod
    def of(cls, mode: str | Mapping[str, str] | Modes | None) -> Modes:
        """A ``Modes`` from a bare direction, a ``{key: direction}`` mapping, a spec
        string for ``parse``, or ``None``.

        Raises:
            ModeSpecError: a malformed spec string; InvalidModeError: a bad mapping value.
        """
        if mode is None or isinstance(mode, Modes):
            return mode or cls()
        if isinstance(mode, str):
            return cls.parse(mode)
        for key, value in mode.items():
            check_mode(value, InvalidModeError, what=f"the direction of metric {key!r}")
        return cls(dict(mode))
