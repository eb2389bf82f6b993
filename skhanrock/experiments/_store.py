"""An append-only JSON-lines file of finished trials, so experiments can resume."""

import hashlib
import json
import os
import re
import socket
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

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
    """Finished trials of one experiment, one JSON object per line, with one writer at a time.

    The first line names the experiment's fingerprint; a file written for other
    data or settings is refused rather than mixed in. Reading never writes, so a
    finished experiment is tabulated again from a read-only file. Writing needs
    :meth:`writing`: an exclusive ``flock`` on a lock file beside the results
    (``<name>.lock``), which a second writer finds held and is refused; the
    kernel releases it when the holder exits or crashes. Each finished trial
    is appended as one whole line, so an interruption loses at most the trials
    still running; a line cut short by one is dropped (by writing the file
    aside and renaming it over the old one, so a crash then loses nothing).
    """

    def __init__(self, path, experiment_fingerprint):
        self.path = Path(path)
        self.fingerprint = experiment_fingerprint
        self._lock = None

    @property
    def lock_path(self):
        """The lock file beside the results file."""
        return self.path.with_name(self.path.name + ".lock")

    def _error(self, what):
        return ValueError(f"The results file {str(self.path)!r} {what}")

    def read(self):
        """Finished trials as a list of dicts; reads only (a missing file has none).

        A line cut short at the end of the file (an interrupted write) is
        ignored here and dropped by :meth:`prepare`. Lines repeating an
        (arm, trial) with the same result (only ``fit_seconds`` may differ)
        count once, with a warning; different results for one (arm, trial),
        or a line that is not a trial, are errors naming the file and lines.
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as error:
            raise self._error(f"cannot be read: {error}.") from error
        # the cut last line, if any, is left to prepare(): it is not a trial yet
        lines = [(number, line) for number, line in
                 enumerate(text[:text.rfind("\n") + 1].splitlines(), start=1) if line.strip()]
        if not lines:
            return []
        header = self._parse(*lines[0])
        if header.get("fingerprint") != self.fingerprint:
            raise self._error(
                "belongs to another experiment (other data, hypothesis or settings); give a "
                "new file or remove this one.")
        return self._unique([(number, self._parse(number, line, trial=True))
                             for number, line in lines[1:]])

    def _parse(self, number, line, trial=False):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise self._error(f"is corrupt at line {number}: {error.msg} (column "
                              f"{error.colno}). Fix or remove that line (a removed trial is "
                              "fitted again).") from error
        keys = ("arm", "trial") if trial else ("fingerprint",)
        if not isinstance(record, dict) or any(key not in record for key in keys):
            raise self._error(f"is corrupt at line {number}: expected a JSON object with "
                              f"{list(keys)}. Fix or remove that line.")
        return record

    def _unique(self, numbered):
        """One trial per (arm, trial): identical repeats count once, conflicting ones fail."""
        first = {}
        repeated = 0
        for number, record in numbered:
            key = (record["arm"], record["trial"])
            if key not in first:
                first[key] = (number, record)
                continue
            earlier, kept = first[key]
            if _result(kept) != _result(record):
                raise self._error(
                    f"holds different results for trial {key[1]} of arm {key[0]!r}, at lines "
                    f"{earlier} and {number}: two runs wrote it at once, or it was edited. "
                    "Remove the wrong line (or the file, to fit every trial again).")
            repeated += 1
        if repeated:
            warnings.warn(
                f"The results file {str(self.path)!r} has {repeated} line(s) repeating an "
                "(arm, trial) with the same result (written twice, e.g. by two runs); each "
                "trial is counted once.", UserWarning, stacklevel=3)
        return [record for _, record in first.values()]

    @contextmanager
    def writing(self):
        """Hold the lock file for writing, or raise naming the run that holds it."""
        self._lock = self._acquire()
        try:
            yield self
        finally:
            # Removed while still held, so that a run waiting on this file's old
            # inode sees it is gone (see _acquire) rather than locking a ghost.
            with suppress(OSError):
                self.lock_path.unlink()
            os.close(self._lock)
            self._lock = None

    def _acquire(self):
        if fcntl is None:  # Windows: no flock
            warnings.warn(f"The results file {str(self.path)!r} is not locked on this "
                          "platform: do not run two experiments on it at once.", UserWarning,
                          stacklevel=4)
            return os.open(os.devnull, os.O_RDONLY)
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as error:
                raise self._error(f"cannot be written: {error}.") from error
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(handle, 200).decode(errors="replace").strip()
                os.close(handle)
                raise self._error(
                    f"is being written by another run: its lock file "
                    f"{str(self.lock_path)!r} is held by {holder or 'a run starting up'}. "
                    "Wait for that run to end, or give another results file (--out)."
                ) from None
            if _same_file(handle, self.lock_path):
                break
            os.close(handle)  # the previous holder removed it meanwhile: lock the new one
        os.ftruncate(handle, 0)
        os.write(handle, f"pid {os.getpid()} on host {socket.gethostname()}\n".encode())
        return handle

    def prepare(self):
        """Under :meth:`writing`: write the header of a new file, drop a cut last line."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if not text.strip():
            self._replace(json.dumps({"fingerprint": self.fingerprint}) + "\n")
        elif not text.endswith("\n"):
            # an interruption cut the last line short: drop it, or the next trial's
            # line would be glued to it and lost as well
            self._replace(text[:text.rfind("\n") + 1])

    def _replace(self, text):
        """Write the whole file aside, then rename it over the old one (atomic)."""
        aside = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with aside.open("w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(aside, self.path)
        finally:
            with suppress(FileNotFoundError):
                aside.unlink()

    def append(self, trial):
        """Add one finished trial (under :meth:`writing`)."""
        if self._lock is None:
            raise RuntimeError("ResultsFile.append needs the lock: call it inside writing().")
        with self.path.open("a", encoding="utf-8") as handle:
            # a parameter JSON cannot hold (a callback) is written as its description
            handle.write(json.dumps({k: _plain(v) for k, v in trial.items()},
                                    default=_canonical) + "\n")


def _result(record):
    """What a trial found: everything but its duration, which differs between two runs."""
    return {k: v for k, v in record.items() if k != "fit_seconds"}


def _same_file(handle, path):
    try:
        return os.stat(path).st_ino == os.fstat(handle).st_ino
    except FileNotFoundError:
        return False
