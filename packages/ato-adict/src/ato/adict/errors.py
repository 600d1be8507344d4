"""Exceptions raised by ato.adict.

Each derives from the builtin that existing ``except`` clauses expect, so code written
against plain dicts keeps working.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable


class ADictError(Exception):
    """Base class of every error raised by ato.adict."""


class ConfigKeyError(ADictError, KeyError, AttributeError):
    """A key is missing. Raised for both ``cfg['x']`` and ``cfg.x``.

    It is a `KeyError` *and* an `AttributeError`, so ``hasattr``,
    ``getattr(cfg, 'x', default)`` and ``except KeyError`` all behave as expected.
    """

    def __str__(self) -> str:  # KeyError quotes its argument; keep our message readable.
        return str(self.args[0]) if self.args else ""


class FrozenConfigError(ADictError, TypeError):
    """A write was attempted on a frozen (read-only) ADict."""


class ConfigFileError(ADictError, ValueError):
    """A config file could not be read or written.

    Attributes:
        path: the file concerned (``str``).
        line: 1-based line number the parser reported, or ``None``.
    """

    def __init__(self, message: str, path: object = None, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}" + (f", line {line}" if line is not None else "") + ": "
        super().__init__(where + message)


class ConfigFileNotFoundError(ADictError, FileNotFoundError):
    """A config file does not exist. Also a `FileNotFoundError`; ``str()`` names the path.

    Attributes:
        path: the missing file (``str``).
    """

    def __init__(self, path: object, hint: str = "") -> None:
        self.path = str(path)
        super().__init__(f"config file not found: {self.path}" + (f" ({hint})" if hint else ""))

    def __str__(self) -> str:
        return str(self.args[0])


class UnsupportedFormatError(ConfigFileError):
    """The file extension is not one ato.adict can read or write."""


class XYZSyntaxError(ConfigFileError):
    """XYZ text could not be parsed; ``line`` is the 1-based line number."""


class CompositionError(ADictError, ValueError):
    """``compose_hierarchy`` or an OpenMMLab ``_base_`` chain could not be resolved."""


class CompositionWarning(UserWarning):
    """Issued by ``compose_hierarchy(..., on_missing='warn')`` for a missing config file."""


def suggest_keys(key: object, keys: Iterable[object]) -> str:
    """The hint that ends a missing-key message: up to three close matches of ``key`` among
    the string ``keys`` (``difflib.get_close_matches``, cutoff 0.6), else the first 12 keys
    (of any type), else a note that the config is empty. Starts with a space."""
    import difflib

    every = list(keys)
    names = [k for k in every if isinstance(k, str)]
    close = difflib.get_close_matches(str(key), names, n=3, cutoff=0.6)
    if close:
        return f" Did you mean {', '.join(repr(c) for c in close)}?"
    if every:
        shown = ", ".join(repr(k) for k in every[:12]) + (" ..." if len(every) > 12 else "")
        return f" Available keys: {shown}."
    return " The config is empty."
