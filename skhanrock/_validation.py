"""One check of numeric parameters, so that every message reads the same."""

import math
import numbers

import numpy as np

__all__ = ["check_number", "is_finite_number"]


def is_finite_number(value, *, integer=False):
    """Whether ``value`` is a finite real number (an integer with ``integer``), not a bool.

    Strings, None and NaN are not numbers here: comparisons with NaN are all
    false, so a NaN threshold or edge would silently never fire.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral if integer
                                                 else numbers.Real):
        return False
    # Integers are finite, and Python's may exceed any float (np.isfinite
    # refuses them); math.isfinite also takes Fractions.
    return integer or isinstance(value, numbers.Integral) or math.isfinite(value)


def check_number(name, value, *, low=-np.inf, high=np.inf, integer=False, low_open=False,
                 high_open=False):
    """Return ``value`` if it is a finite number between ``low`` and ``high``; else name ``name``.

    The bounds are included unless ``low_open``/``high_open``. ``integer`` asks
    for an integer (``2.0`` and ``1.7`` are refused rather than truncated) and
    returns it as a Python int (torch's layers refuse NumPy integers).
    """
    if is_finite_number(value, integer=integer) and (
            value > low if low_open else value >= low) and (
            value < high if high_open else value <= high):
        return int(value) if integer else value
    what = "an integer" if integer else "a number"
    if np.isfinite(low) and np.isfinite(high):
        what += f" in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif np.isfinite(low):
        what += f" {'>' if low_open else '>='} {low}"
    elif np.isfinite(high):
        what += f" {'<' if high_open else '<='} {high}"
    if not integer and not (np.isfinite(low) and np.isfinite(high)):
        what = what.replace("a number", "a finite number")
    raise ValueError(f"{name} must be {what}, got {value!r}.")
