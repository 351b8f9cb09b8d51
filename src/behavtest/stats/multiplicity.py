"""Multiplicity correction for a suite of behaviour tests.

A suite of 20 independent checks at alpha = 0.05 with every null true fails
at least one check with probability 1 - 0.95**20, most of the time. Holm's step-down procedure
(Holm 1979, Scand. J. Statist. 6:65) keeps that family-wise error rate at
alpha under any dependence between the tests and is uniformly more powerful
than Bonferroni, so it is the default for gates. Benjamini-Hochberg (1995,
JRSS-B 57:289) controls the false discovery rate instead: the expected share
of false claims among the claims made, which suits exploratory suites where
some false positives are tolerable; it is valid for independent and for
positively dependent tests (Benjamini & Yekutieli 2001, Ann. Statist. 29:1165).

Adjusted p-values are compared with alpha by the usual rule
(``behavtest.stats.power.significant``), so a check is rejected after
correction exactly when the procedure rejects it at that alpha.
"""

from __future__ import annotations

from collections.abc import Sequence

METHODS = ("holm", "bh", "none")


def _check_pvalues(pvalues: Sequence[float]) -> list[float]:
    ps = [float(p) for p in pvalues]
    for p in ps:
        if not 0.0 <= p <= 1.0:  # also rejects NaN
            raise ValueError(f"p-value {p!r} is not in [0, 1]")
    return ps


def _holm(ps: list[float]) -> list[float]:
    """Holm step-down adjusted p-values; equal to statsmodels
    ``multipletests(p, method='holm')[1]``.

    Written out (three numpy lines) because statsmodels' Holm branch calls
    ``gc.collect()`` on every call, which costs tens of milliseconds in a
    large process (a pytest session, a simulation) and would dominate a suite
    with many families. The tests check agreement with statsmodels to 1e-9.
    """
    import numpy as np
    p = np.asarray(ps, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate(p[order] * np.arange(m, 0, -1))
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return [float(v) for v in out]


def _bh(ps: list[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (statsmodels
    ``multipletests(p, method='fdr_bh')[1]``)."""
    from statsmodels.stats.multitest import multipletests
    return [float(v) for v in multipletests(ps, method="fdr_bh")[1]]


def adjust(pvalues: Sequence[float], method: str) -> list[float]:
    """Adjusted p-values for one family, in input order.

    ``method``: 'holm' (family-wise error, statsmodels ``multipletests``
    method 'holm'), 'bh' (false discovery rate, ``multipletests`` method
    'fdr_bh') or 'none' (the raw p-values). An empty family gives [].
    Raises ValueError for an unknown method or a p-value outside [0, 1].
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    ps = _check_pvalues(pvalues)
    if not ps or method == "none":
        return ps
    if method == "holm":
        return _holm(ps)
    return _bh(ps)


def adjust_families(
    pvalues: Sequence[float], families: Sequence[str], method: str
) -> list[float]:
    """Adjust within each family label separately; results in input order.

    Each family is adjusted as if it were the only one (the family-wise or
    false-discovery guarantee holds per family). The family is passed to
    ``adjust`` sorted by (p-value, position), and both procedures give tied
    p-values equal adjusted values, so each item's adjusted p-value depends
    only on its own p-value and the multiset of its family's p-values, not
    on the order of the input.
    """
    if len(pvalues) != len(families):
        raise ValueError(
            f"{len(pvalues)} p-values but {len(families)} family labels: lengths must match"
        )
    ps = _check_pvalues(pvalues)
    if method not in METHODS:
        raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
    groups: dict[str, list[int]] = {}
    for i, fam in enumerate(families):
        groups.setdefault(fam, []).append(i)
    out = [0.0] * len(ps)
    for idx in groups.values():
        idx_sorted = sorted(idx, key=lambda i: (ps[i], i))
        adjusted = adjust([ps[i] for i in idx_sorted], method)
        for i, a in zip(idx_sorted, adjusted, strict=True):
            out[i] = a
    return out
