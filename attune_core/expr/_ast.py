"""Syntax tree of an expression.

Rules of this file:

1. Nodes are immutable data; they carry ``pos``, the 0-based index of the token that an error
   about the node should point at (the operator for binary operations, the name for calls).
2. Left-associative chains (``a or b or c``, ``a + b - c``, ``a.b[0].c``) are one n-ary node,
   not a left-deep tree: a long chain then costs no nesting depth, so the parser's nesting
   limit bounds the recursion of the compiler and of evaluation for every expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "And",
    "Arith",
    "ArrayLit",
    "Call",
    "Compare",
    "Index",
    "Literal",
    "Member",
    "Name",
    "Neg",
    "Node",
    "Not",
    "ObjectLit",
    "Or",
    "Path",
    "Step",
]


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class ArrayLit:
    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class ObjectLit:
    entries: tuple[tuple[str, Node], ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Member:
    """``.name`` (or ``.0`` on an array)."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Index:
    """``[expr]``."""

    key: Node
    pos: int


Step = Member | Index


@dataclass(frozen=True, slots=True)
class Path:
    base: Node
    steps: tuple[Step, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Arith:
    """``first (op operand)*`` for one precedence level: ``+ -`` or ``* / %``."""

    first: Node
    rest: tuple[tuple[str, Node, int], ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Compare:
    """``==, !=, <, >, <=, >=`` or ``in``; comparisons do not chain."""

    op: str
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]
    pos: int


Node = Literal | Name | ArrayLit | ObjectLit | Call | Path | Neg | Not | Arith | Compare | And | Or
