#!/usr/bin/env python3
"""Compatibility checks: Okta's Python SDK (PyPI `okta`, 3.x) against a live Steward.

Plain script, not pytest. Usage:

    STEWARD_ORG_URL=http://127.0.0.1:PORT STEWARD_API_TOKEN=... \
        python3 compat/python/test_management_sdk.py [--keep-going]

Each step asserts what real Okta does. The first failing step stops the run
with a clear message (or, with --keep-going, every step runs and each failure is
reported). The last line is `N passed, M failed`; the exit code is non-zero if
any step failed.

Notes on the SDK (okta 3.4.x), see compat/NOTES.md for details:
* The SDK refuses a non-https orgUrl unless the *top-level* config key
  `testing.testingDisableHttpsCheck` is truthy. The `Client(user_config)` dict
  is merged under `client`, so the switch can only come from the environment
  (`OKTA_TESTING_TESTINGDISABLEHTTPSCHECK`) or an okta.yaml file. It is set
  below, before the client is built.
* API methods return `(data, ApiResponse, error)` (some error paths return a
  2-tuple). Pagination: `okta.pagination.PaginationHelper.extract_next_cursor(
  resp.headers)` gives the `after` cursor from the `Link: <...>; rel="next"`
  header; the caller passes it back as `after=` with the same other params.
"""

import asyncio
import os
import sys
import traceback
import uuid

# Must be set before okta's ConfigSetter runs (it reads OKTA_* env vars).
os.environ.setdefault("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")

from okta.client import Client as OktaClient  # noqa: E402
from okta.pagination import PaginationHelper, paginate_all  # noqa: E402
from okta import models as M  # noqa: E402

ORG_URL = os.environ.get("STEWARD_ORG_URL") or os.environ.get("OKTA_CLIENT_ORGURL")
TOKEN = os.environ.get("STEWARD_API_TOKEN") or os.environ.get("OKTA_CLIENT_TOKEN")
ADMIN_LOGIN = os.environ.get("STEWARD_ADMIN_LOGIN", "admin@steward.local")
KEEP_GOING = "--keep-going" in sys.argv or os.environ.get("COMPAT_KEEP_GOING") == "1"

RUN = uuid.uuid4().hex[:8]
LAST = f"Pycompat{RUN}"  # shared lastName of every user this run creates
PASSWORD = "Compat-Passw0rd!" + RUN


class StepFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise StepFailure(msg)


def val(x):
    """Enum -> its value, anything else unchanged."""
    return getattr(x, "value", x)


async def call(what, coro, expect_status=None):
    """Await an SDK call; return (data, ApiResponse). Fail on any SDK error.

    okta 3.x returns (data, resp, err) on success and on most errors, but
    (response, err) on a few error paths; a 4xx/5xx with an empty body even
    comes back as (None, resp, None), so the status code is checked too.
    """
    try:
        res = await coro
    except StepFailure:
        raise
    except Exception as e:  # deserialization (pydantic) errors surface here
        raise StepFailure(
            f"{what}: the SDK raised {type(e).__name__} while handling the response: {e}"
        ) from e
    if not isinstance(res, tuple):
        raise StepFailure(f"{what}: unexpected SDK return value {res!r}")
    if len(res) == 3:
        data, resp, err = res
    else:
        data, err = res
        resp = None
    if err is not None:
        detail = err
        for attr in ("status", "error_code", "error_summary"):
            if hasattr(err, attr):
                detail = f"{detail} [{attr}={getattr(err, attr)}]"
        raise StepFailure(f"{what}: SDK returned an error: {detail}")
    status = getattr(resp, "status_code", None)
    if status is not None and not (200 <= status <= 299):
        raise StepFailure(f"{what}: HTTP {status} (SDK reported no error object)")
    if expect_status is not None and status is not None:
        check(status == expect_status, f"{what}: expected HTTP {expect_status}, got {status}")
    return data, resp


