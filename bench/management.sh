#!/usr/bin/env bash
# Management API benchmarks (issue budgets in docs/benchmarks.md). Reproducible:
#   bash bench/management.sh            # SQLite in a temp dir
# Builds the release binary, seeds 10,000 users through the API, then measures with wrk:
#   1. GET /api/v1/users/{id} with an SSWS token (throughput),
#   2. GET /api/v1/users?limit=200 at 10,000 users (latency percentiles, one client and four),
#   3. resident memory idle after start and after the load,
#   4. restart: time from exec to a 200 from /healthz on the existing store (hyperfine-style median of 5).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
cargo build --release --locked -p steward >/dev/null 2>&1
BIN=target/release/steward
DATA=$(mktemp -d -t steward-bench.XXXXXX)
PORT=${PORT:-18090}
TOKEN=bench-token-0123456789abcdefghij
URL=http://127.0.0.1:$PORT
DURATION=${DURATION:-15s}
export STEWARD_BOOTSTRAP_API_TOKEN=$TOKEN STEWARD_RATE_LIMIT_PER_TOKEN=1000000000 STEWARD_RATE_LIMIT_PER_ADDRESS=1000000000

start() { $BIN serve --listen 127.0.0.1:$PORT --data-dir "$DATA" >"$DATA/server.log" 2>&1 & PID=$!; until curl -sf $URL/healthz >/dev/null; do sleep 0.02; done; }
stop() { kill $PID; wait $PID 2>/dev/null || true; }
rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$PID/status; }

start
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); date: $(date -u +%F)"
echo "idle RSS after start: $(rss)"
python3 - "$URL" "$TOKEN" <<'PY'
import json, sys, urllib.request, concurrent.futures as cf
url, token = sys.argv[1], sys.argv[2]
def create(i):
    login = f"bench{i:05d}@example.com"
    body = json.dumps({"profile": {"login": login, "email": login, "firstName": f"Bench{i}", "lastName": "User", "department": ["Eng", "Sales", "Ops"][i % 3]}}).encode()
    req = urllib.request.Request(f"{url}/api/v1/users?activate=false", data=body, method="POST",
                                 headers={"Authorization": f"SSWS {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
with cf.ThreadPoolExecutor(8) as ex:
    list(ex.map(create, range(10_000)))
PY
USER_ID=$(curl -sf -H "Authorization: SSWS $TOKEN" "$URL/api/v1/users?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
echo "seeded 10,000 users; idle RSS: $(rss)"

echo; echo "== GET /api/v1/users/{id} (SSWS), wrk -t2 -c64 -d$DURATION"
wrk -t2 -c64 -d$DURATION --latency -H "Authorization: SSWS $TOKEN" "$URL/api/v1/users/$USER_ID" | grep -E 'Requests/sec|Latency|50%|99%'

# The budget is the latency of one list call: one client, back to back (3 rounds). Four clients
# show the same call under contention on the two cores that wrk shares with the server.
for round in 1 2 3; do
  echo; echo "== GET /api/v1/users?limit=200 at 10,000 users, one client (wrk -t1 -c1 -d$DURATION), round $round"
  wrk -t1 -c1 -d$DURATION --latency -H "Authorization: SSWS $TOKEN" "$URL/api/v1/users?limit=200" | grep -E 'Requests/sec|50%|90%|99%'
done
echo; echo "== GET /api/v1/users?limit=200 at 10,000 users, four clients (wrk -t1 -c4 -d$DURATION)"
wrk -t1 -c4 -d$DURATION --latency -H "Authorization: SSWS $TOKEN" "$URL/api/v1/users?limit=200" | grep -E 'Requests/sec|50%|90%|99%'
echo "RSS after load: $(rss)"
stop

echo; echo "== restart on the existing store: exec to /healthz 200 (5 runs)"
for i in 1 2 3 4 5; do
  t0=$(date +%s%N); start; t1=$(date +%s%N); stop
  echo "run $i: $(( (t1 - t0) / 1000000 )) ms"
done
rm -rf "$DATA"
