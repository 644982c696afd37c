#!/usr/bin/env python3
"""Generate crates/steward-core/src/scopes/catalogue.rs from Okta's OpenAPI specs.

Usage (from the workspace root):

    python3 tools/gen_scopes.py [--specs DIR] [--out FILE] [--no-rustfmt]

DIR defaults to $STEWARD_SPECS_DIR, else ../shared/specs relative to the workspace root.
Needs PyYAML (`pip install pyyaml`). The output is piped through `rustfmt` unless
--no-rustfmt is given (formatting never changes the data; the Rust test
`crates/steward-core/tests/scope_catalogue_matches_specs.rs` compares data, not text).

Rules (the Rust test re-implements them independently; keep both in sync):

* Scopes: every `okta.*` scope declared in `components.securitySchemes.<oauth2 scheme>.flows.*.scopes`
  or used in any operation's `security` requirement for an oauth2 scheme. Non-`okta.*` names
  (`ssf.read`, `ssf.manage`, and the `ApiKey: [admin]` pseudo-scope of the apiKey scheme) are not
  catalogued as scopes. A scope used but declared nowhere gets `declared: false` and an empty
  description. When several files declare the same scope, the description is taken from the first
  file in DESCRIPTION_PRIORITY (governance-combined first); descriptions are whitespace-preserved.
* Family: `okta.accessRequests.*` -> AccessRequests, `okta.governance.*` -> Governance, else Management.
* Operations: every (method, path) of every spec. The governance-combined spec is exactly the union of
  the four split governance specs; each operation is kept once, attributed to its SPLIT file. An
  operation present only in the combined spec would be attributed to the combined file; an operation
  present in both with different operationId/scopes/roles/lifecycle is an error.
* Path: server path prefix (operation `servers`, else path-item `servers`, else document `servers`,
  first entry; the URL path component) + the spec path. In the current specs every server URL has no
  path component and every spec path is already absolute (`/api/v1/...`, `/governance/api/v1/...`).
* Scopes of an operation: the scopes of the oauth2-type scheme(s) in its `security` (operation level,
  else document level), in spec order, de-duplicated. An operation must have at most one security
  requirement object naming an oauth2 scheme (checked), so the flat list is exact: per OpenAPI, all
  scopes in that list are required together.
* Lifecycle: `x-okta-lifecycle.lifecycle` of the operation, else of the path item, else "".
* Admin roles: `x-okta-iam-admin-roles` of the operation, in spec order, else empty.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

try:
    Loader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover - pure-python fallback
    Loader = yaml.SafeLoader

ROOT = Path(__file__).resolve().parent.parent
OUT_DEFAULT = ROOT / "crates" / "steward-core" / "src" / "scopes" / "catalogue.rs"

MANAGEMENT = "management-minimal"
COMBINED = "governance-combined-production-reference-minimal"
SPLIT = [
    "governance-production-reference-minimal",
    "governance-production-enduser-reference-minimal",
    "governance-production-requests-admin-v1-reference-minimal",
    "governance-production-requests-admin-v2-reference-minimal",
]
SPEC_STEMS = [MANAGEMENT, COMBINED] + SPLIT
# Where a scope's description is taken from when several files declare it.
DESCRIPTION_PRIORITY = [COMBINED, MANAGEMENT] + SPLIT

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class SpecError(Exception):
    pass


def family(scope: str) -> str:
    if scope.startswith("okta.accessRequests."):
        return "AccessRequests"
    if scope.startswith("okta.governance."):
        return "Governance"
    return "Management"


def server_prefix(servers) -> str:
    if not servers:
        return ""
    url = servers[0].get("url", "")
    return urlsplit(url).path.rstrip("/")


def lifecycle_of(node) -> str:
    lc = node.get("x-okta-lifecycle") if isinstance(node, dict) else None
    if isinstance(lc, dict):
        value = lc.get("lifecycle")
        return "" if value is None else str(value)
    return ""


def oauth_schemes(doc) -> set[str]:
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    return {
        name
        for name, scheme in schemes.items()
        if (scheme or {}).get("type") in ("oauth2", "openIdConnect")
    }


def declared_scopes(doc) -> dict[str, str]:
    out: dict[str, str] = {}
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    for scheme in schemes.values():
        for flow in ((scheme or {}).get("flows") or {}).values():
            for name, desc in ((flow or {}).get("scopes") or {}).items():
                out.setdefault(str(name), "" if desc is None else str(desc))
    return out


def operations(stem: str, doc):
    """Yield dicts for every operation of one spec."""
    oauth = oauth_schemes(doc)
    doc_servers = doc.get("servers")
    doc_security = doc.get("security")
    for path, item in (doc.get("paths") or {}).items():
        item = item or {}
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            servers = op.get("servers") or item.get("servers") or doc_servers
            security = op["security"] if "security" in op else doc_security
            reqs = [req for req in (security or []) if any(k in oauth for k in (req or {}))]
            if len(reqs) > 1:
                raise SpecError(
                    f"{stem}: {method.upper()} {path} has {len(reqs)} alternative OAuth2 "
                    "security requirements; the flat `scopes` list cannot represent that"
                )
            scopes: list[str] = []
            for req in reqs:
                for scheme_name, names in req.items():
                    if scheme_name in oauth:
                        for s in names or []:
                            if str(s) not in scopes:
                                scopes.append(str(s))
            lifecycle = lifecycle_of(op) or lifecycle_of(item)
            roles = [str(r) for r in (op.get("x-okta-iam-admin-roles") or [])]
            yield {
                "method": method.upper(),
                "path": server_prefix(servers) + str(path),
                "operation_id": str(op.get("operationId") or ""),
                "scopes": scopes,
                "admin_roles": roles,
                "lifecycle": lifecycle,
                "spec": stem,
            }


def build(specs_dir: Path):
    docs = {}
    for stem in SPEC_STEMS:
        path = specs_dir / f"{stem}.yaml"
        if not path.is_file():
            raise SpecError(f"missing spec file {path}")
        with path.open("r", encoding="utf-8") as fh:
            docs[stem] = yaml.load(fh, Loader=Loader)

    # ---- scopes
    declared_by_stem = {stem: declared_scopes(docs[stem]) for stem in SPEC_STEMS}
    used: set[str] = set()
    all_ops = {stem: list(operations(stem, docs[stem])) for stem in SPEC_STEMS}
    for ops in all_ops.values():
        for op in ops:
            used.update(op["scopes"])
    names = {n for d in declared_by_stem.values() for n in d} | used
    scopes = []
    for name in sorted(n for n in names if n.startswith("okta.")):
        desc = ""
        declared = False
        for stem in DESCRIPTION_PRIORITY:
            if name in declared_by_stem[stem]:
                desc = declared_by_stem[stem][name]
                declared = True
                break
        scopes.append({"name": name, "description": desc, "family": family(name), "declared": declared})

    # ---- operations
    table: dict[tuple[str, str], dict] = {}
    for stem in [MANAGEMENT] + SPLIT:
        for op in all_ops[stem]:
            key = (op["path"], op["method"])
            if key in table:
                raise SpecError(f"{op['method']} {op['path']} appears in {table[key]['spec']} and {stem}")
            table[key] = op
    fields = ("operation_id", "scopes", "admin_roles", "lifecycle")
    for op in all_ops[COMBINED]:
        key = (op["path"], op["method"])
        if key not in table:
            table[key] = op
            continue
        other = table[key]
        for f in fields:
            if op[f] != other[f]:
                raise SpecError(
                    f"{op['method']} {op['path']}: {f} differs between {COMBINED} ({op[f]!r}) "
                    f"and {other['spec']} ({other[f]!r})"
                )
    ops_sorted = [table[k] for k in sorted(table)]
    return scopes, ops_sorted


def rust_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def rust_str_slice(items) -> str:
    return "&[" + ", ".join(rust_str(i) for i in items) + "]"


def render(scopes, ops) -> str:
    lines = [
        "// @generated by tools/gen_scopes.py from Okta's OpenAPI specs (shared/specs). DO NOT EDIT.",
        "// Regenerate from the workspace root with `python3 tools/gen_scopes.py` (needs PyYAML; set",
        "// STEWARD_SPECS_DIR to use specs outside ../shared/specs). The test",
        "// crates/steward-core/tests/scope_catalogue_matches_specs.rs checks this table against the specs.",
        "",
        "use super::{OperationInfo, ScopeFamily, ScopeInfo};",
        "",
        f"/// Every `okta.*` scope declared or used by the specs ({len(scopes)}), sorted by name.",
        "pub static SCOPES: &[ScopeInfo] = &[",
    ]
    for s in scopes:
        lines += [
            "    ScopeInfo {",
            f"        name: {rust_str(s['name'])},",
            f"        description: {rust_str(s['description'])},",
            f"        family: ScopeFamily::{s['family']},",
            f"        declared: {'true' if s['declared'] else 'false'},",
            "    },",
        ]
    lines += [
        "];",
        "",
        f"/// Every operation of every spec ({len(ops)}), sorted by path then method.",
        "pub static OPERATIONS: &[OperationInfo] = &[",
    ]
    for o in ops:
        lines += [
            "    OperationInfo {",
            f"        method: {rust_str(o['method'])},",
            f"        path: {rust_str(o['path'])},",
            f"        operation_id: {rust_str(o['operation_id'])},",
            f"        scopes: {rust_str_slice(o['scopes'])},",
            f"        admin_roles: {rust_str_slice(o['admin_roles'])},",
            f"        lifecycle: {rust_str(o['lifecycle'])},",
            f"        spec: {rust_str(o['spec'])},",
            "    },",
        ]
    lines += ["];", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env_dir = os.environ.get("STEWARD_SPECS_DIR")
    default_specs = Path(env_dir) if env_dir else (ROOT.parent / "shared" / "specs")
    ap.add_argument("--specs", type=Path, default=default_specs)
    ap.add_argument("--out", type=Path, default=OUT_DEFAULT)
    ap.add_argument("--no-rustfmt", action="store_true")
    args = ap.parse_args(argv)
    try:
        scopes, ops = build(args.specs)
    except SpecError as e:
        print(f"gen_scopes: {e}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(scopes, ops), encoding="utf-8")
    if not args.no_rustfmt:
        subprocess.run(["rustfmt", "--edition", "2021", str(args.out)], check=True)
    fams: dict[str, int] = {}
    for s in scopes:
        fams[s["family"]] = fams.get(s["family"], 0) + 1
    per_spec: dict[str, int] = {}
    for o in ops:
        per_spec[o["spec"]] = per_spec.get(o["spec"], 0) + 1
    undeclared = [s["name"] for s in scopes if not s["declared"]]
    print(f"wrote {args.out}: {len(scopes)} scopes {fams}, {len(ops)} operations {per_spec}")
    if undeclared:
        print(f"undeclared scopes: {', '.join(undeclared)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