async def call_expect_error(what, coro, status):
    """The call must fail with the given HTTP status."""
    try:
        res = await coro
    except Exception as e:
        # okta 3.x raises ApiException from response_deserialize for non-2xx in some paths
        got = getattr(e, "status", None)
        check(got == status, f"{what}: expected HTTP {status}, SDK raised {type(e).__name__}: {e}")
        return
    err = res[-1]
    resp = res[1] if len(res) == 3 else None
    got = getattr(err, "status", None) if err is not None else getattr(resp, "status_code", None)
    check(
        err is not None or (got is not None and got >= 400),
        f"{what}: expected HTTP {status} error, the call succeeded ({res!r})",
    )
    check(got == status, f"{what}: expected HTTP {status}, got {got} ({err})")


def next_cursor(resp):
    headers = getattr(resp, "headers", None) or {}
    return PaginationHelper.extract_next_cursor(headers)


def group_name(g):
    prof = g.profile
    inst = getattr(prof, "actual_instance", prof)
    return getattr(inst, "name", None)


def role_of(item):
    return getattr(item, "actual_instance", item)


# ---------------------------------------------------------------------------
# Steps. Each one is an async function taking the shared state dict.
# ---------------------------------------------------------------------------
STEPS = []


def step(name):
    def deco(fn):
        STEPS.append((name, fn))
        return fn

    return deco


def new_profile(first, extra=None):
    login = f"{first.lower()}.{RUN}@compat.example.com"
    p = {"firstName": first, "lastName": LAST, "email": login, "login": login}
    p.update(extra or {})
    return p


@step("users: create ACTIVE user with password (activate=true)")
async def s_create_active(c, st):
    body = M.CreateUserRequest.from_dict(
        {
            "profile": new_profile("Alice", {"nickName": "ally", "mobilePhone": "555-0100"}),
            "credentials": {"password": {"value": PASSWORD}},
        }
    )
    user, _ = await call("create_user(activate=True)", c.create_user(body, activate=True))
    check(isinstance(user, M.User), f"create_user returned {type(user).__name__}, expected User")
    check(isinstance(user.id, str) and user.id, f"user.id missing: {user!r}")
    check(val(user.status) == "ACTIVE", f"new user status {val(user.status)!r}, expected ACTIVE")
    check(user.profile.login == new_profile("Alice")["login"], f"login {user.profile.login!r}")
    check(user.profile.nick_name == "ally", f"profile.nickName {user.profile.nick_name!r}")
    check(user.created is not None and user.activated is not None, "created/activated timestamps missing")
    check(user.credentials is not None and user.credentials.password is not None,
          "credentials.password missing on a user with a password (Okta returns `password: {}`)")
    check(user.credentials.password.value is None, "password value must never be returned")
    check(user.credentials.provider is not None and val(user.credentials.provider.type) == "OKTA",
          f"credentials.provider.type should be OKTA, got {user.credentials.provider!r}")
    check(user.links is not None and user.links.var_self is not None and user.links.var_self.href,
          "_links.self.href missing on user")
    st["alice"] = user


@step("users: create STAGED user (activate=false)")
async def s_create_staged(c, st):
    body = M.CreateUserRequest.from_dict({"profile": new_profile("Bob")})
    user, _ = await call("create_user(activate=False)", c.create_user(body, activate=False))
    check(val(user.status) == "STAGED", f"status {val(user.status)!r}, expected STAGED")
    check(user.activated is None, f"activated must be null for STAGED, got {user.activated}")
    st["bob"] = user
    # extra users so that paging with limit=2 needs several pages
    st["extra"] = []
    for name in ("Carol", "Dave", "Erin"):
        u, _ = await call(f"create_user({name})",
                          c.create_user(M.CreateUserRequest.from_dict({"profile": new_profile(name)}),
                                        activate=False))
        st["extra"].append(u)


