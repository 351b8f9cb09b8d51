"""A snapshot file's values, checked on read: each function returns a value or
raises a ValueError naming the bad one (``store.Entry.from_json`` turns it
into one line naming the file, the entry and the fix).

Counts are whole numbers 0 <= k <= n <= MAX_SAMPLES; rates are finite and in
[0, 1]; per-prompt counts (per model for an arm, per checkpoint for a series)
add up to the entry's k/n, checked before any count is expanded into samples.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from behavtest.verdict import Clusters

MAX_SAMPLES = 1_000_000
"""Samples one entry may hold (a count is expanded into one value per sample)."""
_COUNT = re.compile(r"(\d{1,9})/(\d{1,9})")


def count(value: Any, what: str) -> int:
    """A whole number of samples in [0, MAX_SAMPLES] (not a bool, a float or a string)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SAMPLES:
        raise ValueError(f"{what} {value!r} is not a whole number in [0, {MAX_SAMPLES}]")
    return value


def number(value: Any, what: str, rate: bool, nan: bool = False) -> float:
    """A number; in [0, 1] for a rate; NaN only where allowed (an interval a
    one-value mean does not have)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} {value!r} is not a number")
    x = float(value)
    if math.isnan(x) and not nan:
        raise ValueError(f"{what} {value!r} is not a number")
    if rate and not math.isnan(x) and not 0.0 <= x <= 1.0:
        raise ValueError(f"{what} {value!r} is outside [0, 1] (a rate)")
    return x


def checkpoints(raw: Any) -> list[tuple[str, Any]]:
    """A series' ``per_checkpoint``: a list of {"checkpoint": spec, "per_prompt": [...]}."""
    if not isinstance(raw, list) or not all(
            isinstance(c, dict) and isinstance(c.get("checkpoint"), str) for c in raw):
        raise ValueError("per_checkpoint is not a list of {checkpoint, per_prompt}")
    return [(c["checkpoint"], c.get("per_prompt")) for c in raw]


def data(per_prompt: Any, per_model: Any, k: int | None,
          n: int) -> tuple[Clusters, tuple[tuple[str, Clusters], ...] | None]:
    """The per-prompt data, and an arm's per model (its pooled data is the
    models' one after another): "k/n" counts that add up to the entry's k/n (a
    rate: ``k`` is not None), or lists of finite values, no more than n of them
    (a mean: n counts unparsed replies too). Totals are checked before any count
    is expanded into samples."""
    if per_model is not None and not isinstance(per_model, (dict, list)):
        raise ValueError("per_model is not an object")
    models = [] if per_model is None else [(str(m), c) for m, c in (
        per_model.items() if isinstance(per_model, dict) else per_model)]
    if k is None:
        values = _values(per_prompt, "per_prompt", n)
        arm = tuple((m, _values(c, f"per_model {m!r}", n)) for m, c in models)
        if sum(len(c) for _, cs in arm for c in cs) > n:
            raise ValueError(f"per_model holds more values than n {n}")
        return values, None if per_model is None else arm
    pairs = _parse_counts(per_prompt, "per_prompt", k, n)
    by_model = [(m, _parse_counts(c, f"per_model {m!r}", None, None)) for m, c in models]
    if per_model is not None:
        _counts_add_up([x for _, c in by_model for x in c], "per_model", k, n)
    return _expand(pairs), None if per_model is None else tuple(
        (m, _expand(c)) for m, c in by_model)


def _parse_counts(raw: Any, what: str, k: int | None, n: int | None) -> list[tuple[int, int]]:
    """"k/n" strings as pairs, each 0 <= k <= n; adding up to ``k``/``n`` if given."""
    if not isinstance(raw, list):
        raise ValueError(f"{what} is not a list")
    out = []
    for item in raw:
        m = _COUNT.fullmatch(item) if isinstance(item, str) else None
        if m is None or int(m[1]) > int(m[2]):
            raise ValueError(f"count {item!r} is not k/n with 0 <= k <= n")
        out.append((int(m[1]), int(m[2])))
    if k is not None and n is not None:
        _counts_add_up(out, what, k, n)
    return out


def _counts_add_up(pairs: list[tuple[int, int]], what: str, k: int, n: int) -> None:
    got = (sum(a for a, _ in pairs), sum(b for _, b in pairs))
    if got != (k, n):
        raise ValueError(f"{what} counts add up to {got[0]}/{got[1]}, not k/n = {k}/{n}")


def _expand(pairs: list[tuple[int, int]]) -> Clusters:
    """Counts as the 0/1 values per prompt the tests take (totals checked first)."""
    return tuple((1.0,) * a + (0.0,) * (b - a) for a, b in pairs)


def _values(raw: Any, what: str, n: int) -> Clusters:
    """Lists of finite values, no more than ``n`` in all."""
    if not isinstance(raw, list) or not all(isinstance(c, list) for c in raw):
        raise ValueError(f"{what} is not a list of lists of values")
    if sum(len(c) for c in raw) > n:
        raise ValueError(f"{what} holds more values than n {n}")
    return tuple(tuple(_finite(v, what) for v in c) for c in raw)


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value):
        raise ValueError(f"{what} value {value!r} is not a finite number")
    return float(value)


def text(d: Mapping[str, Any], key: str, optional: bool = False) -> Any:
    """A string field (an optional one may be missing or null)."""
    value = d.get(key) if optional else d[key]
    if not isinstance(value, str) and not (optional and value is None):
        raise ValueError(f"{key} {value!r} is not a string")
    return value


def settings(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"settings {value!r} is not an object")
    return value


def seed(value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"seed {value!r} is not a whole number")
    return value
