#!/usr/bin/env bash
# The consoles' page budget (issue 14): every page's server time p95 <= 30 ms with the demo org.
# Reproducible:
#   bash bench/console.sh                                   # SQLite in a temp dir
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/steward_bench bash bench/console.sh
# Builds the release binary, starts `steward serve --demo`, signs in to the Admin Console as the
# Super Admin and to the end-user dashboard as a demo approver (through the real sign-in form),
# crawls every page linked from /admin/ and /app/ (at most PER_ROUTE addresses per route shape),
# adds the System Log's live tail, then times ROUNDS sequential GETs of each page on one keep-alive
# connection. The time is to the answer's last byte as seen by a client on the same host: an upper
# bound of the server's time. Prints p50 / p95 / max per route; exits 1 when a p95 is over budget.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p steward >/dev/null 2>&1
BIN=target/release/steward
DATA=$(mktemp -d -t steward-console-bench.XXXXXX)
PORT=${PORT:-18093}
URL=http://127.0.0.1:$PORT
export STEWARD_BOOTSTRAP_API_TOKEN=bench-token-0123456789abcdefghij
export STEWARD_BOOTSTRAP_ADMIN_PASSWORD=Bench-Admin-Passw0rd!
export STEWARD_RATE_LIMIT_PER_TOKEN=1000000000 STEWARD_RATE_LIMIT_PER_ADDRESS=1000000000
STORE=(--data-dir "$DATA")
if [ -n "${DATABASE_URL:-}" ]; then
  # A fresh database each run, so the demo org is seeded the same way.
  PGOPTIONS="-c client_min_messages=warning" psql "${DATABASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS \"${DATABASE_URL##*/}\"" >/dev/null
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"${DATABASE_URL##*/}\"" >/dev/null
  STORE=(--database-url "$DATABASE_URL")
fi
$BIN serve --demo --listen 127.0.0.1:$PORT "${STORE[@]}" >"$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
until curl -sf $URL/healthz >/dev/null; do sleep 0.05; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); date: $(date -u '+%F %H:%M UTC'); store: $([ -n "${DATABASE_URL:-}" ] && echo PostgreSQL || echo SQLite)"
python3 - "$URL" "$STEWARD_BOOTSTRAP_API_TOKEN" "$STEWARD_BOOTSTRAP_ADMIN_PASSWORD" <<'PY'
import http.client, html, json, re, statistics, sys, time, urllib.parse, urllib.request
from http.cookiejar import CookieJar

base, token, admin_password = sys.argv[1:4]
ROUNDS, PER_ROUTE, BUDGET_MS = 100, 3, 30.0
host = urllib.parse.urlsplit(base).netloc

