#!/usr/bin/env bash
# Run Okta's own SDKs (Python `okta` 3.x, Node `@okta/okta-sdk-nodejs`) against a
# freshly started `steward serve`.
#
# Usage: compat/run.sh [path/to/steward]
#   binary: $1, else $STEWARD_BIN, else target/release/steward, else target/debug/steward
# Env:
#   COMPAT_SKIP_INSTALL=1   don't run pip/npm (deps already installed)
#   COMPAT_KEEP_GOING=1     run every step even after a failure
#   COMPAT_ONLY=python|node run one SDK only
#   PYTHON=python3          python interpreter to use
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

bin="${1:-${STEWARD_BIN:-}}"
if [[ -z "$bin" ]]; then
  for cand in target/release/steward target/debug/steward; do
    if [[ -x "$cand" ]]; then bin="$cand"; break; fi
  done
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "compat: steward binary not found (tried \$1, \$STEWARD_BIN, target/release/steward, target/debug/steward)" >&2
  exit 2
fi
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
PYTHON="${PYTHON:-python3}"
only="${COMPAT_ONLY:-}"

# --- dependencies (idempotent) ---------------------------------------------
if [[ "${COMPAT_SKIP_INSTALL:-0}" != 1 ]]; then
  if [[ "$only" != node ]]; then
    "$PYTHON" -m pip install -q --disable-pip-version-check -r compat/python/requirements.txt
  fi
  if [[ "$only" != python ]]; then
    npm ci --prefix compat/node --no-audit --no-fund --loglevel=error
  fi
fi

# --- start the server --------------------------------------------------------
port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
data_dir="$(mktemp -d -t steward-compat.XXXXXX)"
log="$data_dir/server.log"
token="compat$("$PYTHON" -c 'import secrets; print(secrets.token_hex(20))')"
server_pid=""
status=1

cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null || true
  fi
  if [[ "$status" != 0 && -f "$log" ]]; then
    echo "----- steward server log ($log) -----" >&2
    tail -n 400 "$log" >&2 || true
    echo "----- end of server log -----" >&2
  fi
  if [[ "$status" == 0 ]]; then rm -rf "$data_dir"; else echo "compat: data dir kept at $data_dir" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$data_dir/data"
STEWARD_BOOTSTRAP_API_TOKEN="$token" \
STEWARD_BOOTSTRAP_ADMIN_PASSWORD="${STEWARD_BOOTSTRAP_ADMIN_PASSWORD:-Compat-Admin-Passw0rd!}" \
  "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data_dir/data" >"$log" 2>&1 &
server_pid=$!

url="http://127.0.0.1:$port"
ready=0
for _ in $(seq 1 300); do   # 30 s
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "compat: steward exited before becoming ready" >&2
    exit 1
  fi
  if curl -fsS -o /dev/null "$url/healthz" 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
if [[ "$ready" != 1 ]]; then
  echo "compat: $url/healthz did not answer 200 within 30 s" >&2
  exit 1
fi
echo "compat: steward ready at $url (pid $server_pid, data $data_dir)"

export STEWARD_ORG_URL="$url" STEWARD_API_TOKEN="$token"
# keep the Okta SDKs from picking up a developer's real Okta config
unset OKTA_CLIENT_ORGURL OKTA_CLIENT_TOKEN OKTA_CLIENT_AUTHORIZATIONMODE || true

py_rc=0
node_rc=0
if [[ "$only" != node ]]; then
  echo "== Python SDK (okta $(grep -Eo '[0-9][0-9.]*' compat/python/requirements.txt | head -1))"
  "$PYTHON" compat/python/test_management_sdk.py || py_rc=$?
fi
if [[ "$only" != python ]]; then
  echo "== Node SDK (@okta/okta-sdk-nodejs $(node -p "require('./compat/node/package.json').dependencies['@okta/okta-sdk-nodejs']"))"
  node --test compat/node/management.test.mjs || node_rc=$?
fi

if [[ "$py_rc" == 0 && "$node_rc" == 0 ]]; then
  status=0
  echo "compat: all SDK checks passed"
else
  echo "compat: FAILED (python rc=$py_rc, node rc=$node_rc)" >&2
fi
exit "$status"
