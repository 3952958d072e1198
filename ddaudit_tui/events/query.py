"""The Datadog log / audit search syntax, parsed once and evaluated locally over `Event` records.

Syntax (https://docs.datadoghq.com/logs/explorer/search_syntax/):

- `@field.path:value` — a facet on the inner event object (`@evt.name:Authentication`). Every value the
  event holds at that path is compared (arrays fan out); one match is enough.
- `status:`, `service:` read the record (`fields.RESERVED`); `message:` is a free-text search on the message.
  Any other `key:value` without `@` (`source:audit`, `is_mcp_call:true`, `host:web-1`) searches the OUTER
  tags list. `*:value` compares every attribute of the inner object (slow: it decodes the raw JSON).
- Values: bare words, `"quoted phrases"`, backslash escapes (`Access\\ Management`, `a\\:b`, `\\*`).
  `*` and `?` are wildcards in bare words only; inside quotes they are literal, like Datadog.
- `@field:*` — the field exists and is not null; `-@field:*` — it is missing.
- `@field:>=400`, `>`, `<`, `<=`; ranges `[400 TO 499]` (inclusive), `{400 TO 499}` (exclusive), mixed
  `[400 TO 500}`, `*` as an open bound. Numeric bounds compare numerically against numbers and numeric strings
  (`"200"`); other bounds compare as lower-case strings (ISO dates sort correctly that way).
- Value groups distribute the field: `@action:(created OR deleted)`, `@f:(a -b)`, `@f:(a b)` = a AND b.
  A leading `-` negates inside a group but is literal right after `field:` (`@lon:-95.8`).
- `AND` (`&&`), `OR` (`||`), `NOT`, a `-` prefix, parentheses, and juxtaposition = AND. Precedence
  NOT > AND > OR. Operators are case-sensitive: lower-case `and`/`or`/`not` are ordinary words.
- Free text (a word or phrase with no `field:`) is a case-insensitive SUBSTRING match on `message`; words may
  carry wildcards (`fail*`). `*` alone, or an empty query, matches everything.

Deliberate differences from Datadog, chosen for investigating audit data:

- String comparison is CASE-INSENSITIVE everywhere (Datadog facets are case-sensitive). Responders type
  `@evt.actor.type:support_user`, and real data mixes casing (`Other` vs `OTHER`, `API + App Key`).
- `@network.client.geoip.as.number` matches both `396982` and `AS396982` (the record normalises the
  `AS`-prefixed string to an int; audit-events.md quirk 2).
- A query is matched against the whole value, never tokenised: `@evt.name:Audit` does not select
  `Audit Trail`. Hence the docs' unquoted `@evt.name:Audit Trail @asset.type:audit_events_csv` parses (as
  `@evt.name:Audit` AND free text `Trail` AND …) but selects nothing real — quote multi-word values.

Speed: the query is compiled once into closures. Paths in `fields.FIELD_ATTRS` read the record attribute
directly; only other paths go through `field_values`, which decodes the raw JSON, so AND/OR operands are
reordered to evaluate the cheap ones first (evaluation has no side effects, so order does not change results).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import msgspec

from ddaudit_tui.events.fields import FIELD_ATTRS, RESERVED, field_values
from ddaudit_tui.events.record import Event

__all__ = ["Query", "QuerySyntaxError", "parse_query", "referenced_fields", "straighten_quotes"]

Pred = Callable[[Event], bool]
ValuePred = Callable[[Any], bool]

# Parentheses / NOT nesting allowed. Bounded so that parsing, compiling and evaluating (all recursive) can
# never hit Python's recursion limit, whatever a user pastes.
_MAX_DEPTH = 64


class QuerySyntaxError(ValueError):
    """A malformed query. `str()` is one line; `position` is a 0-based offset into `query`."""

    def __init__(self, query: str, position: int, message: str) -> None:
        self.query = query
        self.position = max(0, min(position, len(query)))
        self.message = message
        # Columns are 1-based for people; `position` stays 0-based for code.
        super().__init__(f"query error at column {self.position + 1}: {message}")

    def caret(self) -> str:
        """Two lines: the query (whitespace flattened so the caret lines up) and a `^` under the error."""
        return f"{_one_line(self.query)}\n{' ' * self.position}^"


def _one_line(text: str) -> str:
    # One character out for one in, so offsets still line up under the caret.
    return "".join(c if c.isprintable() and not c.isspace() else " " for c in text)


def _show(text: str, limit: int = 40) -> str:
    """A query fragment for an error message: one line, bounded length."""
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- syntax tree -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Word:
    """A bare word with escapes resolved; `wild` holds the indexes of live (unescaped) `*` / `?`."""

    text: str
    wild: frozenset[int]

    def is_star(self) -> bool:
        return bool(self.text) and all(i in self.wild and c == "*" for i, c in enumerate(self.text))


# Value-level nodes: what follows `field:`.
@dataclass(frozen=True, slots=True)
class _VExists:
    pass


@dataclass(frozen=True, slots=True)
class _VLit:
    word: _Word


@dataclass(frozen=True, slots=True)
class _VSet:
    """Several plain literals OR-ed on one field (built by the compiler from `@f:(a OR b OR c)`)."""

    values: frozenset[str]


@dataclass(frozen=True, slots=True)
class _VRange:
    low: str | None  # None = open
    low_inclusive: bool
    high: str | None
    high_inclusive: bool


@dataclass(frozen=True, slots=True)
class _VAnd:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _VOr:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _VNot:
    item: Any


_Leaf = _VExists | _VLit | _VSet | _VRange


@dataclass(frozen=True, slots=True)
class _Target:
    """What a term reads: kind is facet (inner path), reserved (record attribute), tag, text (message), any."""

    kind: str
    name: str = ""


_TEXT = _Target("text", "message")
_ANY = _Target("any")


# Query-level nodes.
@dataclass(frozen=True, slots=True)
class _All:
    pass


@dataclass(frozen=True, slots=True)
class _Term:
    target: _Target
    leaf: _Leaf


@dataclass(frozen=True, slots=True)
class _And:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    item: Any


_ALL = _All()


# -- parser ----------------------------------------------------------------------------------------

_KEYWORDS = {"AND": "AND", "&&": "AND", "OR": "OR", "||": "OR", "NOT": "NOT"}
_WORD_END = '()"'


class _Parser:
    """Recursive descent straight over the characters: a word's meaning depends on what precedes it
    (`-` negates at a term start but is literal inside `a-b`; `:` splits a field only once), which a
    separate tokeniser would have to second-guess."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.depth = 0
        self.fields: set[str] = set()

    # helpers

    def error(self, pos: int, message: str) -> QuerySyntaxError:
        return QuerySyntaxError(self.text, pos, message)

    def skip_ws(self) -> None:
        while self.pos < self.n and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= self.n

    def keyword(self) -> tuple[str, str, int] | None:
        """(kind, spelling, end) when a boolean operator starts at `pos` as a whole word."""
        for spelling, kind in _KEYWORDS.items():
            if self.text.startswith(spelling, self.pos):
                end = self.pos + len(spelling)
                if end >= self.n or self.text[end] in _WORD_END or self.text[end].isspace():
                    return kind, spelling, end
        return None

    def nested(self, parse: Callable[[], Any]) -> Any:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise self.error(self.pos, f"query nested too deeply (more than {_MAX_DEPTH} levels)")
        try:
            return parse()
        finally:
            self.depth -= 1

    def expect_operand(self, spelling: str) -> None:
        """After an operator: fail unless a term follows."""
        self.skip_ws()
        if self.at_end():
            raise self.error(self.pos, f"expected a search term after {spelling}")
        if self.text[self.pos] == ")":
            raise self.error(self.pos, f'expected a search term after {spelling}, found ")"')
        kw = self.keyword()
        if kw is not None and kw[0] != "NOT":
            raise self.error(self.pos, f"expected a search term after {spelling}, found {kw[1]}")

    def read_quoted(self) -> str:
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < self.n:
            c = self.text[self.pos]
            if c == "\\" and self.pos + 1 < self.n:
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if c == '"':
                self.pos += 1
                return "".join(out)
            out.append(c)
            self.pos += 1
        raise self.error(start, "unterminated quoted string: expected a closing '\"'")

    def read_word(self, stop_at_colon: bool, in_range: bool = False) -> _Word:
        chars: list[str] = []
        wild: set[int] = set()
        text = self.text
        while self.pos < self.n:
            c = text[self.pos]
            if c.isspace() or c in _WORD_END or (stop_at_colon and c == ":") or (in_range and c in "]}"):
                break
            if c == "\\":
                if self.pos + 1 >= self.n:
                    raise self.error(self.pos, 'nothing to escape after "\\" at the end of the query')
                chars.append(text[self.pos + 1])
                self.pos += 2
                continue
            if c in "*?":
                wild.add(len(chars))
            chars.append(c)
            self.pos += 1
        return _Word("".join(chars), frozenset(wild))

    # query level

    def parse(self) -> Any:
        self.skip_ws()
        if self.at_end():
            return _ALL
        node = self.parse_or()
        self.skip_ws()
        if not self.at_end():  # parse_or only stops early at a ')' nobody opened
            raise self.error(self.pos, 'unexpected ")" without a matching "("')
        return node

    # Terms and values share one grammar for OR / AND (an explicit AND, or juxtaposition): each level
    # passes its operand parser and the node that joins the operands.

    def _disjunction(self, operand: Callable[[], Any], join: Callable[[tuple[Any, ...]], Any]) -> Any:
        items = [operand()]
        while True:
            self.skip_ws()
            kw = self.keyword()
            if kw is None or kw[0] != "OR":
                break
            self.pos = kw[2]
            self.expect_operand(kw[1])
            items.append(operand())
        return items[0] if len(items) == 1 else join(tuple(items))

    def _conjunction(self, operand: Callable[[], Any], join: Callable[[tuple[Any, ...]], Any]) -> Any:
        items = [operand()]
        while True:
            self.skip_ws()
            if self.at_end() or self.text[self.pos] == ")":
                break
            kw = self.keyword()
            if kw is not None and kw[0] == "OR":
                break
            if kw is not None and kw[0] == "AND":
                self.pos = kw[2]
                self.expect_operand(kw[1])
            items.append(operand())
        return items[0] if len(items) == 1 else join(tuple(items))

    def parse_or(self) -> Any:
        return self._disjunction(self.parse_and, _Or)

    def parse_and(self) -> Any:
        return self._conjunction(self.parse_unary, _And)

    def _negation(self, what: str, operand: Callable[[], Any], negate: Callable[[Any], Any]) -> Any | None:
        """`NOT x` or `-x` at the start of an operand → `negate(x)`; None when the operand is not negated.
        Terms and values share it; `what` ("a search term", "a value") names the operand in errors."""
        kw = self.keyword()
        if kw is not None:
            if kw[0] != "NOT":
                raise self.error(self.pos, f"{kw[1]} needs {what} before it")
            self.pos = kw[2]
            self.expect_operand(kw[1])
            return negate(self.nested(operand))
        if self.text[self.pos] == "-":
            nxt = self.text[self.pos + 1] if self.pos + 1 < self.n else ""
            if not nxt or nxt.isspace() or nxt == ")":
                raise self.error(self.pos, f'expected {what} right after "-"')
            self.pos += 1
            return negate(self.nested(operand))
        return None

    def parse_unary(self) -> Any:
        self.skip_ws()
        negated = self._negation("a search term", self.parse_unary, _Not)
        return negated if negated is not None else self.parse_primary()

    def parse_primary(self) -> Any:
        c = self.text[self.pos]
        if c == "(":
            return self.group(self.parse_or)
        if c == ")":
            raise self.error(self.pos, 'unexpected ")"')
        if c == '"':
            return _Term(_TEXT, _VLit(_Word(self.read_quoted(), frozenset())))
        return self.parse_term()

    def group(self, parse_inner: Callable[[], Any]) -> Any:
        open_pos = self.pos
        self.pos += 1
        self.skip_ws()
        if self.at_end():
            raise self.error(self.pos, f'expected ")" to close the "(" at column {open_pos + 1}')
        if self.text[self.pos] == ")":
            raise self.error(self.pos, "empty parentheses: expected a search term")
        node = self.nested(parse_inner)
        self.skip_ws()
        if self.at_end() or self.text[self.pos] != ")":
            raise self.error(self.pos, f'expected ")" to close the "(" at column {open_pos + 1}')
        self.pos += 1
        return node

    def parse_term(self) -> Any:
        start = self.pos
        word = self.read_word(stop_at_colon=True)
        if self.pos < self.n and self.text[self.pos] == ":":
            self.pos += 1
            return self.parse_field(word, start)
        if self.text[start] == "@":
            if len(word.text) == 1:
                raise self.error(start + 1, 'expected an attribute name after "@"')
            raise self.error(
                self.pos, f'expected ":" and a value after "{_show(self.text[start : self.pos])}"'
            )
        if word.is_star():
            return _ALL
        return _Term(_TEXT, _VLit(word))

    def parse_field(self, word: _Word, start: int) -> Any:
        name = word.text
        label = _show(self.text[start : self.pos])
        if not name:
            raise self.error(start, 'expected an attribute name before ":"')
        if word.is_star():
            target = _ANY
        elif word.wild:
            raise self.error(start, f'wildcards are not supported in attribute names ("{label}")')
        elif self.text[start] == "@":
            path = name[1:]
            if not path:
                raise self.error(start + 1, 'expected an attribute name after "@"')
            if any(not part for part in path.split(".")):
                raise self.error(start, f'empty segment in the attribute name "{_show(name)}"')
            self.fields.add(path)
            target = _Target("facet", path)
        elif name == "message":
            self.fields.add(name)
            target = _TEXT
        elif name in RESERVED:
            self.fields.add(name)
            target = _Target("reserved", name)
        else:
            target = _Target("tag", name.lower())
        if self.at_end() or self.text[self.pos].isspace() or self.text[self.pos] == ")":
            raise self.error(self.pos, f'expected a value after "{label}"')
        value = self.group(self.parse_vor) if self.text[self.pos] == "(" else self.parse_value()
        return _distribute(target, value)

    # value level: what follows `field:`

    def parse_vor(self) -> Any:
        return self._disjunction(self.parse_vand, _VOr)

    def parse_vand(self) -> Any:
        return self._conjunction(self.parse_vunary, _VAnd)

    def parse_vunary(self) -> Any:
        self.skip_ws()
        # Inside a group `-x` negates, as at the top level (`@f:(a -401)`); a negative number there is
        # written `\-5` or `"-5"`. Right after `field:` a leading `-` is literal (`@lon:-95.8`).
        negated = self._negation("a value", self.parse_vunary, _VNot)
        if negated is not None:
            return negated
        c = self.text[self.pos]
        if c == "(":
            return self.group(self.parse_vor)
        if c == ")":
            raise self.error(self.pos, 'unexpected ")"')
        return self.parse_value()

    def parse_value(self) -> Any:
        c = self.text[self.pos]
        if c == '"':
            return _VLit(_Word(self.read_quoted(), frozenset()))
        if c in "[{":
            return self.parse_range()
        if c in "<>":
            return self.parse_comparison()
        word = self.read_word(stop_at_colon=False)
        if not word.text:  # only a stray quote-like delimiter can get here; be explicit anyway
            raise self.error(self.pos, "expected a value")
        return _VExists() if word.is_star() else _VLit(word)

    def parse_comparison(self) -> _VRange:
        op = (
            self.text[self.pos : self.pos + 2]
            if self.text[self.pos + 1 : self.pos + 2] == "="
            else self.text[self.pos]
        )
        self.pos += len(op)
        if self.at_end() or self.text[self.pos].isspace() or self.text[self.pos] in "()":
            raise self.error(self.pos, f'expected a value after "{op}"')
        bound = self.read_bound(in_range=False)
        if bound is None:
            raise self.error(self.pos - 1, f'"{op}" needs a value, not "*"')
        if op[0] == ">":
            return _VRange(bound, op == ">=", None, False)
        return _VRange(None, False, bound, op == "<=")

    def parse_range(self) -> _VRange:
        open_pos = self.pos
        low_inclusive = self.text[self.pos] == "["
        self.pos += 1
        self.skip_ws()
        if self.at_end() or self.text[self.pos] in "]}":
            raise self.error(self.pos, "expected a lower bound in the range")
        low = self.read_bound(in_range=True)
        self.skip_ws()
        end = self.pos + 2
        if not (
            self.text.startswith("TO", self.pos)
            and (end >= self.n or self.text[end].isspace() or self.text[end] in "]}")
        ):
            raise self.error(self.pos, 'expected "TO" in the range, e.g. [400 TO 499]')
        self.pos = end
        self.skip_ws()
        if self.at_end() or self.text[self.pos] in "]}":
            raise self.error(self.pos, 'expected an upper bound after "TO"')
        high = self.read_bound(in_range=True)
        self.skip_ws()
        if self.at_end() or self.text[self.pos] not in "]}":
            raise self.error(
                self.pos, f'expected "]" or "}}" to close the range opened at column {open_pos + 1}'
            )
        high_inclusive = self.text[self.pos] == "]"
        self.pos += 1
        return _VRange(low, low_inclusive, high, high_inclusive)

    def read_bound(self, in_range: bool) -> str | None:
        """A comparison / range bound; None for `*` (open)."""
        start = self.pos
        if self.text[self.pos] == '"':
            return self.read_quoted()
        word = self.read_word(stop_at_colon=False, in_range=in_range)
        if not word.text:
            raise self.error(start, "expected a value")
        if word.is_star():
            return None
        if word.wild:
            raise self.error(start, "wildcards are not allowed in comparisons and ranges")
        return word.text


