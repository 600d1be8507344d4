"""ato.adict: ``ADict``, the attribute-access config dictionary of ato.

Importing this package is cheap: file-format libraries (PyYAML, tomli/tomllib, tomli-w)
are imported only when a file of that format is read or written.
"""

from .core import ADict
from .errors import (
    ADictError,
    CompositionError,
    ConfigFileError,
    ConfigKeyError,
    FrozenConfigError,
    UnsupportedFormatError,
)

__all__ = [
    "ADict",
    "ADictError",
    "CompositionError",
    "ConfigFileError",
    "ConfigKeyError",
    "FrozenConfigError",
    "UnsupportedFormatError",
]
__version__ = "3.0.0"
