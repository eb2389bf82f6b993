import json

import pytest

from skhanrock.experiments import (
    run_experiment,
)

from ._shared import SETTINGS


def _copy(h1, tmp_path):
    _, path = h1
    copy = tmp_path / "results.jsonl"
    copy.write_text(path.read_text())
    return copy


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(
        h1, conversations_of_many_speakers, tmp_path, no_training):
    import os
    import socket

    from skhanrock.experiments._store import ResultsFile

    X, y = conversations_of_many_speakers
    path = _copy(h1, tmp_path)
    holder = ResultsFile(path, "any")
    with holder.writing():
        lock = tmp_path / "results.jsonl.lock"
        assert lock.exists()
        message = (rf"is being written by another run: its lock file '{lock}' is held by "
                   rf"pid {os.getpid()} on host {socket.gethostname()}")
        with pytest.raises(ValueError, match=message):  # the file holds 2 or 3 trials
            run_experiment(X, y, "H1", n_trials=4, results_file=path, **SETTINGS)
        # reading a finished experiment needs no lock
        assert run_experiment(X, y, "H1", n_trials=2, results_file=path,
                              **SETTINGS).n_fitted == 0
    assert not lock.exists()
    # a run that crashed leaves its lock file, but the kernel released its lock
    lock.write_text("pid 1 on host elsewhere\n")
    with holder.writing():
        assert lock.read_text() == f"pid {os.getpid()} on host {socket.gethostname()}\n"


def test_repeated_trial_lines_are_counted_once_or_refused(h1, conversations_of_many_speakers,
                                                          tmp_path):
    X, y = conversations_of_many_speakers
    first, _ = h1
    path = _copy(h1, tmp_path)
    lines = path.read_text().splitlines()
    repeated = {**json.loads(lines[2]), "fit_seconds": 123.0}  # another run, same result
    path.write_text("\n".join([*lines, json.dumps(repeated)]) + "\n")
    with pytest.warns(UserWarning, match=rf"{path.name}.* 1 line\(s\) repeat.*counted once"):
        again = run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS)
    assert again.n_fitted == 0 and (again.table["trials"] == 2).all()
    assert again.table["test"].tolist() == first.table["test"].tolist()
    conflicting = {**repeated, "dev_pred": ["another class", *repeated["dev_pred"][1:]]}
    path.write_text("\n".join([*lines, json.dumps(conflicting)]) + "\n")
    arm, trial = conflicting["arm"], conflicting["trial"]
    with pytest.raises(ValueError, match=rf"'{path}' holds different results for trial {trial} "
                                         rf"of arm '{arm}', at lines 3 and {len(lines) + 1}"):
        run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS)


def test_a_corrupt_line_is_named_by_file_and_number(h1, conversations_of_many_speakers,
                                                    tmp_path, no_training):
    X, y = conversations_of_many_speakers
    path = _copy(h1, tmp_path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"The results file '{path}' is corrupt at line 3"):
        run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS)


def test_repairing_a_cut_last_line_is_crash_safe(h1, conversations_of_many_speakers, tmp_path,
                                                 monkeypatch, no_training):
    import skhanrock.experiments._store as store

    X, y = conversations_of_many_speakers
    path = _copy(h1, tmp_path)
    cut = path.read_text()[:-20]
    path.write_text(cut)

    def crash(*args):
        raise OSError("the machine went down before the rename")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError, match="went down"):  # the file holds 2 or 3 trials
        run_experiment(X, y, "H1", n_trials=4, results_file=path, **SETTINGS)
    assert path.read_text() == cut  # untouched: the repair was written aside
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]


def test_a_finished_read_only_results_file_is_tabulated_again(
        h1, conversations_of_many_speakers, tmp_path, monkeypatch):
    import builtins
    import os
    import pathlib

    X, y = conversations_of_many_speakers
    first, _ = h1
    path = _copy(h1, tmp_path)
    before = path.stat()

    # the tests run as root, whom chmod does not stop: refuse every write under tmp_path
    def read_only(opener, mode_of):
        def opening(file, *args, **kwargs):
            if str(file).startswith(str(tmp_path)) and mode_of(args, kwargs):
                raise PermissionError(13, "Read-only file system", str(file))
            return opener(file, *args, **kwargs)
        return opening

    def text_mode(args, kwargs):
        return any(c in (args[0] if args else kwargs.get("mode", "r")) for c in "wax+")

    def flags(args, kwargs):
        return bool(args[0] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))

    monkeypatch.setattr(builtins, "open", read_only(builtins.open, text_mode))
    monkeypatch.setattr(pathlib.Path, "open",
                        read_only(pathlib.Path.open, lambda a, k: text_mode(a, k)))
    monkeypatch.setattr(os, "open", read_only(os.open, flags))
    again = run_experiment(X, y, "H1", n_trials=2, results_file=path, **SETTINGS)
    assert again.n_fitted == 0 and again.table["test"].tolist() == first.table["test"].tolist()
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]
