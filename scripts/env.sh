# Shared paths for the scripts. Sourced, not run.
# The venv lives in a cache outside the work tree, keyed by the pinned requirements, so every clone
# on one machine reuses it and a change of pins builds a new one instead of mutating the old.
PETLAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PETLAB_CACHE="${PETLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/petlab}"
_petlab_req_hash="$(sha256sum "$PETLAB_ROOT/scripts/requirements.txt" | cut -c1-12)"
PETLAB_VENV="${PETLAB_VENV:-$PETLAB_CACHE/venv-$_petlab_req_hash}"
PETLAB_BUILD="${PETLAB_BUILD:-$PETLAB_ROOT/build}"
PETLAB_PYTHON="$PETLAB_VENV/bin/python"
export PETLAB_ROOT PETLAB_CACHE PETLAB_VENV PETLAB_BUILD PETLAB_PYTHON
# Reference scripts must never reach a model hub: everything they load is local.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
