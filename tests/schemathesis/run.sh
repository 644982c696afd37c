#!/usr/bin/env bash
# Schemathesis against Steward's Access Requests operations (issue 4): zero 5xx and zero responses
# that violate the spec's schemas, for every operation implemented, with Okta's specs as the schema
# and a valid token: the SSWS Super Admin token for the admin specs, and for the end-user (`my`)
# operations a user's access token from the authorization-code flow (user_token.py signs a demo
# approver in through the real form). Bounded examples: finishes in a few minutes.
#   bash tests/schemathesis/run.sh           # SQLite in a temp dir (STEWARD_DATABASE_URL to override)
# Env: MAX_EXAMPLES (default 25), PORT (default 18190), STEWARD_SPECS_DIR (default ../shared/specs).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SPECS=${STEWARD_SPECS_DIR:-$ROOT/../shared/specs}
PORT=${PORT:-18190}
MAX_EXAMPLES=${MAX_EXAMPLES:-25}
VERSION=4.32.5
VENV=${SCHEMATHESIS_VENV:-$ROOT/target/schemathesis-venv}
TOKEN=schemathesis-token-0123456789abcdefghij
URL=http://127.0.0.1:$PORT

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$VERSION"
fi

cargo build -q -p steward
DATA=$(mktemp -d -t steward-st.XXXXXX)
export STEWARD_BOOTSTRAP_API_TOKEN=$TOKEN STEWARD_RATE_LIMIT_PER_TOKEN=100000000 STEWARD_RATE_LIMIT_PER_ADDRESS=100000000
target/debug/steward serve --demo --listen 127.0.0.1:$PORT --data-dir "$DATA" >"$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 1 300); do curl -sf $URL/healthz >/dev/null && break; sleep 0.1; done
curl -sf $URL/healthz >/dev/null

# A user token first, while the demo approver's task is still open.
USER_TOKEN=$(python3 tests/schemathesis/user_token.py "$URL" "$TOKEN")

# Every implemented operation of the two admin specs (all of them, see docs/api-coverage.md), and
# the implemented `my` operations of the end-user spec (catalogs, requests, tasks), and the
# resource-owners operations.
run() {
  local spec=$1 auth=$2
  shift 2
  # Run from the temp dir: schemathesis keeps its cache (.schemathesis/) in the working directory.
  (cd "$DATA" && "$VENV/bin/schemathesis" run "$SPECS/$spec" \
    --url "$URL" \
    --header "Authorization: $auth" \
    --checks not_a_server_error,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --seed 4 \
    --no-color "$@")
}
status=0
run governance-production-requests-admin-v2-reference-minimal.yaml "SSWS $TOKEN" || status=1
run governance-production-requests-admin-v1-reference-minimal.yaml "SSWS $TOKEN" || status=1
# The user token must still work (it lives an hour): a run answered only with 401s tests nothing.
curl -sf -o /dev/null -H "Authorization: Bearer $USER_TOKEN" "$URL/governance/api/v2/my/tasks" \
  || { echo "the end-user token no longer works"; exit 1; }
run governance-production-enduser-reference-minimal.yaml "Bearer $USER_TOKEN" \
  --include-path-regex '^/governance/api/v2/my/(catalogs|tasks)' || status=1
# Resource owners decide RESOURCE_OWNER approval steps; their API is in the governance spec.
run governance-production-reference-minimal.yaml "SSWS $TOKEN" \
  --include-path-regex '^/governance/api/v1/resource-owners' || status=1
if grep -q "panicked" "$DATA/server.log"; then
  echo "the server panicked:"; grep -A5 panicked "$DATA/server.log"; status=1
fi
exit $status
