#!/usr/bin/env bash
# Creates ./.venv (Python 3.11) with the pinned requirements and the plugin installed
# in editable mode. Sourced by tools/run_demo.sh and tools/run_tests.sh; safe to re-run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMAV_VENV:-$ROOT/.venv}"
PY="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV with $("$PY" --version)"
    "$PY" -m venv "$VENV"
fi
# pip (not uv/poetry) is what finds the local torch wheels on these machines.
pip_install() {
    local log
    log=$(mktemp)
    if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
        cat "$log"; rm -f "$log"; echo "[setup] pip install failed" >&2; exit 1
    fi
    grep -v -e "^WARNING: Location" -e "^\s*$" "$log" || true
    rm -f "$log"
}
pip_install -r "$ROOT/requirements.txt" -r "$ROOT/requirements-tests.txt"
pip_install --no-deps -e "$ROOT"
"$VENV/bin/python" -W ignore -c "import mmav_mask, mmaction.models; print('[setup] mmav_mask', mmav_mask.__version__, 'ready')"
export PATH="$VENV/bin:$PATH"
