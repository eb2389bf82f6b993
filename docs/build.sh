#!/bin/sh
# The one command that builds the documentation, for the README and .ci/run alike:
# warnings are errors, offline (intersphinx off) and with the gallery's reduced budget.
# Set SKHANROCK_DOCS_OFFLINE= (empty) to link to the other projects' docs, and
# SKHANROCK_DOCS_QUICK= (empty) to run the gallery examples at full size.
set -eu
cd "$(dirname "$0")/.."
export SKHANROCK_DOCS_OFFLINE="${SKHANROCK_DOCS_OFFLINE-1}"
export SKHANROCK_DOCS_QUICK="${SKHANROCK_DOCS_QUICK-1}"
exec python -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