@step("users: get by id")
async def s_get_by_id(c, st):
    a = st["alice"]
    u, _ = await call("get_user(id)", c.get_user(a.id))
    check(u.id == a.id and u.profile.login == a.profile.login, f"got {u.id} {u.profile.login}")
    check(val(u.status) == "ACTIVE", f"status {val(u.status)!r}")


@step("users: get by login")
async def s_get_by_login(c, st):
    a = st["alice"]
    u, _ = await call("get_user(login)", c.get_user(a.profile.login))
    check(u.id == a.id, f"get by login returned id {u.id}, expected {a.id}")


@step("users: get unknown user -> 404")
async def s_get_404(c, st):
    await call_expect_error("get_user(unknown)", c.get_user("00unonexistent0000000"), 404)


def my_ids(st):
    return {st["alice"].id, st["bob"].id, *[u.id for u in st["extra"]]}


@step("users: list with q")
async def s_list_q(c, st):
    users, _ = await call("list_users(q)", c.list_users(q=LAST))
    ids = {u.id for u in users}
    check(my_ids(st) <= ids, f"q={LAST!r} returned {len(ids)} users, missing {my_ids(st) - ids}")
    check(all(u.profile.last_name == LAST for u in users), "q returned users not matching the query")


@step('users: list with filter status eq "ACTIVE"')
async def s_list_filter(c, st):
    users, _ = await call("list_users(filter)", c.list_users(filter='status eq "ACTIVE"', limit=200))
    ids = {u.id for u in users}
    check(st["alice"].id in ids, "ACTIVE user missing from filter results")
    check(st["bob"].id not in ids, "STAGED user returned by status eq \"ACTIVE\"")
    bad = [(u.id, val(u.status)) for u in users if val(u.status) != "ACTIVE"]
    check(not bad, f"non-ACTIVE users returned: {bad}")


@step("users: list with search")
async def s_list_search(c, st):
    users, _ = await call(
        "list_users(search)",
        c.list_users(search=f'profile.lastName eq "{LAST}" and status eq "STAGED"'),
    )
    ids = {u.id for u in users}
    want = {st["bob"].id, *[u.id for u in st["extra"]]}
    check(ids == want, f"search returned {ids}, expected exactly {want}")
    users, _ = await call("list_users(search sw)",
                          c.list_users(search=f'profile.login sw "alice.{RUN}"'))
    check([u.id for u in users] == [st["alice"].id], f"search sw returned {[u.id for u in users]}")


@step("users: page through all users with limit=2 (Link rel=next / after)")
async def s_paginate(c, st):
    seen, pages, after = [], 0, None
    while True:
        users, resp = await call(f"list_users(limit=2, after={after})", c.list_users(limit=2, after=after))
        pages += 1
        check(len(users) <= 2, f"page {pages} has {len(users)} users with limit=2")
        seen.extend(u.id for u in users)
        after = next_cursor(resp)
        if not after:
            break
        check(pages < 200, "more than 200 pages: next link never ends")
    check(len(seen) == len(set(seen)), f"duplicate users across pages: {len(seen) - len(set(seen))}")
    check(pages >= 3, f"only {pages} page(s) for {len(seen)} users with limit=2: Link rel=\"next\" missing? "
                      f"(the SDK reads the LAST `Link` header line only, see NOTES)")
    check(my_ids(st) <= set(seen), f"users missing from paged listing: {my_ids(st) - set(seen)}")
    # The SDK's own helper
    all_users = [u async for u in paginate_all(c.list_users, limit=2)]
    check({u.id for u in all_users} == set(seen),
          f"okta.pagination.paginate_all saw {len(all_users)} users, manual paging {len(seen)}")
    st["all_user_count"] = len(seen)


