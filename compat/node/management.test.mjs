// Compatibility checks: Okta's Node SDK (@okta/okta-sdk-nodejs, pinned in package.json)
// against a live Steward. Run with node's built-in runner:
//
//   STEWARD_ORG_URL=http://127.0.0.1:PORT STEWARD_API_TOKEN=... node --test compat/node/
//
// Steps run in order and share state; once one fails the remaining steps are
// skipped (reported as skipped), so the first failure is the one to read.
// Set COMPAT_KEEP_GOING=1 to run every step anyway.
//
// SDK notes (v8.x, see compat/NOTES.md): the Node SDK has no https check, so a
// plain-http orgUrl works as is. Every list method resolves to a Collection that
// is an async iterable and follows the absolute URL of `Link: <...>; rel="next"`
// (parse-link-header) until no next link is present.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import okta from '@okta/okta-sdk-nodejs';

const orgUrl = process.env.STEWARD_ORG_URL || process.env.OKTA_CLIENT_ORGURL;
const token = process.env.STEWARD_API_TOKEN || process.env.OKTA_CLIENT_TOKEN;
const ADMIN_LOGIN = process.env.STEWARD_ADMIN_LOGIN || 'admin@steward.local';
const KEEP_GOING = process.env.COMPAT_KEEP_GOING === '1';

const RUN = randomBytes(4).toString('hex');
const LAST = `Nodecompat${RUN}`;
const PASSWORD = `Compat-Passw0rd!${RUN}`;

// cacheMiddleware: null -> every SDK call hits the server (the default
// in-memory cache would answer repeated GETs itself).
const client = orgUrl && token ? new okta.Client({ orgUrl, token, cacheMiddleware: null }) : null;

const requests = [];
if (client) client.requestExecutor.on('request', (req) => requests.push(`${req.method.toUpperCase()} ${req.url}`));

const st = {};
let broken = false;

function step(name, fn) {
  test(name, async (t) => {
    if (!client) assert.fail('set STEWARD_ORG_URL and STEWARD_API_TOKEN');
    if (broken && !KEEP_GOING) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      broken = true;
      throw describe(e);
    }
  });
}

// Make SDK HTTP errors readable: status, errorCode, summary, url.
function describe(e) {
  if (e && (e.status || e.code) && !(e instanceof assert.AssertionError)) {
    const parts = [e.message];
    if (e.status) parts.push(`status=${e.status}`);
    if (e.errorCode) parts.push(`errorCode=${e.errorCode}`);
    if (e.url) parts.push(`url=${e.url}`);
    const err = new Error(`SDK error: ${parts.join(' ')}`);
    err.cause = e;
    return err;
  }
  return e;
}

async function collect(collectionPromise) {
  const out = [];
  for await (const item of await collectionPromise) out.push(item);
  return out;
}

async function expectStatus(promise, status, what) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `${what}: expected HTTP ${status}, got ${e.status}: ${e.message}`);
    return e;
  }
  assert.fail(`${what}: expected HTTP ${status}, the call succeeded`);
}

function profile(first, extra = {}) {
  const login = `${first.toLowerCase()}.${RUN}@compat.example.com`;
  return { firstName: first, lastName: LAST, email: login, login, ...extra };
}

const myIds = () => new Set([st.alice.id, st.bob.id, ...st.extra.map((u) => u.id)]);
const countRequests = (re) => requests.filter((r) => re.test(r)).length;

step('users: create ACTIVE user with password (activate=true)', async () => {
  const u = await client.userApi.createUser({
    body: {
      profile: profile('Alice', { nickName: 'ally', mobilePhone: '555-0100' }),
      credentials: { password: { value: PASSWORD } },
    },
    activate: true,
  });
  assert.equal(typeof u.id, 'string');
  assert.equal(u.status, 'ACTIVE');
  assert.equal(u.profile.login, profile('Alice').login);
  assert.equal(u.profile.nickName, 'ally');
  assert.ok(u.created instanceof Date && !isNaN(u.created), 'created must be a date');
  assert.ok(u.activated instanceof Date && !isNaN(u.activated), 'activated must be a date');
  assert.ok(u.credentials && u.credentials.password, 'credentials.password missing (Okta returns `password: {}`)');
  assert.equal(u.credentials.password.value, undefined, 'password value must never be returned');
  assert.equal(u.credentials.provider?.type, 'OKTA');
  assert.ok(u._links?.self?.href, '_links.self.href missing');
  st.alice = u;
});

