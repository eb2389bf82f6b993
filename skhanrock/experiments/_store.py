"""An append-only JSON-lines file of finished trials, so experiments can resume."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["ResultsFile", "fingerprint"]


def _plain(value):
    """JSON-ready Python value for numpy scalars and arrays."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _canonical(value):
    """A JSON-ready description of a setting that is the same in every process.

    ``repr`` of a scipy distribution or of most objects includes a memory
    address, which differs in every process and made every rerun look like
    another experiment; distributions are described by name and arguments,
    estimators by their parameters, functions by their qualified name.
    """
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):  # string hashing, hence set order, varies by process
        return sorted((_canonical(v) for v in value), key=json.dumps)
    if isinstance(value, np.ndarray | np.generic):
        return _plain(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    kind = f"{type(value).__module__}.{type(value).__qualname__}"
    if all(hasattr(value, a) for a in ("dist", "args", "kwds", "rvs")):  # scipy frozen
        return {"distribution": value.dist.name, "args": _canonical(value.args),
                "kwds": _canonical(value.kwds)}
    if callable(value) and hasattr(value, "__qualname__"):  # functions and classes
        return {"callable": f"{value.__module__}.{value.__qualname__}"}
    if hasattr(value, "get_params"):
        return {"class": kind, "params": _canonical(value.get_params(deep=False))}
    if getattr(value, "__dict__", None):  # an empty one (functools.partial) says nothing
        return {"class": kind, "attributes": _canonical(vars(value))}
    return {"class": kind, "repr": _ADDRESS.sub("", repr(value))}


def fingerprint(X, y, partition, settings):
    """A short hash of the data, the partitions and the settings of an experiment.

    The same in every process, so a rerun resumes the results file.

    Parameters
    ----------
    X : DataFrame
    y : Series
    partition : Series
        Each row's partition.
    settings : dict
        Hypothesis, search space, fixed parameters, metric, seed.

    Returns
    -------
    str
        16 hexadecimal digits.
    """
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(pd.Series(y, dtype=object).astype(str),
                                             index=False).to_numpy().tobytes())
    digest.update(pd.util.hash_pandas_object(partition, index=False).to_numpy().tobytes())
    digest.update(json.dumps(_canonical(settings), sort_keys=True).encode())
    return digest.hexdigest()[:16]


class ResultsFile:
    """Finished trials of one experiment, one JSON object per line.

    The first line names the experiment's fingerprint; a file written for other
    data or settings is refused rather than mixed in. Only the process that
    runs the experiment appends, one whole line per finished trial, so an
    interruption loses at most the trials still running.
    """

    def __init__(self, path, experiment_fingerprint):
        self.path = Path(path)
        self.fingerprint = experiment_fingerprint

    def _check_writable(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a"):
                pass
        except OSError as error:
            raise ValueError(f"The results file {str(self.path)!r} cannot be written: "
                             f"{error}.") from error

    def load(self):
        """Finished trials as a list of dicts (creating the file if needed)."""
        self._check_writable()
        text = self.path.read_text()
        if text and not text.endswith("\n"):
            # an interruption cut the last line short: drop it, or the next trial's
            # line would be glued to it and lost as well
            text = text[:text.rfind("\n") + 1]
            self.path.write_text(text)
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            self.path.write_text(json.dumps({"fingerprint": self.fingerprint}) + "\n")
            return []
        header = json.loads(lines[0])
        if header.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"The results file {str(self.path)!r} belongs to another experiment (other data, "
                "hypothesis or settings); give a new file or remove this one.")
        trials = []
        for line in lines[1:]:
            trials.append(json.loads(line))
        return trials

    def append(self, trial):
        """Add one finished trial."""
        with self.path.open("a") as handle:
            handle.write(json.dumps({k: _plain(v) for k, v in trial.items()},
                                    default=_plain) + "\n")
