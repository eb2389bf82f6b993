"""``skhanrock experiment``: a hypothesis from the command line."""

import json
from pathlib import Path

import pandas as pd

from ..datasets import make_conversations
from ..experiments import run_experiment

__all__ = ["add_experiment_command", "run_experiment_command"]


def _setting(text):
    key, found, value = text.partition("=")
    if not found or not key:
        raise ValueError(f"--set expects KEY=VALUE, got {text!r}.")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _speaker_column(text):
    """``none`` is the command line's speaker_column=None: skipping the check is explicit."""
    return None if text == "none" else text


def add_experiment_command(commands):
    """Add the ``experiment`` sub-command to an argparse sub-parser collection."""
    command = commands.add_parser(
        "experiment", help="run hypothesis H1, H2 or H3 with random searches and the bootstrap")
    command.add_argument("--data", help="talkturn frame (.parquet or .csv); default: built-in data")
    command.add_argument("--target", help="column of the primary labels (needed with --data)")
    command.add_argument("--hypothesis", default="H1", choices=("H1", "H2", "H3"))
    command.add_argument("--trials", type=int, default=30, help="trials per arm (default: 30)")
    command.add_argument("--epochs", type=int, default=30, help="epochs per trial (default: 30)")
    command.add_argument("--jobs", type=int, default=1, help="trials fitted in parallel")
    command.add_argument("--out", default="results", help="folder for results and tables")
    command.add_argument("--partition", help="column with train/dev/test (default: 'partition' "
                         "when present, else a random speaker-disjoint split)")
    command.add_argument("--speaker-column", default="speaker", type=_speaker_column,
                         metavar="COLUMN",
                         help="column of speaker ids that partitions must not share (default: "
                         "speaker); 'none' skips that check")
    command.add_argument("--conversation-column", default="conversation", metavar="COLUMN",
                         help="column of conversation ids, kept whole by the partitions and "
                         "the bootstrap (default: conversation)")
    command.add_argument("--shared-speaker", action="append", default=[], metavar="SPEAKER",
                         help="a speaker allowed in several partitions, such as an interviewer "
                         "(repeat for several)")
    command.add_argument("--metric", help="metric name (default: accuracy or mae)")
    command.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    command.add_argument("--conversations", type=int, default=60,
                         help="built-in conversations when --data is omitted (default: 60)")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="pipeline parameter fixed in every trial, e.g. han__device=cuda")
    command.add_argument("--median-stopping", metavar="STORE",
                         help="put trials under the median stopping rule, with the learning "
                         "curves in this SQLite file or sqlite:/// URL (default: off)")
    command.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _load(args):
    if args.data is None:
        X, y = make_conversations(n_conversations=args.conversations,
                                  n_speakers=3 * args.conversations, random_state=args.seed)
        return X, y, f"built-in data ({args.conversations} conversations)"
    path = Path(args.data)
    if not path.is_file():
        raise ValueError(f"--data {str(path)!r} is not a file.")
    try:
        frame = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except OSError as error:
        raise ValueError(f"--data {str(path)!r} cannot be read: {_reason(error)}.") from error
    if args.target is None or args.target not in frame.columns:
        raise ValueError(f"--target must name a column of {path.name}; got {args.target!r}, "
                         f"columns are {list(frame.columns)}.")
    return frame.drop(columns=[args.target]), frame[args.target], str(path)


def _reason(error):
    return error.strerror or str(error)


def _make_folder(out):
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        where = "" if error.filename in (None, str(out)) else f" ({error.filename})"
        raise ValueError(f"--out {str(out)!r} cannot be made a folder: "
                         f"{_reason(error)}{where}.") from error


def _write_tables(result, out, name, markdown):
    """The tables as CSV and Markdown in ``out``, or an error naming the file."""
    files = {f"{name}.csv": lambda path: result.table.to_csv(path),
             f"{name}_trials.csv": lambda path: result.trials.to_csv(path, index=False),
             f"{name}.md": lambda path: path.write_text(markdown + "\n")}
    for file, write in files.items():
        try:
            write(out / file)
        except OSError as error:
            raise ValueError(f"--out {str(out)!r}: {file} cannot be written: "
                             f"{_reason(error)} (the table is printed above).") from error


def run_experiment_command(args, print=print):
    """Run the experiment the parsed arguments describe; write and print its tables.

    Errors of the arguments and of the file system are raised as one-line
    ``ValueError`` messages, which the command prints (exit status 2).
    """
    X, y, source = _load(args)
    out = Path(args.out)
    _make_folder(out)
    name = args.hypothesis
    print(f"{name} on {source}: {len(X)} talkturns, {args.trials} trials per arm, "
          f"{args.epochs} epochs each; results in {out}/")
    result = run_experiment(
        X, y, name, n_trials=args.trials, max_epochs=args.epochs, metric=args.metric,
        partition=args.partition, fixed_params=dict(_setting(s) for s in args.set),
        n_jobs=args.jobs, results_file=out / f"{name}.jsonl", n_resamples=args.resamples,
        random_state=args.seed, progress=not args.no_progress,
        median_stopping=args.median_stopping, shared_speakers=args.shared_speaker or None,
        speaker_column=args.speaker_column, conversation_column=args.conversation_column)
    markdown = result.to_markdown()
    # printed before the files are written, so a read-only --out still shows the table
    print(f"\n{result.n_fitted} trial(s) fitted now, the rest read from {name}.jsonl.")
    print(f"Test {result.metric} of the trial best on dev; differences against "
          f"{result.baseline!r} with 95% bootstrap intervals:\n")
    print(markdown)
    _write_tables(result, out, name, markdown)
    return result
