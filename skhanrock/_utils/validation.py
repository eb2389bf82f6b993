"""Checks of parameters: numbers, and the names that were renamed, each with one message."""

import functools
import math
import numbers

import numpy as np

__all__ = ["ReplacedName", "check_number", "is_finite_number", "replaced_parameters"]


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


def replaced_parameters(**replacements):
    """Make a function or ``__init__`` refuse old parameter names with the name that replaced them.

    ``replacements`` maps an old name to its replacement, or to
    ``(replacement, translate)`` when the new parameter takes other values:
    ``translate(kwargs)`` gives the value that says what the call's old keywords
    said. The names were renamed before any release, so the old ones are gone,
    not aliases; without this, Python's own TypeError ("unexpected keyword
    argument 'task'") would not say what to write instead. The signature that
    scikit-learn reads (``get_params``, ``clone``) stays the decorated function's.

    Examples
    --------
    >>> class Step:
    ...     @replaced_parameters(task="target_type")
    ...     def __init__(self, target_type="auto"):
    ...         self.target_type = target_type
    >>> Step(task="regression")
    Traceback (most recent call last):
    ...
    TypeError: Step got task='regression': the parameter is now target_type; pass \
target_type='regression'.
    >>> @replaced_parameters(task="target_type")
    ... def scorers(target_type="classification"):
    ...     return target_type
    >>> scorers(task="regression")
    Traceback (most recent call last):
    ...
    TypeError: scorers got task='regression': the parameter is now target_type; pass \
target_type='regression'.
    >>> class Window:
    ...     @replaced_parameters(size=("offsets", lambda kw: tuple(range(1, kw["size"] + 1))))
    ...     def __init__(self, offsets=(1,)):
    ...         self.offsets = offsets
    >>> Window(size=3)
    Traceback (most recent call last):
    ...
    TypeError: Window got size=3: the parameter is now offsets; pass offsets=(1, 2, 3).
    """
    def decorate(function):
        @functools.wraps(function)
        def checked(*args, **kwargs):
            for old in sorted(kwargs.keys() & replacements.keys()):
                new, translate = replacements[old] if isinstance(replacements[old], tuple) \
                    else (replacements[old], lambda given, old=old: given[old])
                # A class is named by its own name, not by "__init__".
                owner = (type(args[0]).__name__ if function.__name__ == "__init__"
                         else function.__name__)
                raise TypeError(f"{owner} got {old}={kwargs[old]!r}: the parameter "
                                f"is now {new}; pass {new}={translate(kwargs)!r}.")
            return function(*args, **kwargs)
        return checked
    return decorate


class ReplacedName:
    """A class attribute or method that is gone: reading it names what replaced it.

    Reading it on the class or on an instance raises an AttributeError that
    says what to write instead (so ``hasattr`` is false), where Python's own
    would only say the name is missing.

    Parameters
    ----------
    replacement : str
        What to use instead, as the user would write it.

    Examples
    --------
    >>> class Loss:
    ...     target_type = "regression"
    ...     task = ReplacedName("target_type")
    >>> Loss().task
    Traceback (most recent call last):
    ...
    AttributeError: Loss.task is gone: use target_type.
    >>> hasattr(Loss, "task")
    False
    """

    def __init__(self, replacement):
        self.replacement = replacement

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner):
        raise AttributeError(f"{owner.__name__}.{self.name} is gone: use {self.replacement}.")
