"""Tokenizer: source text -> list of tokens.

Rules of this file:

1. Positions are 0-based indices into the *whole* text handed in (the template string for a
   ``{{ }}`` segment), so every later error can name a column of what the author wrote.
2. Every regular expression here is linear: alternatives are disjoint and no quantified group
   can match the same text two ways, so hostile input cannot make tokenizing slow.
3. Literal values are decoded here (numbers range-checked, string escapes resolved) so the
   parser and evaluator only ever see valid JSON-like values.
"""

from __future__ import annotations

import math
import re
from typing import Final, NamedTuple

from attune_core.expr._errors import ExpressionError
from attune_core.expr._limits import INT_MAX

__all__ = ["KEYWORDS", "Token", "find_template_end", "tokenize"]

# Token kinds.
NUM: Final = "num"
STR: Final = "str"
NAME: Final = "name"
KW: Final = "kw"
OP: Final = "op"
EOF: Final = "eof"

KEYWORDS: Final = frozenset({"and", "or", "not", "in", "true", "false", "null"})


class Token(NamedTuple):
    kind: str
    value: object
    pos: int


_TOKEN_RE = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<num>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    |(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>==|!=|<=|>=|[<>+\-*/%()\[\]{},.:])
    """,
    re.VERBOSE | re.DOTALL | re.ASCII,
)
_INT_RE = re.compile(r"[0-9]+", re.ASCII)
_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|.)", re.DOTALL)
_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "0": "\0",
    "/": "/",
    "\\": "\\",
    '"': '"',
    "'": "'",
}

_HINTS: Final = {
    "|": " (filters are not supported: call a function instead, e.g. upper(x))",
    "!": " (use 'not' for negation and '!=' for inequality)",
    "&": " (use 'and')",
    "=": " (use '==' to compare)",
}


def _error(message: str, pos: int) -> ExpressionError:
    return ExpressionError(message, column=pos + 1)


def _unescape_one(match: re.Match[str]) -> str:
    body = match.group(1)
    if body[0] == "u" and len(body) == 5:
        return chr(int(body[1:], 16))
    decoded = _ESCAPES.get(body)
    # An unknown escape keeps its backslash so regex patterns such as '\d+' work as written.
    return decoded if decoded is not None else "\\" + body


def _decode_string(raw: str, pos: int) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    text = _ESCAPE_RE.sub(_unescape_one, body)
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        # \uD83D\uDE00 style pairs (as JSON writes non-BMP characters) become one character;
        # a lone surrogate cannot be a valid string.
        try:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise _error("invalid \\u escape: unpaired surrogate", pos) from None
    return text


def _decode_number(raw: str, pos: int) -> int | float:
    if "." in raw or "e" in raw or "E" in raw:
        value = float(raw)
        if not math.isfinite(value):
            raise _error(f"number {raw} is out of range", pos)
        return value
    if len(raw) > 19 or int(raw) > INT_MAX:
        raise _error(f"integer {raw} is out of range (64-bit)", pos)
    return int(raw)


def tokenize(text: str, start: int = 0, end: int | None = None) -> list[Token]:
    """Split ``text[start:end]`` into tokens, ending with an ``eof`` token at ``end``.

    Raises:
        ExpressionError: on a character that starts no token or an unterminated string.
    """
    if end is None:
        end = len(text)
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN_RE.match
    pos = start
    while pos < end:
        m = match(text, pos, end)
        if m is None:
            ch = text[pos]
            if ch in "\"'":
                raise _error("unterminated string", pos)
            raise _error(f"unexpected character {ch!r}{_HINTS.get(ch, '')}", pos)
        kind = m.lastgroup
        raw = m.group()
        if kind == "ws":
            pass
        elif kind == "name":
            append(Token(KW if raw in KEYWORDS else NAME, raw, pos))
        elif kind == "op":
            append(Token(OP, raw, pos))
        elif kind == "str":
            append(Token(STR, _decode_string(raw, pos), pos))
        else:
            if tokens and tokens[-1].kind == OP and tokens[-1].value == ".":
                # After a dot a number is a member index (event.payload.tags.0), so "0.1" in
                # a.0.1 must be two steps, not the float 0.1.
                im = _INT_RE.match(text, pos, end)
                assert im is not None
                raw = im.group()
                append(Token(NUM, _decode_number(raw, pos), pos))
                pos += len(raw)
                continue
            append(Token(NUM, _decode_number(raw, pos), pos))
        pos = m.end()
    append(Token(EOF, None, end))
    return tokens


def find_template_end(text: str, start: int) -> int:
    """Return the index of the ``}}`` closing the ``{{`` segment whose body starts at ``start``.

    Strings are skipped (a ``"}}"`` literal does not close the segment) and braces of object
    literals are balanced, so ``{{ {"a": {"b": 1}} }}`` closes at the last ``}}``. Returns -1
    when the segment is not closed.
    """
    depth = 0
    pos = start
    length = len(text)
    match = _TOKEN_RE.match
    while pos < length:
        ch = text[pos]
        if ch == "}":
            if depth == 0:
                return pos if text.startswith("}}", pos) else -1
            depth -= 1
            pos += 1
            continue
        if ch == "{":
            depth += 1
            pos += 1
            continue
        m = match(text, pos)
        if m is None:
            # Unknown character or unterminated string: let the tokenizer report it with its
            # column by treating the rest as the segment body when no close follows.
            return text.find("}}", pos)
        pos = m.end()
    return -1
