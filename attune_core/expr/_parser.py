"""Recursive-descent parser: tokens -> syntax tree.

Grammar, lowest precedence first (the reference's "Workflow Expression Engine")::

    expr       := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | comparison
    comparison := additive (("==" | "!=" | "<" | ">" | "<=" | ">=" | "in") additive)?
    additive   := multiplicative (("+" | "-") multiplicative)*
    multiplicative := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | postfix
    postfix    := primary ("." (NAME | KEYWORD | INT) | "[" expr "]")*
    primary    := NUMBER | STRING | "true" | "false" | "null" | NAME | NAME "(" args ")"
                | "(" expr ")" | "[" items "]" | "{" entries "}"

Rules of this file:

1. Nesting (parentheses, brackets, braces, call arguments, unary operators) is counted *before*
   recursing and capped at ``MAX_NESTING``, so hostile input such as ``((((...`` fails with an
   ExpressionError instead of a RecursionError, here and in the compiler and evaluator.
2. Comparisons do not chain: ``a < b < c`` is a syntax error telling the author to use ``and``,
   rather than silently meaning ``(a < b) < c``.
3. Only named functions can be called (``length(x)``); there are no methods, so no expression
   can reach an attribute of a host object.
"""

from __future__ import annotations

from typing import Final

from attune_core.expr import _ast as ast
from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import MAX_NESTING
from attune_core.expr._tokenizer import EOF, KW, NAME, NUM, OP, STR, Token, tokenize

__all__ = ["parse"]

_COMPARISONS: Final = frozenset({"==", "!=", "<", ">", "<=", ">="})
_LITERAL_KINDS: Final = {
    int: "number",
    float: "number",
    str: "string",
    bool: "boolean",
    type(None): "null",
}


def _describe(token: Token) -> str:
    if token.kind == EOF:
        return "end of expression"
    if token.kind == STR:
        return "a string"
    if token.kind == NUM:
        return f"number {token.value!r}"
    return repr(token.value)


