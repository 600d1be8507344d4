"""How ato reads and writes YAML: the rules of OmegaConf/Hydra, safely, within bounds.

Reading (``Loader``, a ``yaml.SafeLoader`` subclass; the global PyYAML loaders are not
changed):

* YAML 1.1 scalars as PyYAML's safe loader reads them, with OmegaConf's two changes: a number
  in exponent notation without a dot (``1e-3``, ``5E+2``) is a float, and there are no
  timestamps (``2024-01-01`` stays a string). ``true``/``false``/``yes``/``no``/``on``/``off``
  are bools and ``~``/``null`` is ``None``, as in OmegaConf.
* A key written twice in one mapping is refused (a ``<<`` merge key's entries may be
  overridden by the mapping's own keys, as YAML intends).
* Nesting deeper than ``MAX_DEPTH`` (a ``<<`` merge counts as a level),
  recursive aliases, aliases expanding to more than
  ``MAX_ALIAS_NODES`` extra values and integers longer than Python's
  digit limit are refused before any Python object is built.

Writing (``dump``): ``yaml.safe_dump`` with key order kept, where a string is quoted
whenever a YAML 1.1 reader (PyYAML), a YAML 1.2 core-schema reader (ruamel.yaml, go-yaml v3,
js-yaml) or OmegaConf would read it unquoted as a number, bool, null or date (a git hash such
as ``695e0514`` is quoted).
"""

from __future__ import annotations

import re

import yaml

from .limits import MAX_ALIAS_NODES, MAX_DEPTH, int_digit_limit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"
# OmegaConf's float resolver: YAML 1.1 floats plus exponents without a dot (1e-3).
_OMEGACONF_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
# Plain scalars some other common YAML reader takes for a non-string (YAML 1.2 core schema
# numbers, YAML 1.1 one-letter bools); the writer quotes strings matching any of them.
_OTHER_READERS = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9_]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |0o[0-7]+|0x[0-9a-fA-F]+|0b[01_]+
    |[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[yYnN]|~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$""",
    re.X,
)


class LimitError(yaml.MarkedYAMLError):
    """A document that breaks one of ato's rules (duplicate key, depth, aliases, digits)."""


class Loader(yaml.SafeLoader):
    """Safe loader with OmegaConf's scalar rules and ato's bounds (see the module docstring)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.alias_uses: list[tuple[Any, Any]] = []  # (node named, mark of the alias)

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH and self.check_event(
                yaml.SequenceStartEvent, yaml.MappingStartEvent
            ):
                raise LimitError(
                    problem=f"nested deeper than {MAX_DEPTH} levels of mappings and lists, "
                    "the most ato reads",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            if self.check_event(yaml.AliasEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                node = super().compose_node(parent, index)
                self.alias_uses.append((node, mark))
                return node
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_mapping_node(self, anchor: Any) -> Any:
        node = super().compose_mapping_node(anchor)
        _refuse_duplicates(self, node)  # on the pairs as written, before any '<<' merge
        return node

    def construct_yaml_int(self, node: Any) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            raise LimitError(
                problem=f"an integer with more than {int_digit_limit()} digits, more than "
                "Python reads; quote it to keep it as a string",
                problem_mark=node.start_mark,
            ) from None


Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
Loader.add_implicit_resolver(_FLOAT, _OMEGACONF_FLOAT, list("-+0123456789."))
Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != _TIMESTAMP]
    for first, resolvers in Loader.yaml_implicit_resolvers.items()
}


def _refuse_duplicates(loader: Loader, node: yaml.MappingNode) -> None:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == _MERGE or not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise LimitError(
                problem=f"duplicate key {key!r} (first on line {seen[key]}); "
                "each key may appear once per mapping",
                problem_mark=key_node.start_mark,
            )
        seen[key] = line


def check_node(root: yaml.Node, alias_uses: Sequence[tuple[Any, Any]] = ()) -> None:
    """Refuse a composed document that would expand too much or contains itself.

    Counts values (mapping values, list items, ``<<`` merges) as if every alias were a copy,
    visiting each node once; the cost is linear in the size of the file.

    Args:
        root: the composed document.
        alias_uses: the loader's ``alias_uses``, to name the alias that crosses the limit.

    Raises:
        LimitError: with the mark of the offending alias or node.
    """
    done: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    active: set[int] = set()
    written = 1
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            active.discard(id(node))
            done[id(node)] = _measure(node, done)
            continue
        if id(node) in done:  # named twice before it was measured
            continue
        if id(node) in active:
            raise LimitError(
                problem="a recursive alias (a value that contains itself); config files hold "
                "trees of values",
                problem_mark=node.start_mark,
            )
        active.add(id(node))
        stack.append((node, True))
        for child in _node_children(node):
            written += 1
            if child.__class__ is not yaml.ScalarNode and id(child) not in done:
                stack.append((child, False))
    extra = done[id(root)][0] - written
    if extra > MAX_ALIAS_NODES:
        raise LimitError(
            problem=f"aliases expand this document by {extra} values, more than the "
            f"{MAX_ALIAS_NODES} allowed (this alias crosses the limit)",
            problem_mark=_crossing_alias(alias_uses, done) or root.start_mark,
        )


def _crossing_alias(alias_uses: Sequence[tuple[Any, Any]], done: dict[int, tuple[int, int]]) -> Any:
    """The mark of the first alias at which the values added so far exceed the limit."""
    added = 0
    for node, mark in alias_uses:
        added += done.get(id(node), (1, 0))[0] - 1
        if added > MAX_ALIAS_NODES:
            return mark
    return None


def _measure(node: yaml.Node, done: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """Expanded size and height of a collection node whose children are measured."""
    size, height = 1, 0
    for child in _node_children(node):
        if child.__class__ is yaml.ScalarNode:
            size += 1
            continue
        child_size, child_height = done[id(child)]
        size += child_size
        height = child_height if child_height > height else height
    if height + 1 > MAX_DEPTH:
        raise LimitError(
            problem=f"nested deeper than {MAX_DEPTH} levels of mappings and lists "
            "(counting each alias and '<<' merge as a copy), the most ato reads",
            problem_mark=node.start_mark,
        )
    return size, height + 1


def _node_children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [value for _, value in node.value]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


class Dumper(yaml.SafeDumper):
    """Safe dumper that quotes strings other YAML readers would not read back as strings."""


Dumper.add_implicit_resolver("tag:ato,2026:not-a-string", _OTHER_READERS, None)
Dumper.add_implicit_resolver("tag:ato,2026:not-a-string", _OMEGACONF_FLOAT, None)


def dump(data: Any, allow_unicode: bool) -> str:
    """YAML text of plain data (key order kept, block style)."""
    return yaml.dump(
        data,
        Dumper=Dumper,
        sort_keys=False,
        allow_unicode=allow_unicode,
        default_flow_style=False,
    )
