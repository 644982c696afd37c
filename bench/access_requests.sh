#!/usr/bin/env bash
# Access Requests benchmarks (issue 4 budgets: p99 <= 20 ms for both, at 1,000,000 stored requests):
#   1. POST /governance/api/v2/requests (create a v2 request through a condition and a sequence),
#   2. GET  /governance/api/v2/requests?filter=status eq "PENDING"&limit=200.
# Reproducible:
#   bash bench/access_requests.sh                 # SQLite in a temp dir
#   BACKEND=postgres bash bench/access_requests.sh   # PostgreSQL at 127.0.0.1:5432 (PG_ADMIN_URL)
# Seeds the demo org through `serve --demo`, then bulk-INSERTs N (default 1,000,000) requests with
# SQL (copies of a demo request's stored body, a quarter PENDING), restarts, and measures each call
# sequentially (SAMPLES, default 500) from Python, printing p50/p99.
set -euo pipefail
cd "$(dirname "$0")/.."
BACKEND=${BACKEND:-sqlite}
N=${N:-1000000}
SAMPLES=${SAMPLES:-500}
PORT=${PORT:-18095}
TOKEN=bench-token-0123456789abcdefghij
URL=http://127.0.0.1:$PORT
cargo build --release -q -p steward
BIN=target/release/steward
DATA=$(mktemp -d -t steward-arbench.XXXXXX)
export STEWARD_BOOTSTRAP_API_TOKEN=$TOKEN STEWARD_RATE_LIMIT_PER_TOKEN=1000000000 STEWARD_RATE_LIMIT_PER_ADDRESS=1000000000
if [ "$BACKEND" = postgres ]; then
  ADMIN=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
  DB=steward_arbench_$RANDOM
  psql "$ADMIN" -qc "CREATE DATABASE $DB"
  DBURL=${ADMIN%/*}/$DB
  STORE=(--database-url "$DBURL")
  sql() { psql "$DBURL" -qAt -c "$1"; }
else
  STORE=(--data-dir "$DATA")
  sql() { sqlite3 "$DATA/steward.db" "$1"; }
fi
start() { $BIN serve --demo --listen 127.0.0.1:$PORT "${STORE[@]}" >>"$DATA/server.log" 2>&1 & PID=$!; until curl -sf $URL/healthz >/dev/null; do sleep 0.05; done; }
stop() { kill $PID; wait $PID 2>/dev/null || true; }

start; stop
TEMPLATE_ID=$(sql "SELECT id FROM ar_requests WHERE status = 'PENDING' LIMIT 1")
t0=$(date +%s)
if [ "$BACKEND" = postgres ]; then
  sql "INSERT INTO ar_requests (id, api_version, status, requested_for, resource_id, access_scope_id, access_scope_type, created, last_updated, due_at, body)
       SELECT 'reqB' || lpad(n::text, 16, '0'), 2, CASE WHEN n % 4 = 0 THEN 'PENDING' ELSE 'APPROVED' END, t.requested_for, t.resource_id,
              t.access_scope_id, t.access_scope_type, t.created, t.last_updated, NULL, replace(t.body, t.id, 'reqB' || lpad(n::text, 16, '0'))
       FROM generate_series(1, $N) AS n, (SELECT * FROM ar_requests WHERE id = '$TEMPLATE_ID') AS t"
  sql "ANALYZE ar_requests"
else
  sql "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $N)
       INSERT INTO ar_requests (id, api_version, status, requested_for, resource_id, access_scope_id, access_scope_type, created, last_updated, due_at, body)
       SELECT 'reqB' || printf('%016d', n), 2, CASE WHEN n % 4 = 0 THEN 'PENDING' ELSE 'APPROVED' END, t.requested_for, t.resource_id,
              t.access_scope_id, t.access_scope_type, t.created, t.last_updated, NULL, replace(t.body, t.id, 'reqB' || printf('%016d', n))
       FROM c, (SELECT * FROM ar_requests WHERE id = '$TEMPLATE_ID') AS t;
       ANALYZE;"
fi
echo "backend: $BACKEND; seeded $N requests in $(( $(date +%s) - t0 )) s; machine: $(nproc) cores, $(uname -r), $(date -u +%F)"
start
python3 - "$URL" "$TOKEN" "$SAMPLES" <<'PY'
import json, sys, time, urllib.request, urllib.parse
url, token, samples = sys.argv[1], sys.argv[2], int(sys.argv[3])
H = {"Authorization": f"SSWS {token}", "Content-Type": "application/json", "Accept": "application/json"}
def call(method, path, body=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode() if body is not None else None, method=method, headers=H)
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        data = r.read()
    return (time.perf_counter() - t) * 1000, json.loads(data) if data else None
_, top = call("GET", "/governance/api/v2/catalogs/default/entries?" + urllib.parse.urlencode({"filter": "not(parent pr)"}))
_, kids = call("GET", "/governance/api/v2/catalogs/default/entries?" + urllib.parse.urlencode({"filter": f'parent eq "{top["data"][0]["id"]}"'}))
entry = kids["data"][0]["id"]
_, users = call("GET", "/api/v1/users?" + urllib.parse.urlencode({"limit": 40, "filter": 'status eq "ACTIVE"'}))
def pct(xs, p): xs = sorted(xs); return xs[min(len(xs) - 1, int(len(xs) * p / 100))]
lat = []
for i in range(samples):
    u = users[i % len(users)]["id"]
    ms, _ = call("POST", "/governance/api/v2/requests", {"requested": {"type": "CATALOG_ENTRY", "entryId": entry}, "requestedFor": {"externalId": u, "type": "OKTA_USER"}})
    lat.append(ms)
print(f"create v2 request: p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms ({samples} sequential)")
q = "/governance/api/v2/requests?" + urllib.parse.urlencode({"filter": 'status eq "PENDING"', "limit": 200})
lat = []
after = None
for i in range(samples):
    ms, page = call("GET", q + (f"&after={after}" if after and i % 10 else ""))
    assert len(page["data"]) == 200
    after = page["data"][-1]["id"]
    lat.append(ms)
print(f"list 200 with status filter: p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms ({samples} sequential, pages 1-10)")
PY
stop
rm -rf "$DATA"
[ "$BACKEND" = postgres ] && psql "$ADMIN" -qc "DROP DATABASE $DB" || true