def api(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"SSWS {token}", "Content-Type": "application/json",
                                          "Accept": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")

def sign_in(start, login, password):
    """Signs in through the console's OAuth flow and Steward's sign-in form; returns the opener."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + start).read().decode()
    form = {k: html.unescape(v) for k, v in re.findall(r'name="(csrf|return_to)" value="([^"]*)"', page)}
    form.update(username=login, password=password)
    landed = opener.open(base + "/login", urllib.parse.urlencode(form).encode())
    assert urllib.parse.urlsplit(landed.geturl()).path == start, f"sign-in as {login} ended at {landed.geturl()}"
    return opener, jar

def shape(path):
    """The route a path belongs to: ids and numbers become {id}."""
    parts = urllib.parse.urlsplit(path)
    segs = ["{id}" if re.fullmatch(r"[0-9A-Za-z_-]{15,}|\d+", s) else s for s in parts.path.split("/")]
    keys = sorted(k for k, _ in urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return "/".join(segs) + (("?" + "&".join(keys)) if keys else "")

def crawl(opener, root, skip):
    seen, per_shape, queue, pages = set(), {}, [root], []
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        s = shape(path)
        if per_shape.get(s, 0) >= PER_ROUTE:
            continue
        r = opener.open(base + path)
        if urllib.parse.urlsplit(r.geturl()).path != urllib.parse.urlsplit(path).path or r.status != 200:
            continue
        per_shape[s] = per_shape.get(s, 0) + 1
        body = r.read().decode(errors="replace")
        pages.append(path)
        for href in re.findall(r'href="([^"#]+)"', body):
            href = html.unescape(href)
            if href.startswith(root) and not any(x in href for x in skip):
                queue.append(href)
    return pages

def timings(cookie_header, path):
    conn = http.client.HTTPConnection(host)
    headers = {"Cookie": cookie_header}
    samples = []
    for i in range(ROUNDS + 5):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        r.read()
        elapsed = (time.perf_counter() - t0) * 1000
        assert r.status == 200, f"{path}: {r.status}"
        if i >= 5:  # warm-up
            samples.append(elapsed)
    conn.close()
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.95) - 1], samples[-1]

# Flows for the Workflows pages: Steward's own fixture (function cards and helper flows, without
# its connector flow), one run of its main flow, finished before the crawl.
flopack = json.load(open("crates/steward-flows/tests/fixtures/engine_cards.flopack"))
flopack["data"]["flos"].pop("e4e00000-0000-4000-8000-000000000013")
flopack["data"]["configs"] = {}
api("POST", "/workflows/api/v1/flows", flopack)
run = api("POST", "/workflows/api/v1/flows/e4e00000-0000-4000-8000-000000000010/runs", {})
for _ in range(200):
    if api("GET", f"/workflows/api/v1/executions/{run['id']}")["status"] not in ("QUEUED", "RUNNING"):
        break
    time.sleep(0.05)

# Two demo end users for /app: one who asked for access (their requests) and the manager of a
# demo user (their approval tasks).
requests = api("GET", "/governance/api/v2/requests?limit=1")["data"]
requester = api("GET", f"/api/v1/users/{requests[0]['requestedFor']['externalId']}")["profile"]["login"]
users = api("GET", "/api/v1/users?limit=200")
approver = next(u for u in users if u["profile"].get("manager"))["profile"]["manager"]

results = []
for root, login, password, skip in [
    ("/admin/", "admin@steward.local", admin_password, ("/signout", "/signin", "/static/", "/export")),
    ("/app/", requester, "DemoPassw0rd!", ("/signout", "/signin", "/static/")),
    ("/app/", approver, "DemoPassw0rd!", ("/signout", "/signin", "/static/")),
]:
    opener, jar = sign_in(root, login, password)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    pages = crawl(opener, root, skip)
    if root == "/admin/":
        top = opener.open(base + "/admin/logs").read().decode()
        tail = html.unescape(re.search(r'data-live-tail="([^"]+)"', top).group(1))
        cursor = re.search(r'data-cursor="(\d+)"', top).group(1)
        pages.append(f"{tail}&after={cursor}")
    for path in pages:
        results.append((shape(path), path) + timings(cookie, path))

worst = {}
for s, path, p50, p95, mx in results:
    if s not in worst or p95 > worst[s][2]:
        worst[s] = (path, p50, p95, mx)
print(f"{len(results)} pages in {len(worst)} routes, {ROUNDS} sequential GETs each (the slowest address per route):")
print(f"{'route':<58} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
for s, (path, p50, p95, mx) in sorted(worst.items(), key=lambda kv: -kv[1][2]):
    flag = "  OVER" if p95 > BUDGET_MS else ""
    print(f"{s[:58]:<58} {p50:7.2f} {p95:7.2f} {mx:7.2f}{flag}")
over = [s for s, v in worst.items() if v[2] > BUDGET_MS]
slowest = max(worst.items(), key=lambda kv: kv[1][2])
print(f"worst p95: {slowest[1][2]:.2f} ms ({slowest[0]}); budget {BUDGET_MS:.0f} ms: {'NOT met on ' + str(len(over)) + ' routes' if over else 'met on every page'}")
sys.exit(1 if over else 0)
PY
