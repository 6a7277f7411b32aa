# Shared by ops/* scripts: install everything the project needs into the project folder.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV_VERSION="0.13.9"
UV="$ROOT/.tools/uv/bin/uv"

say() { printf 'kiln: %s\n' "$*" >&2; }

need_python() {
  # The first interpreter that really runs and is >= 3.11 (pyenv shims may exist but fail).
  if [ -z "${PYTHON:-}" ]; then
    for candidate in python3 python3.13 python3.12 python3.11; do
      if command -v "$candidate" >/dev/null 2>&1 \
        && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        # The interpreter itself, not a pyenv shim: uv compares it with the one .venv was made
        # from, and a shim never matches, so every sync would delete and recreate .venv under
        # whatever runs from it.
        PYTHON="$("$candidate" -c 'import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))')"
        break
      fi
    done
  fi
  [ -n "${PYTHON:-}" ] || { say "Python >= 3.11 is required (none found on PATH)"; exit 1; }
}

ensure_uv() {
  if [ ! -x "$UV" ] || ! "$UV" --version 2>/dev/null | grep -q "$UV_VERSION"; then
    say "installing uv $UV_VERSION into .tools/uv…"
    "$PYTHON" -m venv "$ROOT/.tools/uv"
    "$ROOT/.tools/uv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
}

# Install the server, the SDK and the dev/test tools into .venv from the lock file.
install_python() {
  need_python
  ensure_uv
  say "syncing .venv from uv.lock…"
  UV_PROJECT_ENVIRONMENT="$ROOT/.venv" UV_PYTHON="$PYTHON" UV_PYTHON_DOWNLOADS=never \
    "$UV" sync --frozen --quiet --project "$ROOT" "$@"
}

# Install the dashboard's packages and build it, when the SPA exists.
build_frontend() {
  [ -f "$ROOT/frontend/package.json" ] || return 0
  command -v npm >/dev/null || { say "Node >= 20 with npm is required to build the dashboard"; exit 1; }
  say "building the dashboard (frontend/dist)…"
  (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build)
}

# Debian's chromium for the dashboard's browser tests (playwright cannot download browsers here).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  say "installing chromium (apt-get) for the browser tests…"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # `env`, not a bare assignment: after an empty $sudo (root) bash would run the assignment as
  # a command name.
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
    || { say "could not install chromium: run 'apt-get install -y chromium' and retry"; exit 1; }
}
