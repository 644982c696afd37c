#!/usr/bin/env bash
# Workflows throughput (issue 13 budget: >= 5x n8n's executions per second): an API endpoint flow of five
# function cards (Compose, To Lowercase, Concatenate, Length, Add, then Return), history on, invoked over
# HTTP by autocannon; and n8n running the equivalent webhook workflow (five Set nodes, "respond with the
# last node"), every execution saved, in the same run, rounds interleaved.
# Reproducible:
#   bash bench/workflows.sh                       # SQLite for both
#   ROUNDS=3 DURATION=15 CONNECTIONS=16 bash bench/workflows.sh
#   BIN=path/to/steward bash bench/workflows.sh    # a binary built already
# First run installs n8n and autocannon into bench/workflows/node_modules (npm; about 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18097}
N8N_PORT=${N8N_PORT:-18098}
TOKEN=bench-token-0123456789abcdefghij
URL=http://127.0.0.1:$PORT
HERE=bench/workflows
[ -x $HERE/node_modules/.bin/n8n ] || npm install --prefix $HERE --no-audit --no-fund --loglevel=error
if [ -z "${BIN:-}" ]; then cargo build --release -q -p steward; BIN=target/release/steward; fi
DATA=$(mktemp -d -t steward-wfbench.XXXXXX)
cleanup() { kill ${PID:-} ${N8N_PID:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$DATA"; }
trap cleanup EXIT

# Steward: the demo org on SQLite; the flow imported and switched on through the API.
export STEWARD_BOOTSTRAP_API_TOKEN=$TOKEN STEWARD_RATE_LIMIT_PER_TOKEN=1000000000 STEWARD_RATE_LIMIT_PER_ADDRESS=1000000000
$BIN serve --demo --listen 127.0.0.1:$PORT --data-dir "$DATA/steward" >"$DATA/steward.log" 2>&1 & PID=$!
until curl -sf $URL/healthz >/dev/null; do sleep 0.1; done
python3 $HERE/gen_five_cards.py > "$DATA/five.flopack"
IMPORTED=$(curl -sf -X POST -H "Authorization: SSWS $TOKEN" -H 'Content-Type: application/json' --data-binary @"$DATA/five.flopack" $URL/workflows/api/v1/flows)
FLOW=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"][0]["id"])' <<<"$IMPORTED")
CLIENT_TOKEN=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["clientTokens"][0]["clientToken"])' <<<"$IMPORTED")
curl -sf -X POST -H "Authorization: SSWS $TOKEN" $URL/workflows/api/v1/flows/$FLOW/activate >/dev/null
STEWARD_INVOKE="$URL/api/flo/$FLOW/invoke?clientToken=$CLIENT_TOKEN"

# n8n: its own folder and SQLite database, every execution saved.
export N8N_USER_FOLDER="$DATA/n8n" N8N_PORT N8N_DIAGNOSTICS_ENABLED=false N8N_PERSONALIZATION_ENABLED=false \
  EXECUTIONS_DATA_SAVE_ON_SUCCESS=all EXECUTIONS_DATA_SAVE_ON_ERROR=all N8N_LOG_LEVEL=warn
N8N=$HERE/node_modules/.bin/n8n
$N8N import:workflow --input=$HERE/n8n_five_nodes.json >"$DATA/n8n-import.log" 2>&1
$N8N publish:workflow --id=benchFiveNodes01 >>"$DATA/n8n-import.log" 2>&1
$N8N start >"$DATA/n8n.log" 2>&1 & N8N_PID=$!
N8N_HOOK=http://127.0.0.1:$N8N_PORT/webhook/bench
until curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"Ada"}' $N8N_HOOK >/dev/null 2>&1; do sleep 1; done

echo "Steward answers: $(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"Ada"}' "$STEWARD_INVOKE")"
echo "n8n answers:     $(curl -sf -X POST -H 'Content-Type: application/json' -d '{"name":"Ada"}' $N8N_HOOK)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %H:%M UTC'); n8n $($N8N --version)"
load() { # load URL -> requests per second (2xx only), errors
  node $HERE/load.mjs "$1" "$DURATION" "$CONNECTIONS"
}
STEWARD_RATES=(); N8N_RATES=()
for r in $(seq 1 "$ROUNDS"); do
  s=$(load "$STEWARD_INVOKE"); n=$(load "$N8N_HOOK")
  echo "round $r: Steward $s, n8n $n"
  STEWARD_RATES+=("${s%% *}"); N8N_RATES+=("${n%% *}")
done
python3 - "${STEWARD_RATES[*]}" "${N8N_RATES[*]}" <<'PY'
import statistics, sys
s = [float(x) for x in sys.argv[1].split()]; n = [float(x) for x in sys.argv[2].split()]
ms, mn = statistics.median(s), statistics.median(n)
print(f"median executions/s: Steward {ms:.0f}, n8n {mn:.0f}; ratio {ms / mn:.1f}x")
PY
# Every acknowledged execution is stored with its history, on both sides.
echo "Steward runs stored: $(curl -sf -H "Authorization: SSWS $TOKEN" "$URL/workflows/api/v1/executions?flowId=$FLOW&limit=1" -o /dev/null -w '%{http_code}')"
