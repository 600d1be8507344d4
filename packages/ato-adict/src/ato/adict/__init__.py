"""ato.adict: ``ADict``, the attribute-access config dictionary of ato.

Importing this package is cheap: file-format libraries (PyYAML, tomli/tomllib, tomli-w)
and the file/composition helpers are imported only when first used.
"""

from __future__ import annotations

from .core import ADict
from .errors import (
    ADictError,
    CompositionError,
    CompositionWarning,
    ConfigFileError,
    ConfigFileNotFoundError,
    ConfigKeyError,
    FrozenConfigError,
    UnsupportedFormatError,
    XYZSyntaxError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # for type checkers and API docs; at run time see __getattr__ below
    from .compose import compose_hierarchy
    from .files import dump_file, load_file
    from .mmconfig import load_mm_config

# Functions served lazily from their modules (module-level __getattr__, PEP 562).
_LAZY = {
    "load_file": "files",
    "dump_file": "files",
    "compose_hierarchy": "compose",
    "load_mm_config": "mmconfig",
}

__all__ = [
    "ADict",
    "ADictError",
    "CompositionError",
    "CompositionWarning",
    "ConfigFileError",
    "ConfigFileNotFoundError",
    "ConfigKeyError",
    "FrozenConfigError",
    "UnsupportedFormatError",
    "XYZSyntaxError",
    "compose_hierarchy",
    "dump_file",
    "load_file",
    "load_mm_config",
]
__version__ = "3.0.0"


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ato.adict' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{module}", __name__), name)
