"""Declarative checks for plain data (parsed TOML): a constraint table, checked once, with generated messages.

A file format is described by nesting :class:`Spec` objects (:class:`Table`, :class:`MapOf`, :class:`ListOf`,
:class:`Number`, :class:`Integer`, :class:`Text`, :class:`Choice`, :class:`NumberOrMap`). The same description
gives three things: :meth:`Spec.check`, which walks the data, records every problem in a
:class:`~mixsim.scenario._problems.Problems` collector and returns the data with defaults filled in (and
``INVALID`` where a value is wrong); :meth:`Spec.schema`, a JSON Schema fragment for editors; and
:meth:`Spec.kind` with :meth:`Spec.constraint`, the type and rule in words for the key reference. Rules that
relate several fields (a price is a cpm *or* a cpc, shares sum to 1, ...) live with the table that uses them
(:mod:`mixsim.scenario.rules`), not here.
"""

from __future__ import annotations

import copy
import math
import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mixsim.scenario._problems import INVALID, Path, Problems, did_you_mean

__all__ = [
    "Choice",
    "Integer",
    "ListOf",
    "MapOf",
    "Number",
    "NumberOrMap",
    "Spec",
    "Table",
    "Text",
]


def _num(x: float) -> str:
    """A bound as people write it: 0, 1, 0.5, 1e-06, 1e15, 3660."""
    return f"{x:g}".replace("e+", "e")


def _limit_rule(most: float | None, note: str = "") -> str:
    """mixsim's own limit on a value, in words: "at most 1e15" (apart from the meaning's range, so that a message
    says which side is wrong)."""
    if most is None:
        return ""
    return f"at most {_num(most)}" + (f" ({note})" if note else "")


@dataclass(frozen=True, kw_only=True)
class Spec:
    """One entry of the constraint table.

    Parameters
    ----------
    doc : str
        What the value means; shown in the JSON Schema.
    required : bool, default=False
        Whether the key must be present in its table.
    default : object, default=None
        The value used when the key is absent (``None``: stays absent).
    """

    doc: str = ""
    required: bool = False
    default: Any = None

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        """Check ``value``; record problems in ``out``; return it normalized, or :data:`INVALID`."""
        raise NotImplementedError

    def absent(self) -> Any:
        """The value for a missing, optional key."""
        return copy.deepcopy(self.default)

    def rule(self) -> str:
        """The constraint in words, as used in messages and descriptions."""
        return ""

    def kind(self) -> str:
        """The type in words, for the key reference ("number", "array of strings", "table")."""
        raise NotImplementedError

    def constraint(self) -> str:
        """Everything the value must satisfy, in words, for the key reference: :meth:`rule`, and for containers
        their sizes, names and items."""
        return self.rule()

    def schema(self) -> dict[str, Any]:
        """JSON Schema fragment (draft 2020-12) for this entry."""
        raise NotImplementedError

    def _annotate(self, schema: dict[str, Any]) -> dict[str, Any]:
        parts = [p for p in (self.doc, self.rule()) if p]
        if parts:
            schema["description"] = "; ".join(parts) + "."
        if self.default is not None and _json_safe(self.default):
            schema["default"] = self.default
        return schema


def _json_safe(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_json_safe(v) for v in value)
    if isinstance(value, Mapping):
        return all(_json_safe(v) for v in value.values())
    return isinstance(value, (str, int, bool))


