"""The ``skhanrock`` command: ``demo``, ``experiment`` and ``stream``, one module each here.

``python -m skhanrock`` and the installed ``skhanrock`` script both call :func:`main`.
"""

import argparse
import sys

from .arguments import integer_at_least
from .experiment import add_experiment_command, run_experiment_command
from .stream import add_stream_command, run_stream

__all__ = ["main"]


def _parser():
    parser = argparse.ArgumentParser(prog="skhanrock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit HAN-ROCK on built-in data, with and without auxiliary targets")
    demo.add_argument("--train-conversations", type=integer_at_least(1), default=75,
                      help="training conversations of each run (default: 75)")
    demo.add_argument("--test-conversations", type=integer_at_least(1), default=125,
                      help="held-out conversations of each run (default: 125)")
    demo.add_argument("--runs", type=integer_at_least(1), default=3,
                      help="runs, each with its own data and seed (default: 3)")
    demo.add_argument("--epochs", type=integer_at_least(1), default=10,
                      help="training epochs (default: 10)")
    demo.add_argument("--seed", type=integer_at_least(0), default=0,
                      help="seed of the first run; run k uses seed + k - 1 (default: 0)")
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    add_experiment_command(commands)
    add_stream_command(commands)
    return parser


def main(argv=None):
    """Entry point of the ``skhanrock`` command."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        try:
            run_demo(n_train=args.train_conversations, n_test=args.test_conversations,
                     n_runs=args.runs, max_epochs=args.epochs, random_state=args.seed,
                     progress=not args.no_progress)
        except ValueError as error:
            # What argparse cannot check alone (the last run's seed), as it would.
            print(f"skhanrock demo: {error}", file=sys.stderr)
            return 2
    elif args.command == "stream":
        try:
            # Bytes, so that a line longer than --max-line-bytes is skipped, not read.
            refused = run_stream(args.model, sys.stdin.buffer, sys.stdout,
                                 max_line_bytes=args.max_line_bytes,
                                 max_conversations=args.max_conversations)
        except (ValueError, OSError) as error:
            print(f"skhanrock stream: {error}", file=sys.stderr)
            return 2
        return 1 if refused else 0
    else:
        try:
            run_experiment_command(args)
        except (ValueError, OSError) as error:
            # A message and status 2, like argparse's own errors, not a traceback.
            print(f"skhanrock experiment: {error}", file=sys.stderr)
            return 2
    return 0

