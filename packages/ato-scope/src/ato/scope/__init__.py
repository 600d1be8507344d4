"""ato.scope: configs built from priority-ordered views and a safe command line.

``Scope`` collects *views* (functions or mappings that edit a config), applies them in a
documented order together with command-line overrides, injects the result into your function
by parameter name, and records which step wrote every key (``scope.provenance``, the
``explain`` command). ``MultiScope`` combines independent scopes. Command-line values are
parsed as literals and never executed.
"""

from .cli import parse_argv, parse_value
from .compat import parse_args_pythonic
from .errors import (
    CLIParseError,
    KeyExistsError,
    LazyBlockError,
    OverrideTypeError,
    OverrideTypeWarning,
    ScopeError,
    TraceError,
    UnknownKeyError,
    UnknownKeyWarning,
    UnknownViewError,
    ViewChainError,
    ViewDefinitionError,
)
from .fingerprint import Fingerprint
from .multi import MultiScope
from .provenance import DELETED, Source, Write
from .scope import Scope

__all__ = [
    "CLIParseError",
    "DELETED",
    "Fingerprint",
    "KeyExistsError",
    "LazyBlockError",
    "MultiScope",
    "OverrideTypeError",
    "OverrideTypeWarning",
    "Scope",
    "ScopeError",
    "Source",
    "TraceError",
    "UnknownKeyError",
    "UnknownKeyWarning",
    "UnknownViewError",
    "ViewChainError",
    "ViewDefinitionError",
    "Write",
    "parse_args_pythonic",
    "parse_argv",
    "parse_value",
]
__version__ = "3.0.0"