@step("users: partial update profile (POST)")
async def s_partial_update(c, st):
    a = st["alice"]
    body = M.UpdateUserRequest.from_dict({"profile": {"nickName": "al", "title": "Engineer"}})
    u, _ = await call("update_user", c.update_user(a.id, body))
    check(u.profile.nick_name == "al" and u.profile.title == "Engineer",
          f"profile not updated: nickName={u.profile.nick_name!r} title={u.profile.title!r}")
    check(u.profile.first_name == "Alice" and u.profile.mobile_phone == "555-0100",
          "partial update dropped profile attributes that were not sent")
    g, _ = await call("get_user after update", c.get_user(a.id))
    check(g.profile.title == "Engineer", "update not persisted")
    check(g.last_updated is not None and (a.last_updated is None or g.last_updated >= a.last_updated),
          "lastUpdated not advanced")


@step("users: full replace profile (PUT)")
async def s_replace(c, st):
    a = st["alice"]
    prof = new_profile("Alice", {"displayName": "Alice Replaced"})
    u, _ = await call("replace_user", c.replace_user(a.id, M.UpdateUserRequest.from_dict({"profile": prof})))
    check(u.profile.display_name == "Alice Replaced", f"displayName {u.profile.display_name!r}")
    check(u.profile.nick_name is None and u.profile.title is None and u.profile.mobile_phone is None,
          "PUT must remove profile attributes that were not sent "
          f"(nickName={u.profile.nick_name!r}, title={u.profile.title!r}, mobilePhone={u.profile.mobile_phone!r})")


@step("users: suspend / unsuspend")
async def s_suspend(c, st):
    a = st["alice"]
    await call("suspend_user", c.suspend_user(a.id))
    u, _ = await call("get_user", c.get_user(a.id))
    check(val(u.status) == "SUSPENDED", f"status after suspend {val(u.status)!r}")
    await call("unsuspend_user", c.unsuspend_user(a.id))
    u, _ = await call("get_user", c.get_user(a.id))
    check(val(u.status) == "ACTIVE", f"status after unsuspend {val(u.status)!r}")


@step("users: activate STAGED user without password (sendEmail=false)")
async def s_activate(c, st):
    carol = st["extra"][0]
    link, _ = await call("activate_user", c.activate_user(carol.id, send_email=False))
    # Okta's UserActivationToken: the token and the link that consumes it (classic /welcome/)
    check(link is not None and link.activation_token, f"no activationToken in {link!r}")
    want = f"{ORG_URL}/welcome/{link.activation_token}"
    check(link.activation_url == want, f"activationUrl {link.activation_url!r}, expected {want!r}")
    u, _ = await call("get_user", c.get_user(carol.id))
    # Okta: a user without a password becomes PROVISIONED until they finish activation
    check(val(u.status) == "PROVISIONED", f"status after activation {val(u.status)!r}, expected PROVISIONED")
    # A PROVISIONED user gets a new link by reactivation; activating again is E0000016 (403)
    again, _ = await call("reactivate_user", c.reactivate_user(carol.id, send_email=False))
    check(again is not None and again.activation_token not in (None, link.activation_token),
          f"reactivate_user gave {again!r}")
    await call_expect_error("activate_user(PROVISIONED)", c.activate_user(carol.id, send_email=False), 403)


@step("users: deactivate + delete")
async def s_delete(c, st):
    b = st["bob"]
    await call("deactivate_user", c.deactivate_user(b.id))
    u, _ = await call("get_user", c.get_user(b.id))
    check(val(u.status) == "DEPROVISIONED", f"status after deactivate {val(u.status)!r}")
    _, resp = await call("delete_user", c.delete_user(b.id), expect_status=204)
    await call_expect_error("get_user(deleted)", c.get_user(b.id), 404)
    users, _ = await call("list_users(q) after delete", c.list_users(q=LAST))
    check(b.id not in {u.id for u in users}, "deleted user still listed")


