#!/usr/bin/env bash
# Token budgets of issue 3 (figures go to docs/benchmarks.md). One command, reproducible:
#   bash bench/tokens.sh
# Installs what it needs (wrk from apt if missing, `npm ci` in bench/tokens for oidc-provider),
# builds the release binary, then in ONE run, side by side, on 127.0.0.1 only:
#   A. openssl speed rsa2048 (one process, one core): RS256 signs per CPU-second; beside it the
#      crypto floor: Steward's assertion verification + access-token signing alone, per CPU-second.
#   B. Steward client_credentials + private_key_jwt, RS256 JWT access tokens, one fresh pre-signed
#      assertion per request: tokens/s and tokens per server CPU-second (utime+stime of the server
#      process from /proc/<pid>/stat before and after the load window).
#   C. The same for the npm package oidc-provider (bench/tokens/oidc.mjs), same load, same assertions.
#   D. GET /api/v1/users/{id} with a valid Bearer token (okta.users.read): req/s, p99.
#   E. The same GET with a token lacking okta.users.read (the 403 insufficient_scope path): req/s, p99.
# Every measurement is ROUNDS rounds (default 3) of DURATION seconds (default 10), interleaved
# (B C D E, B C D E, ...) so that the noise of a shared box hits them alike; the table shows medians.
# Assertions are signed before the timed windows, in another process (bench/tokens/sign.mjs), and
# fired by wrk with bench/tokens/post.lua (each body exactly once; reuse is flagged).
# Knobs: ROUNDS, DURATION, CONC (token load connections, default 32), GET_CONC (default 64),
#        PORT (Steward, default 18190; oidc-provider PORT+1), KEEP=1 keeps the work dir,
#        PERF_OUT=file records a `perf` profile of Steward during its first token round,
#        STEWARD_BIN=path measures that binary instead of building one (A/B comparisons).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONC=${CONC:-32}
GET_CONC=${GET_CONC:-64}
PORT=${PORT:-18190}
OPORT=$((PORT + 1))
THREADS=2
NPROC=$(nproc)
TICK=$(getconf CLK_TCK)

log() { echo "[tokens.sh] $*" >&2; }

# ---- install and build -------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
log "npm ci (oidc-provider)"
(cd bench/tokens && npm ci --silent --no-audit --no-fund >/dev/null)
if [ -n "${STEWARD_BIN:-}" ]; then
  BIN=$STEWARD_BIN # another build to compare (A/B runs)
else
  log "cargo build --release -p steward"
  cargo build --release --locked -p steward >/dev/null 2>&1 || cargo build --release --locked -p steward
  BIN=$ROOT/target/release/steward
fi

for p in "$PORT" "$OPORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "port $p is already in use (set PORT=...)" >&2; exit 1; fi
done
WORK=$(mktemp -d -t steward-tokens.XXXXXX)
SPID=""; OPID=""
cleanup() {
  local rc=$?
  set +e
  for pid in $SPID $OPID; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  if [ "${KEEP:-0}" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
RESULTS=$WORK/results.tsv
: >"$RESULTS"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(eval(process.argv[1]))})' "$1"; }
wait_http() { for _ in $(seq 1 500); do curl -sf -o /dev/null "$1" && return 0; sleep 0.02; done; echo "not up: $1" >&2; return 1; }

# ---- A. openssl ----------------------------------------------------------------------------------
log "openssl speed -seconds 5 rsa2048 x $ROUNDS"
for r in $(seq 1 "$ROUNDS"); do
  # -mr: "+F2:<n>:2048:<sign/s>:<verify/s>"; the divisor is the process's CPU (user) time.
  sps=$(openssl speed -seconds 5 -mr rsa2048 2>/dev/null | awk -F: '/^\+F2:/ {print $4}')
  printf 'openssl\t%s\tsign_per_s=%s\n' "$r" "$sps" >>"$RESULTS"
