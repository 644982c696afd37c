#!/usr/bin/env bash
# Run Okta's own SDKs (Python `okta` 3.x, Node `@okta/okta-sdk-nodejs`) and real OAuth clients
# (openid-client, @okta/jwt-verifier, the Python SDK in private-key OAuth mode) against freshly
# started `steward serve` processes.
#
# Usage: compat/run.sh [path/to/steward]
#   binary: $1, else $STEWARD_BIN, else target/release/steward, else target/debug/steward
# Env:
#   COMPAT_SKIP_INSTALL=1   don't run pip/npm (deps already installed)
#   COMPAT_KEEP_GOING=1     run every step even after a failure
#   COMPAT_ONLY=...         comma-separated subset of:
#                             python, node          Management API SDK checks
#                             oauth-node            openid-client + @okta/jwt-verifier
#                             oauth-python          okta SDK in private-key OAuth mode
#                             sdk = python,node     oauth = oauth-node,oauth-python
#                           (default: all four)
#   COMPAT_OAUTH_TRANSPORT=both|http|https
#                           which org(s) the OAuth suites run against (default both):
#                           http  = plain http://127.0.0.1:PORT, using each client's own
#                                   "insecure/testing" switch;
#                           https = `steward serve --tls` (self-signed cert from the data dir,
#                                   trusted through NODE_EXTRA_CA_CERTS / SSL_CERT_FILE), no
#                                   https switch at all.
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

# --- which suites -----------------------------------------------------------------
only="${COMPAT_ONLY:-}"
only="${only//sdk/python,node}"
only="${only//oauth-node/OAUTHNODE}"
only="${only//oauth-python/OAUTHPY}"
only="${only//oauth/OAUTHNODE,OAUTHPY}"
want() { # want python|node|OAUTHNODE|OAUTHPY
  [[ -z "$only" ]] && return 0
  [[ ",$only," == *",$1,"* ]]
}
for w in ${only//,/ }; do
  case "$w" in
    python|node|OAUTHNODE|OAUTHPY) ;;
    *) echo "compat: unknown COMPAT_ONLY value '$w' (python, node, oauth-node, oauth-python, sdk, oauth)" >&2; exit 2 ;;
  esac
done
transport="${COMPAT_OAUTH_TRANSPORT:-both}"
case "$transport" in both|http|https) ;; *) echo "compat: COMPAT_OAUTH_TRANSPORT must be both, http or https" >&2; exit 2 ;; esac

# --- dependencies (idempotent) ---------------------------------------------------
if [[ "${COMPAT_SKIP_INSTALL:-0}" != 1 ]]; then
  if want python || want OAUTHPY; then
    "$PYTHON" -m pip install -q --disable-pip-version-check -r compat/python/requirements.txt
  fi
  if want node; then
    npm ci --prefix compat/node --no-audit --no-fund --loglevel=error
  fi
  if want OAUTHNODE; then
    npm ci --prefix compat/oauth/node --no-audit --no-fund --loglevel=error
  fi
fi

# --- servers ----------------------------------------------------------------------
work="$(mktemp -d -t steward-compat.XXXXXX)"
token="compat$("$PYTHON" -c 'import secrets; print(secrets.token_hex(20))')"
server_pids=()
logs=()
status=1

