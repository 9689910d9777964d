#!/usr/bin/env bash
# One command for the test suite on a fresh Python 3.11 machine (install included):
#   bash tools/run_tests.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
source tools/setup_env.sh
python -m pytest tests -q -p no:cacheprovider "$@"