@step("groups: create group")
async def s_group_create(c, st):
    name = f"compat-py-{RUN}"
    g, _ = await call("add_group", c.add_group(
        M.AddGroupRequest.from_dict({"profile": {"name": name, "description": "compat group"}})))
    check(isinstance(g.id, str) and g.id, f"group id missing: {g!r}")
    check(group_name(g) == name, f"group name {group_name(g)!r}")
    check(val(g.type) == "OKTA_GROUP", f"group type {val(g.type)!r}, expected OKTA_GROUP")
    st["group"] = g
    got, _ = await call("get_group", c.get_group(g.id))
    check(got.id == g.id and group_name(got) == name, "get_group mismatch")
    groups, _ = await call("list_groups(q)", c.list_groups(q=name))
    check(g.id in {x.id for x in groups}, "group missing from list_groups(q)")


@step("groups: add member, list members, list user's groups")
async def s_group_members(c, st):
    g, a = st["group"], st["alice"]
    await call("assign_user_to_group", c.assign_user_to_group(g.id, a.id), expect_status=204)
    members, _ = await call("list_group_users", c.list_group_users(g.id))
    check([m.id for m in members] == [a.id], f"group members {[m.id for m in members]}, expected [{a.id}]")
    groups, _ = await call("list_user_groups", c.list_user_groups(a.id))
    check(g.id in {x.id for x in groups}, "group missing from /users/{id}/groups")
    st["user_groups"] = groups


@step("groups: remove member, delete group")
async def s_group_remove(c, st):
    g, a = st["group"], st["alice"]
    await call("unassign_user_from_group", c.unassign_user_from_group(g.id, a.id), expect_status=204)
    members, _ = await call("list_group_users", c.list_group_users(g.id))
    check(a.id not in {m.id for m in members}, "user still a member after removal")
    await call("delete_group", c.delete_group(g.id), expect_status=204)
    await call_expect_error("get_group(deleted)", c.get_group(g.id), 404)


@step("apps: create OIDC web app")
async def s_app_create(c, st):
    label = f"Compat Py {RUN}"
    app = M.OpenIdConnectApplication.from_dict(
        {
            "name": "oidc_client",
            "label": label,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic",
                                            "autoKeyRotation": True}},
            "settings": {
                "oauthClient": {
                    "client_uri": "http://localhost:8080",
                    "redirect_uris": ["http://localhost:8080/callback", "http://localhost:8080/cb2"],
                    "post_logout_redirect_uris": ["http://localhost:8080/"],
                    "response_types": ["code"],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "application_type": "web",
                }
            },
        }
    )
    created, _ = await call("create_application", c.create_application(app))
    check(isinstance(created, M.OpenIdConnectApplication),
          f"create_application returned {type(created).__name__}, expected OpenIdConnectApplication "
          "(SDK picks the class from signOnMode)")
    check(isinstance(created.id, str) and created.id, "app id missing")
    check(created.label == label and created.name == "oidc_client", f"label/name {created.label!r}/{created.name!r}")
    check(val(created.status) == "ACTIVE", f"app status {val(created.status)!r}, expected ACTIVE (activate defaults to true)")
    oc = created.credentials.oauth_client
    check(oc is not None and oc.client_id, "credentials.oauthClient.client_id missing")
    check(oc.client_secret, "credentials.oauthClient.client_secret missing for a client_secret_basic web app")
    check(val(oc.token_endpoint_auth_method) == "client_secret_basic", f"auth method {oc.token_endpoint_auth_method!r}")
    so = created.settings.oauth_client
    check(so.redirect_uris == ["http://localhost:8080/callback", "http://localhost:8080/cb2"],
          f"redirect_uris {so.redirect_uris!r}")
    check([val(x) for x in so.grant_types] == ["authorization_code", "refresh_token"], f"grant_types {so.grant_types!r}")
    check(val(so.application_type) == "web", f"application_type {so.application_type!r}")
    st["app"] = created