class _Parser:
    __slots__ = ("depth", "index", "tokens")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    # -- helpers ---------------------------------------------------------------------------

    def peek(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != EOF:
            self.index += 1
        return token

    def at_op(self, op: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == OP and token.value == op

    def at_kw(self, word: str) -> bool:
        token = self.tokens[self.index]
        return token.kind == KW and token.value == word

    def expect_op(self, op: str, context: str) -> Token:
        token = self.tokens[self.index]
        if token.kind == OP and token.value == op:
            self.index += 1
            return token
        raise self.error(f"expected {op!r} {context}, found {_describe(token)}", token)

    @staticmethod
    def error(message: str, token: Token) -> ExpressionError:
        return ExpressionError(message, column=token.pos + 1)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"expression is nested too deeply (limit {MAX_NESTING})", token)

    def leave(self) -> None:
        self.depth -= 1

    # -- grammar ---------------------------------------------------------------------------

    def parse(self) -> ast.Node:
        if self.peek().kind == EOF:
            raise self.error("empty expression", self.peek())
        node = self.expr()
        token = self.peek()
        if token.kind != EOF:
            raise self.error(f"unexpected {_describe(token)} after the expression", token)
        return node

    def expr(self) -> ast.Node:
        return self.or_()

    def or_(self) -> ast.Node:
        first = self.and_()
        if not self.at_kw("or"):
            return first
        pos = self.peek().pos
        operands = [first]
        while self.at_kw("or"):
            self.advance()
            operands.append(self.and_())
        return ast.Or(tuple(operands), pos)

    def and_(self) -> ast.Node:
        first = self.not_()
        if not self.at_kw("and"):
            return first
        pos = self.peek().pos
        operands = [first]
        while self.at_kw("and"):
            self.advance()
            operands.append(self.not_())
        return ast.And(tuple(operands), pos)

    def not_(self) -> ast.Node:
        if self.at_kw("not"):
            token = self.advance()
            self.enter(token)
            operand = self.not_()
            self.leave()
            return ast.Not(operand, token.pos)
        return self.comparison()

    def comparison(self) -> ast.Node:
        left = self.additive()
        token = self.peek()
        if token.kind == OP and token.value in _COMPARISONS:
            op = str(token.value)
        elif token.kind == KW and token.value == "in":
            op = "in"
        else:
            if token.kind == KW and token.value == "not":
                following = self.tokens[self.index + 1]
                if following.kind == KW and following.value == "in":
                    raise self.error("'not in' is not an operator: write not (x in y)", token)
            return left
        self.advance()
        right = self.additive()
        following = self.peek()
        if (following.kind == OP and following.value in _COMPARISONS) or (
            following.kind == KW and following.value == "in"
        ):
            raise self.error(
                "comparisons cannot be chained: combine them with 'and' (write a < b and b < c)",
                following,
            )
        return ast.Compare(op, left, right, token.pos)

    def additive(self) -> ast.Node:
        first = self.multiplicative()
        token = self.peek()
        if not (token.kind == OP and token.value in ("+", "-")):
            return first
        rest: list[tuple[str, ast.Node, int]] = []
        while token.kind == OP and token.value in ("+", "-"):
            self.advance()
            rest.append((str(token.value), self.multiplicative(), token.pos))
            token = self.peek()
        return ast.Arith(first, tuple(rest), rest[0][2])

    def multiplicative(self) -> ast.Node:
        first = self.unary()
        token = self.peek()
        if not (token.kind == OP and token.value in ("*", "/", "%")):
            return first
        rest: list[tuple[str, ast.Node, int]] = []
        while token.kind == OP and token.value in ("*", "/", "%"):
            self.advance()
            rest.append((str(token.value), self.unary(), token.pos))
            token = self.peek()
        return ast.Arith(first, tuple(rest), rest[0][2])

    def unary(self) -> ast.Node:
        if self.at_op("-"):
            token = self.advance()
            self.enter(token)
            operand = self.unary()
            self.leave()
            if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
                # Fold -3 into a literal: cheaper to evaluate, and the common case by far.
                return ast.Literal(-operand.value, token.pos)
            return ast.Neg(operand, token.pos)
        return self.postfix()

    def postfix(self) -> ast.Node:
        base = self.primary()
        steps: list[ast.Step] = []
        while True:
            token = self.peek()
            if token.kind != OP:
                break
            if token.value == ".":
                self.advance()
                name = self.advance()
                if name.kind in (NAME, KW) or (name.kind == NUM and type(name.value) is int):
                    if not steps and isinstance(base, ast.Literal):
                        # 1.e5, "abc".length: always null, certainly not what was meant.
                        raise self.error(
                            f"a {_LITERAL_KINDS[type(base.value)]} literal has no fields", token
                        )
                    steps.append(ast.Member(str(name.value), token.pos))
                else:
                    raise self.error(
                        f"expected a field name after '.', found {_describe(name)}", name
                    )
            elif token.value == "[":
                self.advance()
                self.enter(token)
                key = self.expr()
                self.leave()
                self.expect_op("]", "to close the index")
                steps.append(ast.Index(key, token.pos))
            elif token.value == "(":
                raise self.error(
                    "only named functions can be called, e.g. length(x); there are no methods",
                    token,
                )
            else:
                break
        if not steps:
            return base
        return ast.Path(base, tuple(steps), steps[0].pos)

    def primary(self) -> ast.Node:
        token = self.advance()
        kind = token.kind
        if kind in (NUM, STR):
            return ast.Literal(token.value, token.pos)
        if kind == NAME:
            if self.at_op("("):
                return self.call(token)
            return ast.Name(str(token.value), token.pos)
        if kind == KW:
            word = token.value
            if word == "true":
                return ast.Literal(True, token.pos)
            if word == "false":
                return ast.Literal(False, token.pos)
            if word == "null":
                return ast.Literal(None, token.pos)
            raise self.error(f"unexpected {word!r}: an operand is missing", token)
        if kind == OP:
            if token.value == "(":
                self.enter(token)
                node = self.expr()
                self.leave()
                self.expect_op(")", "to close the parenthesis")
                return node
            if token.value == "[":
                return self.array(token)
            if token.value == "{":
                return self.object(token)
            raise self.error(f"unexpected {token.value!r}: an operand is missing", token)
        if kind == EOF:
            raise self.error("unexpected end of expression: an operand is missing", token)
        raise self.error(f"unexpected {_describe(token)}", token)  # pragma: no cover

    def call(self, name: Token) -> ast.Node:
        opening = self.advance()
        self.enter(opening)
        args: list[ast.Node] = []
        while not self.at_op(")") and self.peek().kind != EOF:
            args.append(self.expr())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op(")", f"to close the arguments of {name.value}()")
        self.leave()
        return ast.Call(str(name.value), tuple(args), name.pos)

    def array(self, opening: Token) -> ast.Node:
        self.enter(opening)
        items: list[ast.Node] = []
        while not self.at_op("]") and self.peek().kind != EOF:
            items.append(self.expr())
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op("]", "to close the array")
        self.leave()
        return ast.ArrayLit(tuple(items), opening.pos)

    def object(self, opening: Token) -> ast.Node:
        self.enter(opening)
        entries: list[tuple[str, ast.Node]] = []
        while not self.at_op("}") and self.peek().kind != EOF:
            key = self.advance()
            if key.kind != STR:
                raise self.error(f"object keys must be quoted strings, found {_describe(key)}", key)
            self.expect_op(":", "after the object key")
            entries.append((str(key.value), self.expr()))
            if not self.at_op(","):
                break
            self.advance()
        self.expect_op("}", "to close the object")
        self.leave()
        return ast.ObjectLit(tuple(entries), opening.pos)


def parse(text: str, start: int = 0, end: int | None = None) -> ast.Node:
    """Parse the expression ``text[start:end]``; positions stay relative to ``text``.

    Raises:
        ExpressionError: on any syntax error, with the 1-based column in ``text``.
    """
    return _Parser(tokenize(text, start, end)).parse()