def _range_rule(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"must be in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"must be {'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f"must be {'<' if high_open else '<='} {_num(high)}"
    return ""


def _size_rule(low: int | None, high: int | None, noun: str) -> str:
    """How many items a container may hold, in words: "not empty", "at most 64 channels"."""
    if low is not None and high is not None:
        return f"{low} to {high} {noun}s"
    if low is not None:
        return "not empty" if low == 1 else f"at least {low} {noun}s"
    return f"at most {high} {noun}s" if high is not None else ""


def _in_range(x: float, low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    if low is not None and (x <= low if low_open else x < low):
        return False
    return high is None or (x < high if high_open else x <= high)


def _range_schema(schema: dict[str, Any], low: float | None, high: float | None, lo_open: bool, hi_open: bool) -> None:
    if low is not None:
        schema["exclusiveMinimum" if lo_open else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if hi_open else "maximum"] = high


@dataclass(frozen=True, kw_only=True)
class Number(Spec):
    """A real number (an int is accepted and becomes a float; a boolean is not a number).

    Parameters
    ----------
    low, high : float or None
        Bounds; ``None`` = unbounded on that side.
    low_open, high_open : bool, default=False
        Whether the bound itself is excluded.
    allow_inf : bool, default=False
        Whether ``inf`` is a meaningful value (it still has to satisfy the bounds). NaN is never accepted.
    note : str
        Why the range is what it is, appended to the rule ("1 would make conversion impossible").
    most : float or None
        mixsim's limit on the finite values (:data:`~mixsim.scenario.limits.MAX_NUMBER`), beyond the range the
        meaning sets: a larger value is refused with its own message ("must be at most 1e15"); ``inf`` is still
        accepted where ``allow_inf``.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    allow_inf: bool = False
    note: str = ""
    most: float | None = None

    def rule(self) -> str:
        text = _range_rule(self.low, self.high, self.low_open, self.high_open)
        if self.note:
            text = f"{text}; {self.note}" if text else self.note
        return text

    def constraint(self) -> str:
        limit = _limit_rule(self.most)
        if limit and self.allow_inf:
            limit += ", or inf"
        return "; ".join(p for p in (self.rule(), limit) if p)

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            out.add(path, "must be a number", value)
            return INVALID
        try:
            x = float(value)
        except OverflowError:  # an int too large for a float
            x = -math.inf if isinstance(value, numbers.Integral) and int(value) < 0 else math.inf
        if math.isnan(x):
            out.add(path, "must be a number, not nan", value)
            return INVALID
        if not _in_range(x, self.low, self.high, self.low_open, self.high_open):
            out.add(path, self.rule(), value)
            return INVALID
        if math.isinf(x) and not self.allow_inf:
            out.add(path, "must be finite", value)
            return INVALID
        if self.most is not None and math.isfinite(x) and x > self.most:
            out.add(path, "must be " + _limit_rule(self.most) + (", or inf" if self.allow_inf else ""), value)
            return INVALID
        return x

    def kind(self) -> str:
        return "number"

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "number"}
        _range_schema(schema, self.low, self.high, self.low_open, self.high_open)
        if self.most is not None and "maximum" not in schema and "exclusiveMaximum" not in schema:
            schema["maximum"] = self.most
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class Integer(Spec):
    """A whole number given as an integer (``2.0`` is refused: counts are written as counts).

    Parameters
    ----------
    low : int or None
        Lower bound.
    low_open : bool, default=False
        Whether the bound itself is excluded.
    most : int or None
        mixsim's limit on the value, refused with its own message ("must be at most 3660 (ten years)").
    why : str
        Why the limit is what it is, shown with it.
    """

    low: int | None = None
    low_open: bool = False
    most: int | None = None
    why: str = ""

    def constraint(self) -> str:
        return "; ".join(p for p in (self.rule(), _limit_rule(self.most, self.why)) if p)

    def rule(self) -> str:
        return _range_rule(self.low, None, self.low_open, False)

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            out.add(path, "must be an integer", value)
            return INVALID
        n = int(value)
        if not _in_range(n, self.low, None, self.low_open, False):
            out.add(path, self.rule(), value)
            return INVALID
        if self.most is not None and n > self.most:
            out.add(path, "must be " + _limit_rule(self.most, self.why), value)
            return INVALID
        return n

    def kind(self) -> str:
        return "integer"

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        _range_schema(schema, self.low, self.most, self.low_open, False)
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class Text(Spec):
    """A non-empty string, optionally matching ``pattern`` (``pattern_rule`` says it in words)."""

    pattern: str | None = None
    pattern_rule: str = ""

    def rule(self) -> str:
        return self.pattern_rule or "must be a non-empty string"

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if not isinstance(value, str):
            out.add(path, "must be a string", value)
            return INVALID
        if not value.strip():
            out.add(path, "must not be empty", value)
            return INVALID
        if self.pattern is not None and not re.match(self.pattern, value):
            out.add(path, self.rule(), value)
            return INVALID
        return value

    def kind(self) -> str:
        return "string"

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if self.pattern is not None:
            schema["pattern"] = self.pattern
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class Choice(Spec):
    """One of a fixed set of strings."""

    options: tuple[str, ...] = ()

    def rule(self) -> str:
        return "must be one of " + ", ".join(repr(o) for o in self.options)

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if not isinstance(value, str) or value not in self.options:
            hint = did_you_mean(value, self.options) if isinstance(value, str) else ""
            out.add(path, self.rule() + hint, value)
            return INVALID
        return value

    def kind(self) -> str:
        return "string"

    def schema(self) -> dict[str, Any]:
        return self._annotate({"type": "string", "enum": list(self.options)})


@dataclass(frozen=True, kw_only=True)
class ListOf(Spec):
    """A list whose items all follow ``item``.

    Parameters
    ----------
    item : Spec
        The rule for each item; items are reported as ``path[i]``.
    min_items, max_items : int or None
        Length bounds.
    unique : bool, default=False
        Whether repeated items are an error.
    noun : str
        What an item is called in length messages ("segment").
    """

    item: Spec
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False
    noun: str = "item"

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if not isinstance(value, (list, tuple)):
            out.add(path, "must be a list", value)
            return INVALID
        if self.min_items is not None and len(value) < self.min_items:
            out.add(path, "must not be empty" if self.min_items == 1 else f"needs at least {self.min_items}", value)
            return INVALID
        if self.max_items is not None and len(value) > self.max_items:
            out.add(path, f"at most {self.max_items} {self.noun}s", got=str(len(value)))
            return INVALID
        result = [self.item.check(v, (*path, i), out) for i, v in enumerate(value)]
        if self.unique:
            seen: set[Any] = set()
            for i, v in enumerate(result):
                if v is INVALID or not isinstance(v, (str, int, float)):
                    continue
                if v in seen:
                    out.add((*path, i), f"duplicate {self.noun}", v)
                    result[i] = INVALID
                seen.add(v)
        return result

    def kind(self) -> str:
        return f"array of {self.item.kind()}s"

    def constraint(self) -> str:
        parts = [_size_rule(self.min_items, self.max_items, self.noun)]
        if self.unique:
            parts.append(f"no {self.noun} twice")
        if self.item.constraint() and not isinstance(self.item, Table):
            parts.append(f"each {self.item.constraint()}")
        return "; ".join(p for p in parts if p)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.schema()}
        if self.min_items is not None:
            schema["minItems"] = self.min_items
        if self.max_items is not None:
            schema["maxItems"] = self.max_items
        if self.unique:
            schema["uniqueItems"] = True
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class Table(Spec):
    """A table with a fixed set of keys; any other key is an error with a near-miss hint.

    Parameters
    ----------
    fields : mapping of str to Spec
        The keys in documentation order.
    extra_schema : mapping
        Extra JSON Schema keywords for rules across fields (``oneOf``, ``dependentRequired``).
    """

    fields: Mapping[str, Spec] = field(default_factory=dict)
    extra_schema: Mapping[str, Any] = field(default_factory=dict)

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if not isinstance(value, Mapping):
            out.add(path, "must be a table", value)
            return INVALID
        result: dict[str, Any] = {}
        for key, item in value.items():
            spec = self.fields.get(key) if isinstance(key, str) else None
            if spec is None:
                out.unknown((*path, str(key)), self.fields)
                continue
            result[key] = spec.check(item, (*path, key), out)
        for key, spec in self.fields.items():
            if key not in value:
                if spec.required:
                    out.add((*path, key), "required")
                    result[key] = INVALID
                else:
                    result[key] = spec.absent()
        return result

    def absent(self) -> Any:
        if self.default is not None:
            return copy.deepcopy(self.default)
        return {key: spec.absent() for key, spec in self.fields.items()}

    def kind(self) -> str:
        return "table"

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {key: spec.schema() for key, spec in self.fields.items()},
            "additionalProperties": False,
        }
        required = [key for key, spec in self.fields.items() if spec.required]
        if required:
            schema["required"] = required
        schema.update(copy.deepcopy(dict(self.extra_schema)))
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class MapOf(Spec):
    """A table from free names (channels, segments) to values that all follow ``value``.

    Parameters
    ----------
    value : Spec
        The rule for each entry.
    key_pattern : str or None
        A regular expression names must match; ``key_rule`` says it in words.
    min_items, max_items : int or None
        Bounds on the number of entries; ``why`` explains the upper one.
    noun : str
        What an entry is called in messages ("channel").
    """

    value: Spec
    key_pattern: str | None = None
    key_rule: str = ""
    min_items: int | None = None
    max_items: int | None = None
    noun: str = "entry"
    why: str = ""

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if not isinstance(value, Mapping):
            out.add(path, "must be a table", value)
            return INVALID
        if self.min_items is not None and len(value) < self.min_items:
            out.add(path, f"needs at least {self.min_items} {self.noun}", got=str(len(value)))
            return INVALID
        if self.max_items is not None and len(value) > self.max_items:
            why = f"; {self.why}" if self.why else ""
            out.add(path, f"at most {self.max_items} {self.noun}s{why}", got=str(len(value)))
            return INVALID
        result: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            bad_name = not isinstance(key, str) or (
                self.key_pattern is not None and not re.fullmatch(self.key_pattern, key)  # '$' alone lets 'tv\n' by
            )
            if bad_name:
                out.add((*path, name), self.key_rule or "invalid name", key)
            # The entry is still checked (and kept for the cross-key rules) so every problem shows at once.
            result[name] = self.value.check(item, (*path, name), out)
        return result

    def kind(self) -> str:
        return f"table of {self.noun} name -> {self.value.kind()}"

    def constraint(self) -> str:
        size = _size_rule(self.min_items, self.max_items, self.noun)
        parts = [f"{size} ({self.why})" if size and self.why else size, self.key_rule]
        if self.value.constraint() and not isinstance(self.value, Table):
            parts.append(f"each {self.value.constraint()}")
        return "; ".join(p for p in parts if p)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "additionalProperties": self.value.schema()}
        if self.key_pattern is not None:
            schema["propertyNames"] = {"pattern": self.key_pattern}
        if self.min_items is not None:
            schema["minProperties"] = self.min_items
        if self.max_items is not None:
            schema["maxProperties"] = self.max_items
        return self._annotate(schema)


@dataclass(frozen=True, kw_only=True)
class NumberOrMap(Spec):
    """One number for every name, or a table of numbers per name (reach and affinity per segment)."""

    number: Number
    table: MapOf

    def check(self, value: Any, path: Path, out: Problems) -> Any:
        if isinstance(value, Mapping):
            return self.table.check(value, path, out)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            out.add(path, "must be a number or a table", value)
            return INVALID
        return self.number.check(value, path, out)

    def kind(self) -> str:
        return f"number, or {self.table.kind()}"

    def constraint(self) -> str:
        return self.number.constraint()

    def schema(self) -> dict[str, Any]:
        return self._annotate({"anyOf": [self.number.schema(), self.table.schema()]})