@step("apps: list and get")
async def s_app_list_get(c, st):
    app = st["app"]
    apps, _ = await call("list_applications", c.list_applications(limit=200))
    mine = [a for a in apps if a.id == app.id]
    check(mine, "app missing from list_applications")
    check(isinstance(mine[0], M.OpenIdConnectApplication), f"listed app is {type(mine[0]).__name__}")
    apps, _ = await call("list_applications(q)", c.list_applications(q=app.label))
    check(app.id in {a.id for a in apps}, "app missing from list_applications(q=label)")
    got, _ = await call("get_application", c.get_application(app.id))
    check(got.id == app.id and got.credentials.oauth_client.client_id == app.credentials.oauth_client.client_id,
          "get_application mismatch")
    check(isinstance(got, M.OpenIdConnectApplication), f"get_application returned {type(got).__name__}")


@step("apps: assign user and group, list assignments")
async def s_app_assign(c, st):
    app, a = st["app"], st["alice"]
    au, _ = await call("assign_user_to_application", c.assign_user_to_application(
        app.id, M.AppUserAssignRequest.from_dict({"id": a.id, "scope": "USER"})))
    check(au.id == a.id, f"app user id {au.id!r}, expected {a.id}")
    users, _ = await call("list_application_users", c.list_application_users(app.id))
    check(a.id in {u.id for u in users}, "user missing from app users")
    g, _ = await call("add_group", c.add_group(M.AddGroupRequest.from_dict({"profile": {"name": f"compat-py-app-{RUN}"}})))
    st["app_group"] = g
    ga, _ = await call("assign_group_to_application", c.assign_group_to_application(
        app.id, g.id, M.ApplicationGroupAssignment.from_dict({"priority": 0})))
    check(ga.id == g.id, f"group assignment id {ga.id!r}, expected {g.id}")
    gas, _ = await call("list_application_group_assignments", c.list_application_group_assignments(app.id))
    check(g.id in {x.id for x in gas}, "group missing from app group assignments")
    await call("unassign_user_from_application", c.unassign_user_from_application(app.id, a.id), expect_status=204)
    await call("unassign_application_from_group", c.unassign_application_from_group(app.id, g.id), expect_status=204)
    await call("delete_group", c.delete_group(g.id), expect_status=204)


@step("apps: deactivate and delete")
async def s_app_delete(c, st):
    app = st["app"]
    await call("deactivate_application", c.deactivate_application(app.id))
    got, _ = await call("get_application", c.get_application(app.id))
    check(val(got.status) == "INACTIVE", f"status after deactivate {val(got.status)!r}")
    await call("delete_application", c.delete_application(app.id), expect_status=204)
    await call_expect_error("get_application(deleted)", c.get_application(app.id), 404)


@step("roles: assign a role to a user and list roles")
async def s_roles(c, st):
    a = st["alice"]
    req = M.AssignRoleToUserRequest.from_dict({"type": "READ_ONLY_ADMIN"})
    assigned, _ = await call("assign_role_to_user", c.assign_role_to_user(a.id, req), expect_status=201)
    role = role_of(assigned)
    check(role is not None and val(role.type) == "READ_ONLY_ADMIN", f"assigned role {role!r}")
    check(isinstance(role.id, str) and role.id, "role assignment id missing")
    check(val(role.assignment_type) == "USER", f"assignmentType {val(role.assignment_type)!r}")
    check(val(role.status) == "ACTIVE", f"role status {val(role.status)!r}")
    roles, _ = await call("list_assigned_roles_for_user", c.list_assigned_roles_for_user(a.id))
    types = {val(role_of(r).type): role_of(r).id for r in roles}
    check(types.get("READ_ONLY_ADMIN") == role.id, f"listed roles {types}")
    got, _ = await call("get_user_assigned_role", c.get_user_assigned_role(a.id, role.id))
    check(role_of(got).id == role.id, "get_user_assigned_role mismatch")
    await call("unassign_role_from_user", c.unassign_role_from_user(a.id, role.id), expect_status=204)
    roles, _ = await call("list_assigned_roles_for_user", c.list_assigned_roles_for_user(a.id))
    check(role.id not in {role_of(r).id for r in roles}, "role still listed after unassign")
    admin, _ = await call("get_user(admin login)", c.get_user(ADMIN_LOGIN))
    roles, _ = await call("list_assigned_roles_for_user(admin)", c.list_assigned_roles_for_user(admin.id))
    check("SUPER_ADMIN" in {val(role_of(r).type) for r in roles}, "bootstrap admin lacks SUPER_ADMIN")


