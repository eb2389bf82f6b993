"""Helpers every subpackage shares, one rule per module.

``frame`` (checking and sorting talkturn frames), ``labels`` (history/future label
offsets and their targets), ``targets`` (what kind of target ``y`` is),
``validation`` (numeric parameter checks, replaced names), ``zscores`` (z-scores
against a speaker's earlier talkturns) and ``model_file`` (bounded reading of
saved models). Import from the module that owns the rule.
"""
