#!/usr/bin/env bash
# Installs Chaos Toolkit from PyPI into a virtualenv for the side-by-side benchmarks and the
# compatibility check: chaostoolkit 1.21.4 where a Python >= 3.12 is found (pyenv versions first),
# else 1.19.0 (the newest that installs on Python 3.11). Prints the version it got.
# Usage: bench/ctk-setup.sh            venv at $CTK_VENV (default bench/.venv)
# Afterwards: "$CTK_VENV/bin/chaos" --no-version-check ...
set -euo pipefail
cd "$(dirname "$0")"
venv=${CTK_VENV:-$PWD/.venv}

pick_python() {
  local c v
  # pyenv installs first (newest first), then whatever is on PATH.
  for c in $(ls -d "$HOME"/.pyenv/versions/3.*/bin/python3 2>/dev/null | sort -V -r) \
           python3.13 python3.12 python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    v=$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    case "$v" in 3.1[2-9]) echo "$c 1.21.4"; return;; esac
  done
  for c in $(ls -d "$HOME"/.pyenv/versions/3.11*/bin/python3 2>/dev/null) python3.11 python3; do
    command -v "$c" >/dev/null 2>&1 || continue
    v=$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    [ "$v" = 3.11 ] && { echo "$c 1.19.0"; return; }
  done
  echo "error: no Python 3.11 or newer found" >&2; return 1
}

read -r py want < <(pick_python)
if [ -x "$venv/bin/chaos" ] && "$venv/bin/python" -c "import importlib.metadata as m, sys; import jsonpath2; sys.exit(m.version('chaostoolkit') != '$want')" 2>/dev/null; then
  :  # already there
else
  rm -rf "$venv"
  "$py" -m venv "$venv"
  # The jsonpath extra brings jsonpath2, which JSON path tolerances need.
  "$venv/bin/pip" install -q --disable-pip-version-check "chaostoolkit==$want" "chaostoolkit-lib[jsonpath]" >&2
fi
"$venv/bin/python" - <<'PY'
import importlib.metadata as m, platform
print(f"chaostoolkit {m.version('chaostoolkit')} (chaostoolkit-lib {m.version('chaostoolkit-lib')}, jsonpath2 {m.version('jsonpath2')}) on Python {platform.python_version()}")
PY
