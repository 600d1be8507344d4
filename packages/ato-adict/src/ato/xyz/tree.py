"""ato 2.x's node tree of an XYZ document: `convert_structure_to_tree` and
`convert_tree_to_structure` (``from ato.xyz import ...``).

A tree has one root `Node` (``value='root'``, ``value_type='key'``). Each mapping entry is a
child of ``value_type='key'`` (its ``value`` is the key), each list item a child of
``value_type='index'`` (its ``value`` is the position) and each scalar a leaf of
``value_type='value'`` under its entry. ``node_type`` says what a node holds: ``'dict'``,
``'iter'`` (a list), ``'item'`` (one scalar) or ``'value'`` (the leaf itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from ato.adict.xyz import dumps_value

__all__ = ["Node", "convert_structure_to_tree", "convert_tree_to_structure"]

_CHILD_TYPE = {"key": "dict", "index": "iter", "value": "item"}


class Node:
    """One node of the tree (see the module docstring for the attributes)."""

    def __init__(self, value: Any, value_type: str, parent: Node | None = None) -> None:
        self.value = value
        self.value_type = value_type
        self.node_type = "value"
        self.parent = parent
        self.children: list[Node] = []

    def add_child(self, child: Node) -> Node:
        """Append ``child`` (its ``parent`` becomes this node) and return it; this node's
        ``node_type`` follows the child's ``value_type``."""
        child.parent = self
        self.children.append(child)
        self.node_type = _CHILD_TYPE[child.value_type]
        return child

    def dumps(self) -> str:
        """The XYZ text of what this node holds (as ``ato.xyz.dumps`` writes it)."""
        return dumps_value(convert_tree_to_structure(self))

    def __repr__(self) -> str:
        return f"Node({self.value!r}, {self.value_type!r}, node_type={self.node_type!r})"


def convert_structure_to_tree(structure: Any) -> Node:
    """The tree of ``structure`` (nested mappings, lists/tuples/sets and scalars)."""
    root = Node("root", "key")
    _fill(root, structure)
    return root


def _fill(node: Node, structure: Any) -> None:
    if isinstance(structure, Mapping):
        node.node_type = "dict"
        for key, value in structure.items():
            _fill(node.add_child(Node(key, "key")), value)
    elif isinstance(structure, (list, tuple, Set)):
        node.node_type = "iter"
        for index, value in enumerate(structure):
            _fill(node.add_child(Node(index, "index")), value)
    else:
        node.add_child(Node(structure, "value"))


def convert_tree_to_structure(node: Node) -> Any:
    """The nested ``dict``/``list``/scalar a tree stands for (inverse of
    `convert_structure_to_tree`).

    Raises:
        ValueError: a node's ``node_type`` is not one of the four kinds, or a list has a gap
            in its item positions (naming the node).
    """
    if node.node_type == "dict":
        return {child.value: convert_tree_to_structure(child) for child in node.children}
    if node.node_type == "iter":
        positions = [child.value for child in node.children]
        if positions != list(range(len(positions))):
            raise ValueError(f"{node!r}: list item positions {positions} are not 0, 1, 2, ...")
        return [convert_tree_to_structure(child) for child in node.children]
    if node.node_type == "item":
        return node.children[0].value
    if node.node_type == "value":
        return node.value
    raise ValueError(f"{node!r}: node_type must be 'dict', 'iter', 'item' or 'value'")