def _distribute(target: _Target, value: Any) -> Any:
    """`@f:(a OR -b)` → `@f:a OR -@f:b`: a value group is the field applied to each of its values."""
    if isinstance(value, _VAnd):
        return _And(tuple(_distribute(target, v) for v in value.items))
    if isinstance(value, _VOr):
        return _Or(tuple(_distribute(target, v) for v in value.items))
    if isinstance(value, _VNot):
        return _Not(_distribute(target, value.item))
    return _Term(target, value)


# -- value matching --------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _number(text: str) -> float | None:
    """A decimal number, or None. Stricter than float(): no `nan`, `inf` or `1_000`."""
    text = text.strip()
    if _NUMBER.fullmatch(text) is None:
        return None
    return float(text)


def _as_number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _number(value)
    return None


def _as_text(value: Any) -> str | None:
    """The lower-case text a value is compared as; None for objects/arrays (they only satisfy `:*`)."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


class _Glob:
    """`*` / `?` matching without regex backtracking: split on `*`, then find each fixed-length piece
    leftmost in order (greedy leftmost is exact for `*`-only gaps). Linear-ish on any input, so a pasted
    `*a*a*a*a*b` cannot stall the TUI the way a backtracking `.*a.*a…` regex could."""

    __slots__ = ("_pieces", "_floating")

    def __init__(self, word: _Word, substring: bool = False) -> None:
        text = word.text.lower()
        pieces: list[list[tuple[str, bool]]] = [[]]
        for i, c in enumerate(text):
            if i in word.wild and c == "*":
                pieces.append([])
            else:
                pieces[-1].append((c, i in word.wild))
        if substring:
            pieces = [[], *pieces, []]
        # No star at all: one piece that must cover the whole value.
        self._floating = len(pieces) > 1
        if self._floating:  # `a**b`, `*fail*` wrapped again: empty middle pieces match anywhere
            pieces = [pieces[0], *(p for p in pieces[1:-1] if p), pieces[-1]]
        self._pieces = [_Piece(p) for p in pieces]

    def match(self, s: str) -> bool:
        pieces = self._pieces
        first = pieces[0]
        if not self._floating:
            return len(s) == first.size and first.match_at(s, 0)
        last = pieces[-1]
        if not first.match_at(s, 0):
            return False
        pos = first.size
        end = len(s) - last.size
        if end < pos or not last.match_at(s, end):
            return False
        for piece in pieces[1:-1]:
            i = piece.find(s, pos, end)
            if i < 0:
                return False
            pos = i + piece.size
        return True


class _Piece:
    """A fixed-length run of literal characters and `?`s."""

    __slots__ = ("size", "_plain", "_rx")

    def __init__(self, chars: list[tuple[str, bool]]) -> None:
        self.size = len(chars)
        if any(wild for _, wild in chars):
            self._plain: str | None = None
            self._rx = re.compile("".join("." if wild else re.escape(c) for c, wild in chars), re.DOTALL)
        else:
            self._plain = "".join(c for c, _ in chars)

    def match_at(self, s: str, i: int) -> bool:
        if self._plain is not None:
            return s.startswith(self._plain, i)
        return self._rx.match(s, i) is not None

    def find(self, s: str, start: int, end: int) -> int:
        if self._plain is not None:
            return s.find(self._plain, start, end)
        m = self._rx.search(s, start, end)
        return -1 if m is None else m.start()


def _value_pred(leaf: _Leaf) -> ValuePred:
    """A predicate on one (non-null) field value, matching the WHOLE value."""
    if isinstance(leaf, _VExists):
        return lambda v: True
    if isinstance(leaf, _VSet):
        values = leaf.values

        def in_set(v: Any) -> bool:
            if isinstance(v, str):
                return v.lower() in values
            if isinstance(v, bool):
                return ("true" if v else "false") in values
            return False

        return in_set
    if isinstance(leaf, _VRange):
        return _range_pred(leaf)
    word = leaf.word
    if word.wild:
        glob = _Glob(word)

        def globbed(v: Any) -> bool:
            text = _as_text(v)
            return text is not None and glob.match(text)

        return globbed
    lit = word.text.lower()
    num = _number(word.text)
    if num is None:

        def literal(v: Any) -> bool:
            if isinstance(v, str):
                return v.lower() == lit
            if isinstance(v, bool):
                return lit == ("true" if v else "false")
            return False

        return literal

    def numeric(v: Any) -> bool:
        # `@http.status_code:200` matches 200 (2026 data) and "200" (2022 data).
        if isinstance(v, str):
            if v.lower() == lit:
                return True
            n = _number(v)
            return n is not None and n == num
        if isinstance(v, bool):
            return False
        return isinstance(v, int | float) and v == num

    return numeric


def _range_pred(leaf: _VRange) -> ValuePred:
    checks: list[Callable[[Any], bool]] = []
    for bound, inclusive, is_low in (
        (leaf.low, leaf.low_inclusive, True),
        (leaf.high, leaf.high_inclusive, False),
    ):
        if bound is None:
            continue
        if is_low:
            cmp = operator.ge if inclusive else operator.gt
        else:
            cmp = operator.le if inclusive else operator.lt
        num = _number(bound)
        if num is not None:
            checks.append(lambda v, cmp=cmp, num=num: (n := _as_number(v)) is not None and cmp(n, num))
        else:
            low = bound.lower()
            checks.append(lambda v, cmp=cmp, low=low: isinstance(v, str) and cmp(v.lower(), low))
    if not checks:
        return lambda v: True  # [* TO *]: any value
    if len(checks) == 1:
        return checks[0]
    a, b = checks
    return lambda v: a(v) and b(v)


def _text_pred(leaf: _Leaf) -> Callable[[str], bool]:
    """A predicate on a message: SUBSTRING semantics for words and phrases (free text)."""
    if isinstance(leaf, _VLit):
        word = leaf.word
        if word.wild:
            glob = _Glob(word, substring=True)
            return lambda m: glob.match(m.lower())
        needle = word.text.lower()
        return lambda m: needle in m.lower()
    return _value_pred(leaf)


# -- compiler --------------------------------------------------------------------------------------


def _always(event: Event) -> bool:
    return True


def _never(event: Event) -> bool:
    return False


# Evaluation cost classes: record attributes / tags are cheap; anything that decodes raw JSON is not.
_CHEAP, _DECODE, _WALK = 0, 1, 2


def _compile(node: Any) -> tuple[Pred, int]:
    if isinstance(node, _All):
        return _always, _CHEAP
    if isinstance(node, _Term):
        return _compile_term(node.target, node.leaf)
    if isinstance(node, _Not):
        pred, cost = _compile(node.item)
        if pred is _always:
            return _never, _CHEAP
        if pred is _never:
            return _always, _CHEAP
        return (lambda ev: not pred(ev)), cost
    if isinstance(node, _And):
        return _compile_and([_compile(item) for item in node.items])
    if isinstance(node, _Or):
        return _compile_or([_compile(item) for item in _merge_literal_sets(node.items)])
    raise TypeError(f"unknown query node {node!r}")  # pragma: no cover - the parser builds only the above


def _compile_and(parts: list[tuple[Pred, int]]) -> tuple[Pred, int]:
    if any(p is _never for p, _ in parts):
        return _never, _CHEAP
    parts = sorted((pc for pc in parts if pc[0] is not _always), key=lambda pc: pc[1])
    if not parts:
        return _always, _CHEAP
    cost = parts[-1][1]
    preds = [p for p, _ in parts]
    if len(preds) == 1:
        return preds[0], cost
    if len(preds) == 2:
        a, b = preds
        return (lambda ev: a(ev) and b(ev)), cost

    def all_of(ev: Event) -> bool:
        # An explicit loop: all() over a generator costs a frame per event on the hot path.
        for p in preds:  # noqa: SIM110
            if not p(ev):
                return False
        return True

    return all_of, cost


def _compile_or(parts: list[tuple[Pred, int]]) -> tuple[Pred, int]:
    if any(p is _always for p, _ in parts):
        return _always, _CHEAP
    parts = sorted((pc for pc in parts if pc[0] is not _never), key=lambda pc: pc[1])
    if not parts:
        return _never, _CHEAP
    cost = parts[-1][1]
    preds = [p for p, _ in parts]
    if len(preds) == 1:
        return preds[0], cost
    if len(preds) == 2:
        a, b = preds
        return (lambda ev: a(ev) or b(ev)), cost

    def any_of(ev: Event) -> bool:
        for p in preds:  # noqa: SIM110 - see all_of
            if p(ev):
                return True
        return False

    return any_of, cost


def _merge_literal_sets(items: tuple[Any, ...]) -> list[Any]:
    """`@action:(created OR deleted OR modified)` → one set lookup instead of three comparisons."""
    groups: dict[_Target, set[str]] = {}
    rest: list[Any] = []
    for item in items:
        if (
            isinstance(item, _Term)
            and item.target.kind in ("facet", "reserved")
            and isinstance(item.leaf, _VLit)
            and not item.leaf.word.wild
            and _number(item.leaf.word.text) is None  # numbers need numeric comparison
        ):
            groups.setdefault(item.target, set()).add(item.leaf.word.text.lower())
        else:
            rest.append(item)
    merged: list[Any] = [_Term(t, _VSet(frozenset(v))) for t, v in groups.items()]
    return merged + rest


def _compile_term(target: _Target, leaf: _Leaf) -> tuple[Pred, int]:
    if target.kind == "text":
        return _message_term(leaf), _CHEAP
    if target.kind == "tag":
        return _tag_term(target.name, leaf), _CHEAP
    if target.kind == "any":
        return _any_term(_value_pred(leaf)), _WALK
    vpred = _value_pred(leaf)
    exists = isinstance(leaf, _VExists)
    attr = FIELD_ATTRS.get(target.name) if target.kind == "facet" else RESERVED[target.name]
    if attr is None:
        # `@tags` must reach field_values with its `@`: without it, `tags` means the outer tags.
        path = f"@{target.name}" if target.kind == "facet" else target.name
        return _decoded_term(path, vpred, exists), _DECODE
    get = operator.attrgetter(attr)
    if exists:
        return (lambda ev: get(ev) is not None), _CHEAP
    if attr == "asn":
        # The record holds 396982; the raw geoip value is "AS396982". Accept what people paste.
        return (lambda ev: (v := get(ev)) is not None and (vpred(v) or vpred(f"AS{v}"))), _CHEAP
    return (lambda ev: (v := get(ev)) is not None and vpred(v)), _CHEAP


def _message_term(leaf: _Leaf) -> Pred:
    if isinstance(leaf, _VExists):
        return lambda ev: ev.message is not None
    tpred = _text_pred(leaf)
    return lambda ev: (m := ev.message) is not None and tpred(m)


def _tag_term(key: str, leaf: _Leaf) -> Pred:
    exists = isinstance(leaf, _VExists)
    vpred = _value_pred(leaf)

    def tag_matches(ev: Event) -> bool:
        for tag in ev.tags:
            k, sep, value = tag.partition(":")
            if k.lower() != key:
                continue
            if exists or (sep and vpred(value)):
                return True
        return False

    return tag_matches


def _decoded_values(event: Event, path: str) -> list[Any]:
    try:
        return field_values(event, path)
    except msgspec.DecodeError:  # a hand-built record with unreadable raw bytes has no such field
        return []


def _decoded_term(path: str, vpred: ValuePred, exists: bool) -> Pred:
    if exists:
        return lambda ev: any(v is not None for v in _decoded_values(ev, path))
    return lambda ev: any(v is not None and vpred(v) for v in _decoded_values(ev, path))


def _scalars(obj: Any) -> Iterator[Any]:
    """Every scalar inside a JSON value; iterative, so deeply nested input cannot exhaust the stack."""
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is not None:
            yield value


def _any_term(vpred: ValuePred) -> Pred:
    def any_attribute(ev: Event) -> bool:
        if ev.message is not None and vpred(ev.message):
            return True
        try:
            inner = ev.inner()
        except msgspec.DecodeError:
            return False
        return any(vpred(v) for v in _scalars(inner))

    return any_attribute


# -- public API ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed, compiled query. `Query(text)` parses (raising QuerySyntaxError); equal texts are equal."""

    text: str
    _pred: Pred = field(init=False, repr=False, compare=False)
    _fields: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parser = _Parser(straighten_quotes(self.text))
        node = parser.parse()
        pred, _cost = _compile(node)
        object.__setattr__(self, "_pred", pred)
        object.__setattr__(self, "_fields", frozenset(parser.fields))

    def matches(self, event: Event) -> bool:
        return self._pred(event)

    def filter(self, events: Iterable[Event]) -> list[Event]:
        pred = self._pred
        if pred is _always:
            return list(events)
        return [e for e in events if pred(e)]

    @property
    def is_match_all(self) -> bool:
        """True for `*`, an empty query, and anything else that provably selects every event."""
        return self._pred is _always


# Typographic quotes, as pasted from Datadog's docs or a chat: “Cloud Security Platform” must match what
# "Cloud Security Platform" matches, not silently nothing. One character each, so error columns still line up.
_TYPOGRAPHIC_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "‘": "'", "’": "'"})


def straighten_quotes(text: str) -> str:
    """`text` with typographic quotes replaced by ASCII ones (the search syntax's quotes)."""
    return text.translate(_TYPOGRAPHIC_QUOTES)


@lru_cache(maxsize=256)
def parse_query(text: str) -> Query:
    """Parse and compile a query (cached: the TUI re-filters with the same text often)."""
    return Query(text)


def referenced_fields(q: Query) -> set[str]:
    """The attribute paths a query reads, without `@` (`evt.name`, `status`, `message`); tags excluded."""
    return set(q._fields)