cleanup() {
  for pid in "${server_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [[ "$status" != 0 ]]; then
    for log in "${logs[@]}"; do
      [[ -f "$log" ]] || continue
      echo "----- steward server log ($log) -----" >&2
      tail -n 400 "$log" >&2 || true
      echo "----- end of server log -----" >&2
    done
  fi
  if [[ "$status" == 0 ]]; then rm -rf "$work"; else echo "compat: data dirs kept under $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server NAME [--tls]: starts steward on a free port; sets $url and $data.
start_server() {
  local name="$1"; shift
  local port scheme curl_opts=()
  port="$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  data="$work/$name"
  mkdir -p "$data"
  local log="$work/$name.log"
  logs+=("$log")
  STEWARD_BOOTSTRAP_API_TOKEN="$token" \
  STEWARD_BOOTSTRAP_ADMIN_PASSWORD="${STEWARD_BOOTSTRAP_ADMIN_PASSWORD:-Compat-Admin-Passw0rd!}" \
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" "$@" >"$log" 2>&1 &
  local pid=$!
  server_pids+=("$pid")
  scheme=http
  if [[ " $* " == *" --tls "* ]]; then scheme=https; fi
  url="$scheme://127.0.0.1:$port"
  local ready=0
  for _ in $(seq 1 300); do   # 30 s
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "compat: steward ($name) exited before becoming ready" >&2
      exit 1
    fi
    curl_opts=(-fsS -o /dev/null)
    if [[ "$scheme" == https ]]; then
      if [[ ! -f "$data/tls-cert.pem" ]]; then sleep 0.1; continue; fi
      curl_opts+=(--cacert "$data/tls-cert.pem")
    fi
    if curl "${curl_opts[@]}" "$url/healthz" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
  done
  if [[ "$ready" != 1 ]]; then
    echo "compat: $url/healthz did not answer 200 within 30 s" >&2
    exit 1
  fi
  echo "compat: steward ($name) ready at $url (pid $pid, data $data)"
}

# keep the Okta SDKs from picking up a developer's real Okta config
unset OKTA_CLIENT_ORGURL OKTA_CLIENT_TOKEN OKTA_CLIENT_AUTHORIZATIONMODE OKTA_CLIENT_CLIENTID \
  OKTA_CLIENT_SCOPES OKTA_CLIENT_PRIVATEKEY OKTA_TESTING_TESTINGDISABLEHTTPSCHECK || true
export STEWARD_API_TOKEN="$token"

declare -A rc=()
fail=0
run_step() { # run_step LABEL command...
  local label="$1"; shift
  local r=0
  "$@" || r=$?
  rc[$label]=$r
  if [[ "$r" != 0 ]]; then
    fail=1
    if [[ "${COMPAT_KEEP_GOING:-0}" != 1 ]]; then
      echo "compat: $label failed (rc=$r)" >&2
      return 1
    fi
  fi
  return 0
}

# node --test from the suite's own folder (its node_modules); trusts the self-signed cert if any.
oauth_node() {
  (
    cd compat/oauth/node
    if [[ -n "$1" ]]; then export NODE_EXTRA_CA_CERTS="$1"; fi
    node --test openid-client.test.mjs jwt-verifier.test.mjs
  )
}

steps() {
  # --- Management API SDKs (plain http) ---
  local need_plain=0
  if want python || want node; then need_plain=1; fi
  if { want OAUTHNODE || want OAUTHPY; } && [[ "$transport" != https ]]; then need_plain=1; fi
  if [[ "$need_plain" == 1 ]]; then
    start_server plain
    plain_url="$url"
  fi
  if want python; then
    echo "== Python SDK (okta $(grep -Eo '[0-9][0-9.]*' compat/python/requirements.txt | head -1))"
    STEWARD_ORG_URL="$plain_url" run_step python "$PYTHON" compat/python/test_management_sdk.py || return
  fi
  if want node; then
    echo "== Node SDK (@okta/okta-sdk-nodejs $(node -p "require('./compat/node/package.json').dependencies['@okta/okta-sdk-nodejs']"))"
    STEWARD_ORG_URL="$plain_url" run_step node node --test compat/node/management.test.mjs || return
  fi

  # --- OAuth clients ---
  if ! want OAUTHNODE && ! want OAUTHPY; then return; fi
  local transports=()
  case "$transport" in
    both) transports=(http https) ;;
    *) transports=("$transport") ;;
  esac
  local t oauth_url ca
  for t in "${transports[@]}"; do
    ca=""
    if [[ "$t" == http ]]; then
      oauth_url="$plain_url"
    else
      start_server tls --tls
      oauth_url="$url"
      ca="$data/tls-cert.pem"
    fi
    if want OAUTHNODE; then
      echo "== OAuth Node clients over $t (openid-client $(node -p "require('./compat/oauth/node/package.json').dependencies['openid-client']"), @okta/jwt-verifier $(node -p "require('./compat/oauth/node/package.json').dependencies['@okta/jwt-verifier']"))"
      STEWARD_ORG_URL="$oauth_url" run_step "oauth-node-$t" oauth_node "$ca" || return
    fi
    if want OAUTHPY; then
      echo "== OAuth Python SDK over $t (okta $(grep -Eo '[0-9][0-9.]*' compat/python/requirements.txt | head -1), PrivateKey mode)"
      STEWARD_ORG_URL="$oauth_url" STEWARD_CA_FILE="$ca" \
        run_step "oauth-python-$t" "$PYTHON" compat/oauth/python/test_okta_private_key.py || return
    fi
  done
}

steps || true

summary=""
for k in "${!rc[@]}"; do summary+=" $k=${rc[$k]}"; done
if [[ "$fail" == 0 && ${#rc[@]} -gt 0 ]]; then
  status=0
  echo "compat: all checks passed (rc:$summary)"
else
  echo "compat: FAILED (rc:$summary)" >&2
fi
exit "$status"