step('users: create STAGED user (activate=false)', async () => {
  const u = await client.userApi.createUser({ body: { profile: profile('Bob') }, activate: false });
  assert.equal(u.status, 'STAGED');
  assert.ok(u.activated == null, `activated must be null for STAGED, got ${u.activated}`);
  st.bob = u;
  st.extra = [];
  for (const name of ['Carol', 'Dave', 'Erin']) {
    st.extra.push(await client.userApi.createUser({ body: { profile: profile(name) }, activate: false }));
  }
});

step('users: get by id', async () => {
  const u = await client.userApi.getUser({ userId: st.alice.id });
  assert.equal(u.id, st.alice.id);
  assert.equal(u.profile.login, st.alice.profile.login);
  assert.equal(u.status, 'ACTIVE');
});

step('users: get by login', async () => {
  const u = await client.userApi.getUser({ userId: st.alice.profile.login });
  assert.equal(u.id, st.alice.id);
});

step('users: get unknown user -> 404', async () => {
  const e = await expectStatus(client.userApi.getUser({ userId: '00unonexistent0000000' }), 404, 'getUser(unknown)');
  assert.equal(e.errorCode, 'E0000007', `errorCode ${e.errorCode}`);
});

step('users: list with q', async () => {
  const users = await collect(client.userApi.listUsers({ q: LAST }));
  const ids = new Set(users.map((u) => u.id));
  for (const id of myIds()) assert.ok(ids.has(id), `q=${LAST} lacks ${id}`);
  assert.ok(users.every((u) => u.profile.lastName === LAST), 'q returned users not matching the query');
});

step('users: list with filter status eq "ACTIVE"', async () => {
  const users = await collect(client.userApi.listUsers({ filter: 'status eq "ACTIVE"', limit: 200 }));
  const ids = new Set(users.map((u) => u.id));
  assert.ok(ids.has(st.alice.id), 'ACTIVE user missing');
  assert.ok(!ids.has(st.bob.id), 'STAGED user returned by status eq "ACTIVE"');
  assert.deepEqual(users.filter((u) => u.status !== 'ACTIVE').map((u) => u.id), []);
});

step('users: list with search', async () => {
  const users = await collect(
    client.userApi.listUsers({ search: `profile.lastName eq "${LAST}" and status eq "STAGED"` }),
  );
  assert.deepEqual(new Set(users.map((u) => u.id)), new Set([st.bob.id, ...st.extra.map((u) => u.id)]));
  const sw = await collect(client.userApi.listUsers({ search: `profile.login sw "alice.${RUN}"` }));
  assert.deepEqual(sw.map((u) => u.id), [st.alice.id]);
});

step('users: page through all users with limit=2 (Link rel=next)', async () => {
  const before = requests.length;
  const users = await collect(client.userApi.listUsers({ limit: 2 }));
  const pageRequests = requests.slice(before).filter((r) => /\/api\/v1\/users\b/.test(r));
  const ids = users.map((u) => u.id);
  assert.equal(ids.length, new Set(ids).size, 'duplicate users across pages');
  assert.ok(pageRequests.length >= 3, `only ${pageRequests.length} page request(s) for ${ids.length} users with limit=2: ${pageRequests.join(', ')}`);
  for (const r of pageRequests.slice(1)) assert.match(r, /limit=2/, `next link dropped limit: ${r}`);
  for (const id of myIds()) assert.ok(ids.includes(id), `paged listing lacks ${id}`);
});

step('users: partial update profile (POST)', async () => {
  const u = await client.userApi.updateUser({
    userId: st.alice.id,
    user: { profile: { nickName: 'al', title: 'Engineer' } },
  });
  assert.equal(u.profile.nickName, 'al');
  assert.equal(u.profile.title, 'Engineer');
  assert.equal(u.profile.firstName, 'Alice', 'partial update dropped firstName');
  assert.equal(u.profile.mobilePhone, '555-0100', 'partial update dropped mobilePhone');
  const g = await client.userApi.getUser({ userId: st.alice.id });
  assert.equal(g.profile.title, 'Engineer', 'update not persisted');
});

