#!/usr/bin/env python3
"""Writes docs/api-coverage.md: which operations of Okta's specs Steward serves.

Implemented routes are read from `steward routes --json`: the route table the server is built
from, each route with its scope, permission and least admin role. The binary is $STEWARD_BIN, else
`cargo run -q -p steward`. Operations come from the specs in ../shared/specs (or
$STEWARD_SPECS_DIR). Run: python3 tools/api_coverage.py
"""
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.environ.get("STEWARD_SPECS_DIR", os.path.join(ROOT, "..", "shared", "specs"))
FILES = [
    "management-minimal.yaml",
    "governance-production-reference-minimal.yaml",
    "governance-production-enduser-reference-minimal.yaml",
    "governance-production-requests-admin-v1-reference-minimal.yaml",
    "governance-production-requests-admin-v2-reference-minimal.yaml",
]
# Tests that exercise each implemented route family, by path prefix.
TESTS = [
    ("/api/v1/users/{}/roles", "crates/steward-api/tests/api/directory.rs"),
    ("/api/v1/users/{}/lifecycle/activate", "crates/steward-api/tests/api/activation.rs"),
    ("/api/v1/users/{}/lifecycle/reactivate", "crates/steward-api/tests/api/activation.rs"),
    ("/api/v1/users", "crates/steward-api/tests/api/users.rs"),
    ("/api/v1/groups", "crates/steward-api/tests/api/directory.rs"),
    ("/api/v1/apps/{}/grants", "crates/steward-api/tests/api/oauth.rs"),
    ("/api/v1/apps/{}/credentials", "crates/steward-api/tests/api/app_credentials.rs"),
    ("/api/v1/apps", "crates/steward-api/tests/api/directory.rs"),
    ("/oauth2/v1/clients", "crates/steward-api/tests/api/directory.rs"),
    ("/api/v1/logs", "crates/steward-api/tests/api/directory.rs"),
    ("/governance/api/v1/request-types", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v1/requests", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v1/teams", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/resources/{}/request-", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/request-", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/requests", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/catalogs", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/tasks", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/my/catalogs", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v2/my/tasks", "crates/steward-api/tests/api/access_requests.rs"),
    ("/governance/api/v1/resource-owners", "crates/steward-api/tests/api/resource_owners.rs"),
]


def norm(path):
    return re.sub(r"\{[^}]+\}", "{}", path)


def route_table():
    binary = os.environ.get("STEWARD_BIN")
    cmd = [binary] if binary else ["cargo", "run", "-q", "-p", "steward", "--"]
    out = subprocess.run(cmd + ["routes", "--json"], cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def role_of(route):
    return f"`{route['role']}`" if route["role"] else "signed-in user"


def implemented():
    """(method, normalised path) -> the least role that may call it."""
    routes = {}
    for route in route_table():
        method, path = route["method"], route["path"]
        if path.endswith("/lifecycle/{op}"):
            base = path[: -len("{op}")]
            ops = ["activate", "reactivate", "deactivate", "suspend", "unsuspend", "unlock"] if "/users/" in path else ["activate", "deactivate"]
            for op in ops:
                routes[(method, norm(base + op))] = role_of(route)
        else:
            routes[(method, norm(path))] = role_of(route)
    return routes


def test_for(path):
    for prefix, test in TESTS:
        if norm(path).startswith(norm(prefix)):
            return test
    return ""


# Where Steward's links differ from Okta's, and why: every link Steward returns resolves
# (crates/steward-api/tests/api/links.rs follows them all).
LINKS = [
    "## Links",
    "",
    "Every `_links` href and `Link` header Steward returns answers (the HTTP test `links.rs` creates",
    "the main resources and follows them all with an admin token; action links such as",
    "`lifecycle/deactivate` are checked to be routed, and called on throwaway users and apps).",
    "Where Okta's schema has a link Steward cannot serve, Steward omits it rather than return a dead",
    "link:",
    "",
    "| resource | link | Steward |",
    "| --- | --- | --- |",
    "| app scope grant | `scope` (`/api/v1/authorizationServers/default/scopes/…`) | omitted: authorization server scopes are not built; `?expand=scope` embeds the scope |",
    "| app scope grant, client role assignment | `client`, `assignee` (`/oauth2/v1/clients/{clientId}`) | served: `GET /oauth2/v1/clients/{clientId}` answers the client's registration metadata (Dynamic Client Registration read; `okta.clients.read`, a role that reads apps) |",
    "| user | `type`, `schema` (`/api/v1/meta/…`) | omitted: user types and schemas are not built |",
    "| group | `apps` (`/api/v1/groups/{id}/apps`) | omitted: not built |",
    "| resource owner principal | `self` (Okta: the Admin Console pages `/admin/user/profile/view/{id}`, `/admin/group/{id}`) | the API resource instead, `/api/v1/users/{id}` or `/api/v1/groups/{id}`: Steward has no Admin Console, and the API resource is the same principal |",
    "| v2 task of a v1 request | `request` | `/governance/api/v1/requests/{id}` (a v1 request is not served under `/v2/requests`) |",
    "",
]


def main():
    done = implemented()
    out = ["# API coverage", "",
           "Generated by `python3 tools/api_coverage.py` from Okta's specs (`../shared/specs`) and the route",
           "table (`steward routes --json`). *Implemented* means served with the spec's path, fields and status",
           "codes and guarded by the spec's scope; the role column names the least-privileged admin role that",
           "may call it (see `docs/roles.md`); the test column names the HTTP test file that exercises it (on",
           "SQLite and PostgreSQL). Okta's SDK suites (`compat/`) exercise the users, groups, apps, roles and",
           "logs routes too. An operation *not built yet* answers `501 Not Implemented` with `E0000015` naming",
           "it (not `404`), and its scopes cannot be granted (see `docs/roles.md`, \"Not built yet\").", "",
           "Okta publishes no spec of the Workflows API: Steward's `/workflows/api/v1` (flows, folders, tables,",
           "connections, executions) and `POST /api/flo/{flowId}/invoke` are listed with their scopes in",
           "`docs/roles.md` and described in `docs/workflows.md`.", ""]
    out += LINKS
    summary = []
    sections = []
    for name in FILES:
        spec = yaml.safe_load(open(os.path.join(SPECS, name)))
        ops = []
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "delete", "patch"):
                    continue
                scopes = []
                for req in op.get("security", []) or []:
                    for _, s in req.items():
                        scopes.extend(x for x in s if x != "admin")
                tag = (op.get("tags") or ["(untagged)"])[0]
                ops.append((tag, method.upper(), path, op.get("operationId", ""), ", ".join(scopes)))
        n_done = sum(1 for o in ops if (o[1], norm(o[2])) in done)
        summary.append(f"| `{name}` | {len(ops)} | {n_done} |")
        by_tag = defaultdict(list)
        for o in ops:
            by_tag[o[0]].append(o)
        lines = [f"## `{name}`", ""]
        if name == "management-minimal.yaml":
            lines += ["The Management API has hundreds of operations; families with at least one implemented",
                      "operation are listed in full, the rest by count.", ""]
            rest = []
            for tag in sorted(by_tag):
                tag_ops = by_tag[tag]
                if not any((o[1], norm(o[2])) in done for o in tag_ops):
                    rest.append(f"{tag} ({len(tag_ops)})")
                    continue
                lines += [f"### {tag}", "", "| method | path | operation | scope | role | state | test |", "| --- | --- | --- | --- | --- | --- | --- |"]
                for o in sorted(tag_ops, key=lambda o: (o[2], o[1])):
                    role = done.get((o[1], norm(o[2])))
                    ok = role is not None
                    lines.append(f"| {o[1]} | `{o[2]}` | {o[3]} | {o[4]} | {role or ''} | {'implemented, tested' if ok else 'not built yet'} | {test_for(o[2]) if ok else ''} |")
                lines.append("")
            lines += ["Families not built yet: " + ", ".join(rest) + ".", ""]
        else:
            lines += ["| family | method | path | operation | scope | role | state |", "| --- | --- | --- | --- | --- | --- | --- |"]
            for o in sorted(ops, key=lambda o: (o[0], o[2], o[1])):
                role = done.get((o[1], norm(o[2])))
                ok = role is not None
                state = ("implemented, tested" if test_for(o[2]) else "implemented") if ok else "not built yet"
                lines.append(f"| {o[0]} | {o[1]} | `{o[2]}` | {o[3]} | {o[4]} | {role or ''} | {state} |")
            lines.append("")
        sections += lines
    out += ["| spec | operations | implemented |", "| --- | --- | --- |"] + summary + [""] + sections
    dest = os.path.join(ROOT, "docs", "api-coverage.md")
    open(dest, "w").write("\n".join(out) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    sys.exit(main())
