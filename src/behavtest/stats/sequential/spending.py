"""Alpha-spending functions: how much of the one-sided alpha a design may
have spent by information fraction s = n_j / N (Lan & DeMets 1983,
Biometrika 70:659-663; Jennison & Turnbull 2000 ch. 7.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

Spending = str | tuple[str, float]
"""'obf' | 'pocock' | ('hsd', gamma): the alpha-spending function."""


def spending_function(spending: Spending) -> Callable[[float, float], float]:
    """alpha(s) as a function of (alpha, s): nondecreasing in s, alpha(1) = alpha.

    'obf': the O'Brien-Fleming type 2 - 2*Phi(z_{1-alpha/2} / sqrt(s)); 'pocock':
    the Pocock type alpha*ln(1 + (e-1)s); ('hsd', g): the Hwang, Shih & DeCani
    (1990, Stat Med 9:1439-1445) family alpha*(1 - exp(-g s))/(1 - exp(-g))
    (g = -4 is OBF-like, 1 Pocock-like; g > 1 front-loads alpha).
    """
    if spending == "obf":
        def obf(alpha: float, s: float) -> float:
            from scipy import stats as _st
            if s >= 1.0:
                return alpha
            return min(alpha, float(2.0 * _st.norm.sf(_st.norm.isf(alpha / 2.0) / math.sqrt(s))))
        return obf
    if spending == "pocock":
        def pocock(alpha: float, s: float) -> float:
            return alpha if s >= 1.0 else min(alpha, alpha * math.log1p((math.e - 1.0) * s))
        return pocock
    if (isinstance(spending, tuple) and len(spending) == 2 and spending[0] == "hsd"
            and isinstance(spending[1], int | float) and math.isfinite(spending[1])):
        g = float(spending[1])

        def hsd(alpha: float, s: float) -> float:
            if s >= 1.0:
                return alpha
            if g == 0.0:
                return alpha * s
            return min(alpha, alpha * math.expm1(-g * s) / math.expm1(-g))
        return hsd
    raise ValueError(f"spending {spending!r} is not 'obf', 'pocock' or ('hsd', gamma)")


def spending_name(spending: Spending) -> str:
    """Human-readable name of a spending function (for methods and reports)."""
    spending_function(spending)  # validates
    if spending == "obf":
        return "Lan-DeMets O'Brien-Fleming-type spending"
    if spending == "pocock":
        return "Lan-DeMets Pocock-type spending"
    assert isinstance(spending, tuple)
    return f"Hwang-Shih-DeCani spending (gamma={spending[1]:g})"