step('users: full replace profile (PUT)', async () => {
  const u = await client.userApi.replaceUser({
    userId: st.alice.id,
    user: { profile: profile('Alice', { displayName: 'Alice Replaced' }) },
  });
  assert.equal(u.profile.displayName, 'Alice Replaced');
  assert.equal(u.profile.nickName, undefined, 'PUT must remove attributes not sent (nickName)');
  assert.equal(u.profile.title, undefined, 'PUT must remove attributes not sent (title)');
});

step('users: suspend / unsuspend', async () => {
  await client.userApi.suspendUser({ userId: st.alice.id });
  assert.equal((await client.userApi.getUser({ userId: st.alice.id })).status, 'SUSPENDED');
  await client.userApi.unsuspendUser({ userId: st.alice.id });
  assert.equal((await client.userApi.getUser({ userId: st.alice.id })).status, 'ACTIVE');
});

step('users: activate STAGED user without password (sendEmail=false)', async () => {
  const carol = st.extra[0];
  // Okta's UserActivationToken: the token and the link that consumes it (classic /welcome/).
  const link = await client.userApi.activateUser({ userId: carol.id, sendEmail: false });
  assert.ok(link.activationToken, `no activationToken in ${JSON.stringify(link)}`);
  assert.equal(link.activationUrl, `${orgUrl}/welcome/${link.activationToken}`);
  assert.equal((await client.userApi.getUser({ userId: carol.id })).status, 'PROVISIONED');
  // A PROVISIONED user gets a new link by reactivation; activating again is E0000016 (403).
  const again = await client.userApi.reactivateUser({ userId: carol.id, sendEmail: false });
  assert.ok(again.activationToken && again.activationToken !== link.activationToken);
  const e = await expectStatus(client.userApi.activateUser({ userId: carol.id, sendEmail: false }), 403, 'activateUser(PROVISIONED)');
  assert.equal(e.errorCode, 'E0000016', `errorCode ${e.errorCode}`);
});

step('users: deactivate + delete', async () => {
  await client.userApi.deactivateUser({ userId: st.bob.id });
  assert.equal((await client.userApi.getUser({ userId: st.bob.id })).status, 'DEPROVISIONED');
  await client.userApi.deleteUser({ userId: st.bob.id });
  await expectStatus(client.userApi.getUser({ userId: st.bob.id }), 404, 'getUser(deleted)');
  const users = await collect(client.userApi.listUsers({ q: LAST }));
  assert.ok(!users.some((u) => u.id === st.bob.id), 'deleted user still listed');
});

step('groups: create group', async () => {
  const name = `compat-node-${RUN}`;
  const g = await client.groupApi.createGroup({ group: { profile: { name, description: 'compat group' } } });
  assert.equal(typeof g.id, 'string');
  assert.equal(g.profile.name, name);
  assert.equal(g.type, 'OKTA_GROUP');
  st.group = g;
  const got = await client.groupApi.getGroup({ groupId: g.id });
  assert.equal(got.profile.name, name);
  const listed = await collect(client.groupApi.listGroups({ q: name }));
  assert.ok(listed.some((x) => x.id === g.id), 'group missing from listGroups(q)');
});

step('groups: add member, list members, list user\'s groups', async () => {
  await client.groupApi.assignUserToGroup({ groupId: st.group.id, userId: st.alice.id });
  const members = await collect(client.groupApi.listGroupUsers({ groupId: st.group.id }));
  assert.deepEqual(members.map((m) => m.id), [st.alice.id]);
  const groups = await collect(client.userApi.listUserGroups({ userId: st.alice.id }));
  assert.ok(groups.some((g) => g.id === st.group.id), 'group missing from /users/{id}/groups');
  st.userGroups = groups;
});