done
SIGN_RATE=$(awk -F'\t' '$1=="openssl" {split($3,a,"="); print a[2]}' "$RESULTS" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')

# ---- A2. the crypto floor ------------------------------------------------------------------------
# Steward's own code on one thread, no HTTP, no storage: verify one RS256 assertion, build and
# sign one RS256 access token (crates/steward-oauth/examples/token_crypto_floor.rs). No server
# using these libraries can issue more tokens per CPU-second on this machine.
log "crypto floor x $ROUNDS"
cargo build --release --locked -q -p steward-oauth --example token_crypto_floor
for r in $(seq 1 "$ROUNDS"); do
  # "+FLOOR:<tokens per CPU-s>:<signatures per CPU-s>"
  "$ROOT/target/release/examples/token_crypto_floor" 5 | awk -F: -v r="$r" '/^\+FLOOR:/ {printf "floor\t%s\ttokens_per_cpu_s=%s signs_per_cpu_s=%s\n", r, $2, $3}' >>"$RESULTS"
done

# ---- Steward -------------------------------------------------------------------------------------
TOKEN=bench-tokens-ssws-0123456789abcdefghij
SURL=http://127.0.0.1:$PORT
log "starting Steward on $SURL"
mkdir -p "$WORK/steward"
STEWARD_BOOTSTRAP_API_TOKEN=$TOKEN STEWARD_RATE_LIMIT_PER_TOKEN=1000000000 STEWARD_RATE_LIMIT_PER_ADDRESS=1000000000 \
  "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/steward" >"$WORK/steward.log" 2>&1 &
SPID=$!
wait_http "$SURL/healthz"

node bench/tokens/sign.mjs keygen "$WORK"
JWK=$(cat "$WORK/client.jwk.json")
api() { # METHOD PATH [BODY]
  curl -sS -f -X "$1" -H "Authorization: SSWS $TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json' \
    ${3:+--data "$3"} "$SURL$2"
}
APP=$(api POST /api/v1/apps "{\"label\":\"Bench\",\"signOnMode\":\"OPENID_CONNECT\",
  \"credentials\":{\"oauthClient\":{\"token_endpoint_auth_method\":\"private_key_jwt\"}},
  \"settings\":{\"oauthClient\":{\"application_type\":\"service\",\"grant_types\":[\"client_credentials\"],\"jwks\":{\"keys\":[$JWK]}}}}")
APP_ID=$(echo "$APP" | json v.id)
CLIENT_ID=$(echo "$APP" | json v.credentials.oauthClient.client_id)
for scope in okta.users.read okta.groups.read; do
  api POST "/api/v1/apps/$APP_ID/grants" "{\"scopeId\":\"$scope\",\"issuer\":\"$SURL\"}" >/dev/null
done
api POST "/oauth2/v1/clients/$CLIENT_ID/roles" '{"type":"READ_ONLY_ADMIN"}' >/dev/null
USER_ID=$(api POST '/api/v1/users?activate=false' \
  '{"profile":{"login":"bench.user@example.com","email":"bench.user@example.com","firstName":"Bench","lastName":"User"}}' | json v.id)

bearer() { # SCOPE -> access token
  node bench/tokens/sign.mjs assertions "$WORK/client.pem" bench-client "$CLIENT_ID" "$SURL/oauth2/v1/token" "$1" 1 "$WORK/one.txt"
  curl -sS -f -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data @"$WORK/one.txt" "$SURL/oauth2/v1/token" | json v.access_token
}
READ_TOKEN=$(bearer okta.users.read)
OTHER_TOKEN=$(bearer okta.groups.read)
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$SURL/api/v1/users/$USER_ID"; }
[ "$(code "$READ_TOKEN")" = 200 ] || { echo "GET with okta.users.read token is not 200" >&2; exit 1; }
[ "$(code "$OTHER_TOKEN")" = 403 ] || { echo "GET with okta.groups.read token is not 403" >&2; exit 1; }

# ---- oidc-provider -------------------------------------------------------------------------------
OURL=http://127.0.0.1:$OPORT
OCLIENT=bench-oidc-provider-client
log "starting oidc-provider $(node -p 'require("./bench/tokens/node_modules/oidc-provider/package.json").version') on $OURL"
NODE_ENV=production node bench/tokens/oidc.mjs "$OPORT" "$OCLIENT" "$WORK/client.jwk.json" >"$WORK/oidc.log" 2>&1 &
OPID=$!
wait_http "$OURL/.well-known/openid-configuration"
node bench/tokens/sign.mjs assertions "$WORK/client.pem" bench-client "$OCLIENT" "$OURL/oauth2/v1/token" okta.users.read 1 "$WORK/one.txt"
OTOK=$(curl -sS -f -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data @"$WORK/one.txt" "$OURL/oauth2/v1/token")
echo "$OTOK" | json 'v.access_token.split(".").length === 3 && v.token_type === "Bearer" || process.exit(1)' >/dev/null \
  || { echo "oidc-provider did not issue a JWT access token: $OTOK" >&2; exit 1; }
log "oidc-provider access token header: $(echo "$OTOK" | json 'Buffer.from(v.access_token.split(".")[0],"base64url").toString()')"

# ---- pre-signed assertions (before any timed window) ----------------------------------------------
# Enough for every core signing at the openssl rate for the whole window, plus 30%.
N=$(awk -v s="$SIGN_RATE" -v c="$NPROC" -v d="$DURATION" 'BEGIN {n = int(s * c * d * 1.3); if (n < 20000) n = 20000; print n}')
log "pre-signing $N assertions per round per server ($((N * ROUNDS * 2)) in all)"
for r in $(seq 1 "$ROUNDS"); do
  node bench/tokens/sign.mjs assertions "$WORK/client.pem" bench-client "$CLIENT_ID" "$SURL/oauth2/v1/token" okta.users.read "$N" "$WORK/steward.$r.txt"
  node bench/tokens/sign.mjs assertions "$WORK/client.pem" bench-client "$OCLIENT" "$OURL/oauth2/v1/token" okta.users.read "$N" "$WORK/oidc.$r.txt"
done

# ---- timed rounds ----------------------------------------------------------------------------------
token_load() { # NAME PID URL BODIES ROUND
  local c0 c1 out perf=""
  if [ -n "${PERF_OUT:-}" ] && [ "$1" = steward ] && [ "$5" = 1 ]; then
    perf record -F 2000 -g -o "$PERF_OUT" -p "$2" -- sleep "$DURATION" >/dev/null 2>&1 & perf=$!
  fi
  c0=$(cpu_ticks "$2")
  out=$(wrk -t$THREADS -c"$CONC" -d"${DURATION}s" --timeout 10s -s bench/tokens/post.lua "$3/oauth2/v1/token" -- "$4" $THREADS)
  c1=$(cpu_ticks "$2")
  [ -z "$perf" ] || wait "$perf" || true
  local res dur
  res=$(echo "$out" | awk '/^RESULT/ {sub(/^RESULT /, ""); print}')
  dur=$(echo "$out" | awk '/requests in/ {for (i = 1; i <= NF; i++) if ($i == "in") {v = $(i + 1); sub(/,$/, "", v); print v}}')
  printf '%s\t%s\t%s dur=%s cpu_s=%s\n' "$1" "$5" "$res" "$dur" "$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')" >>"$RESULTS"
  log "round $5 $1: $res dur=$dur"
}
get_load() { # NAME TOKEN ROUND
  local c0 c1 out
  c0=$(cpu_ticks "$SPID")
  out=$(wrk -t$THREADS -c"$GET_CONC" -d"${DURATION}s" --latency -H "Authorization: Bearer $2" -H 'Accept: application/json' "$SURL/api/v1/users/$USER_ID")
  c1=$(cpu_ticks "$SPID")
  local total non2 dur p99
  total=$(echo "$out" | awk '/requests in/ {print $1}')
  dur=$(echo "$out" | awk '/requests in/ {for (i = 1; i <= NF; i++) if ($i == "in") {v = $(i + 1); sub(/,$/, "", v); print v}}')
  non2=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); non2=${non2:-0}
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '%s\t%s\ttotal=%s non2xx=%s dur=%s p99=%s cpu_s=%s\n' "$1" "$3" "$total" "$non2" "$dur" "$p99" \
    "$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')" >>"$RESULTS"
  log "round $3 $1: total=$total non2xx=$non2 dur=$dur p99=$p99"
}
for r in $(seq 1 "$ROUNDS"); do
  token_load steward "$SPID" "$SURL" "$WORK/steward.$r.txt" "$r"
  token_load oidc "$OPID" "$OURL" "$WORK/oidc.$r.txt" "$r"
  get_load get200 "$READ_TOKEN" "$r"
  get_load get403 "$OTHER_TOKEN" "$r"
done

# ---- report ----------------------------------------------------------------------------------------
node bench/tokens/report.mjs "$RESULTS" \
  "machine=$NPROC cores, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)" \
  "date=$(date -u '+%F %H:%M UTC')" \
  "versions=steward $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo '+dirty'), oidc-provider $(node -p 'require("./bench/tokens/node_modules/oidc-provider/package.json").version'), node $(node --version), $(openssl version | cut -d' ' -f1-2), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" \
  "load=wrk -t$THREADS -c$CONC, $ROUNDS rounds of ${DURATION}s (GET: -c$GET_CONC); $N pre-signed assertions per round"