@step('system log: page through eventType eq "user.lifecycle.create" with limit')
async def s_logs(c, st):
    flt = 'eventType eq "user.lifecycle.create"'
    events, pages, after = [], 0, None
    while pages < 50:
        page, resp = await call(f"list_log_events(after={after})",
                                c.list_log_events(filter=flt, limit=2, after=after))
        pages += 1
        check(len(page) <= 2, f"log page has {len(page)} events with limit=2")
        events.extend(page)
        after = next_cursor(resp)
        # Okta always sends rel="next" on /logs (polling); an empty page ends the walk
        if not after or not page:
            break
    check(pages >= 2, "System Log: no Link rel=\"next\" with limit=2 (the SDK reads the last `Link` line only)")
    check(all(e.event_type == "user.lifecycle.create" for e in events),
          f"filter not applied: {sorted({e.event_type for e in events})}")
    uuids = [e.uuid for e in events]
    check(all(uuids) and len(uuids) == len(set(uuids)), "missing or duplicate event uuids across pages")
    targets = {t.id for e in events for t in (e.target or [])}
    created = {st["alice"].id, st["bob"].id, *[u.id for u in st["extra"]]}
    check(created <= targets, f"user.lifecycle.create events missing for {created - targets}")
    e = next(e for e in events if any(t.id == st["alice"].id for t in (e.target or [])))
    check(e.published is not None and e.actor is not None and e.actor.id, "event lacks published/actor")
    check(val(e.severity) == "INFO" and e.outcome is not None and e.outcome.result == "SUCCESS",
          f"severity/outcome {val(e.severity)!r}/{e.outcome!r}")
    tgt = next(t for t in e.target if t.id == st["alice"].id)
    check(tgt.type == "User", f"target type {tgt.type!r}, expected User")


# --- Okta fidelity checks that are not in the core flow ---------------------

@step("fidelity: every user is in the built-in Everyone group")
async def s_everyone(c, st):
    groups = st.get("user_groups") or []
    check(any(val(g.type) == "BUILT_IN" and group_name(g) == "Everyone" for g in groups),
          f"/users/{{id}}/groups lacks the BUILT_IN 'Everyone' group: {[(group_name(g), val(g.type)) for g in groups]}")


@step("fidelity: error body shape on 404 (errorCode E0000007)")
async def s_error_shape(c, st):
    res = await c.get_user("00unonexistent0000000")
    err = res[-1]
    check(err is not None, "no error for unknown user")
    code = getattr(err, "error_code", None)
    check(code == "E0000007", f"errorCode {code!r}, expected E0000007 (err={err})")


async def main():
    if not ORG_URL or not TOKEN:
        print("error: set STEWARD_ORG_URL and STEWARD_API_TOKEN", file=sys.stderr)
        return 2
    config = {"orgUrl": ORG_URL, "token": TOKEN, "rateLimit": {"maxRetries": 0}}
    passed = failed = 0
    state = {}
    async with OktaClient(config) as client:
        for name, fn in STEPS:
            try:
                await fn(client, state)
            except StepFailure as e:
                failed += 1
                print(f"FAIL  {name}\n      {e}", flush=True)
            except Exception as e:  # a bug in this script or an unexpected SDK error
                failed += 1
                print(f"FAIL  {name}\n      {type(e).__name__}: {e}", flush=True)
                traceback.print_exc()
            else:
                passed += 1
                print(f"ok    {name}", flush=True)
                continue
            if not KEEP_GOING:
                print(f"stopping at the first failure (use --keep-going to run every step)")
                break
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