step('groups: remove member, delete group', async () => {
  await client.groupApi.unassignUserFromGroup({ groupId: st.group.id, userId: st.alice.id });
  const members = await collect(client.groupApi.listGroupUsers({ groupId: st.group.id }));
  assert.ok(!members.some((m) => m.id === st.alice.id), 'still a member after removal');
  await client.groupApi.deleteGroup({ groupId: st.group.id });
  await expectStatus(client.groupApi.getGroup({ groupId: st.group.id }), 404, 'getGroup(deleted)');
});

step('apps: create OIDC web app', async () => {
  const label = `Compat Node ${RUN}`;
  const app = await client.applicationApi.createApplication({
    application: {
      name: 'oidc_client',
      label,
      signOnMode: 'OPENID_CONNECT',
      credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic', autoKeyRotation: true } },
      settings: {
        oauthClient: {
          client_uri: 'http://localhost:8080',
          redirect_uris: ['http://localhost:8080/callback', 'http://localhost:8080/cb2'],
          post_logout_redirect_uris: ['http://localhost:8080/'],
          response_types: ['code'],
          grant_types: ['authorization_code', 'refresh_token'],
          application_type: 'web',
        },
      },
    },
  });
  assert.equal(typeof app.id, 'string');
  assert.equal(app.constructor.name, 'OpenIdConnectApplication', 'SDK picks the class from signOnMode');
  assert.equal(app.label, label);
  assert.equal(app.name, 'oidc_client');
  assert.equal(app.signOnMode, 'OPENID_CONNECT');
  assert.equal(app.status, 'ACTIVE', 'activate defaults to true');
  assert.ok(app.credentials?.oauthClient?.client_id, 'credentials.oauthClient.client_id missing');
  assert.ok(app.credentials.oauthClient.client_secret, 'client_secret missing for client_secret_basic');
  assert.equal(app.credentials.oauthClient.token_endpoint_auth_method, 'client_secret_basic');
  assert.deepEqual(app.settings.oauthClient.redirect_uris, ['http://localhost:8080/callback', 'http://localhost:8080/cb2']);
  assert.deepEqual(app.settings.oauthClient.grant_types, ['authorization_code', 'refresh_token']);
  assert.equal(app.settings.oauthClient.application_type, 'web');
  st.app = app;
});

step('apps: list and get', async () => {
  const apps = await collect(client.applicationApi.listApplications({ limit: 200 }));
  const mine = apps.find((a) => a.id === st.app.id);
  assert.ok(mine, 'app missing from listApplications');
  assert.equal(mine.constructor.name, 'OpenIdConnectApplication');
  const byQ = await collect(client.applicationApi.listApplications({ q: st.app.label }));
  assert.ok(byQ.some((a) => a.id === st.app.id), 'app missing from listApplications(q=label)');
  const got = await client.applicationApi.getApplication({ appId: st.app.id });
  assert.equal(got.id, st.app.id);
  assert.equal(got.credentials.oauthClient.client_id, st.app.credentials.oauthClient.client_id);
});

step('apps: assign user and group, list assignments', async () => {
  const au = await client.applicationApi.assignUserToApplication({
    appId: st.app.id,
    appUser: { id: st.alice.id, scope: 'USER' },
  });
  assert.equal(au.id, st.alice.id);
  const appUsers = await collect(client.applicationApi.listApplicationUsers({ appId: st.app.id }));
  assert.ok(appUsers.some((u) => u.id === st.alice.id), 'user missing from app users');
  const g = await client.groupApi.createGroup({ group: { profile: { name: `compat-node-app-${RUN}` } } });
  const ga = await client.applicationApi.assignGroupToApplication({
    appId: st.app.id,
    groupId: g.id,
    applicationGroupAssignment: { priority: 0 },
  });
  assert.equal(ga.id, g.id);
  const gas = await collect(client.applicationApi.listApplicationGroupAssignments({ appId: st.app.id }));
  assert.ok(gas.some((x) => x.id === g.id), 'group missing from app group assignments');
  await client.applicationApi.unassignUserFromApplication({ appId: st.app.id, userId: st.alice.id });
  await client.applicationApi.unassignApplicationFromGroup({ appId: st.app.id, groupId: g.id });
  await client.groupApi.deleteGroup({ groupId: g.id });
});

step('apps: deactivate and delete', async () => {
  await client.applicationApi.deactivateApplication({ appId: st.app.id });
  assert.equal((await client.applicationApi.getApplication({ appId: st.app.id })).status, 'INACTIVE');
  await client.applicationApi.deleteApplication({ appId: st.app.id });
  await expectStatus(client.applicationApi.getApplication({ appId: st.app.id }), 404, 'getApplication(deleted)');
});

step('roles: assign a role to a user and list roles', async () => {
  const role = await client.roleAssignmentApi.assignRoleToUser({
    userId: st.alice.id,
    assignRoleRequest: { type: 'READ_ONLY_ADMIN' },
  });
  assert.equal(role.type, 'READ_ONLY_ADMIN');
  assert.equal(typeof role.id, 'string');
  assert.equal(role.assignmentType, 'USER');
  assert.equal(role.status, 'ACTIVE');
  const roles = await collect(client.roleAssignmentApi.listAssignedRolesForUser({ userId: st.alice.id }));
  assert.ok(roles.some((r) => r.id === role.id && r.type === 'READ_ONLY_ADMIN'), `listed roles ${JSON.stringify(roles.map((r) => r.type))}`);
  const got = await client.roleAssignmentApi.getUserAssignedRole({ userId: st.alice.id, roleId: role.id });
  assert.equal(got.id, role.id);
  await client.roleAssignmentApi.unassignRoleFromUser({ userId: st.alice.id, roleId: role.id });
  const after = await collect(client.roleAssignmentApi.listAssignedRolesForUser({ userId: st.alice.id }));
  assert.ok(!after.some((r) => r.id === role.id), 'role still listed after unassign');
  const admin = await client.userApi.getUser({ userId: ADMIN_LOGIN });
  const adminRoles = await collect(client.roleAssignmentApi.listAssignedRolesForUser({ userId: admin.id }));
  assert.ok(adminRoles.some((r) => r.type === 'SUPER_ADMIN'), 'bootstrap admin lacks SUPER_ADMIN');
});

step('system log: page through eventType eq "user.lifecycle.create" with limit', async () => {
  const coll = await client.systemLogApi.listLogEvents({ filter: 'eventType eq "user.lifecycle.create"', limit: 2 });
  const before = requests.length;
  const events = [];
  // Okta always returns rel="next" on /logs (polling): stop at 50 events / on an empty page
  for await (const e of coll) {
    // The SDK's Collection yields `null` (not done) for an empty page that still has
    // rel="next" -- what Okta's /logs does once you have caught up. Stop there.
    if (e === null) break;
    events.push(e);
    if (events.length >= 50) break;
  }
  const pageRequests = requests.slice(before).filter((r) => /\/api\/v1\/logs\b/.test(r));
  assert.ok(pageRequests.length >= 2, `System Log: ${pageRequests.length} page request(s) with limit=2`);
  assert.deepEqual([...new Set(events.map((e) => e.eventType))], ['user.lifecycle.create']);
  const uuids = events.map((e) => e.uuid);
  assert.ok(uuids.every(Boolean) && new Set(uuids).size === uuids.length, 'missing/duplicate uuids');
  const targets = new Set(events.flatMap((e) => (e.target || []).map((t) => t.id)));
  for (const id of myIds()) assert.ok(targets.has(id), `no user.lifecycle.create event for ${id}`);
  const ev = events.find((e) => (e.target || []).some((t) => t.id === st.alice.id));
  assert.ok(ev.published instanceof Date && !isNaN(ev.published), 'published must be a date');
  assert.ok(ev.actor?.id, 'actor.id missing');
  assert.equal(ev.severity, 'INFO');
  assert.equal(ev.outcome?.result, 'SUCCESS');
  assert.equal(ev.target.find((t) => t.id === st.alice.id).type, 'User');
});

step('fidelity: every user is in the built-in Everyone group', async () => {
  const groups = st.userGroups || [];
  assert.ok(
    groups.some((g) => g.type === 'BUILT_IN' && g.profile?.name === 'Everyone'),
    `/users/{id}/groups lacks the BUILT_IN Everyone group: ${JSON.stringify(groups.map((g) => [g.profile?.name, g.type]))}`,
  );
});
