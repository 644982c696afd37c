// The Admin Console and the end-user dashboard in a real browser. Starts `steward serve --demo`
// on a free port with a temporary data dir, drives Debian's chromium with playwright-core, scans
// every visited page with axe-core (no serious or critical violation), and saves screenshots into
// docs/screenshots. The shared set-up is harness.mjs; the tests of each area are the files
// imported at the end, run after the ones here, in that order.
//
// Usage: node tests/browser/run.mjs [path/to/steward]
//   binary: $1, else $STEWARD_BIN, else target/debug/steward
// Env: CHROMIUM (default /usr/bin/chromium), BROWSER_KEEP_DATA=1 keeps the data dir.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  url, root, orgAdmin, ADMIN, DEMO_PASSWORD, WORKFLOWS_APP, SCOPE,
  api, newPage, scan, shot, signIn, openScopesTab, grantsOf, aV1Request, authorizeConnection, runSeedFlow,
} from "./harness.mjs";

test("the Super Admin grants okta.governance.accessRequests.read to Okta Workflows OAuth", async () => {
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  assert.equal(await page.textContent("h1"), "Dashboard");
  await scan(page, "Dashboard");
  await shot(page, "dashboard");

  const appId = await openScopesTab(page);
  await page.goto(`${url}/admin/apps`);
  await shot(page, "applications");
  await page.goto(`${url}/admin/apps/${appId}/scopes`);

  // The search box is a plain GET form.
  await page.fill("input#q", "accessRequests");
  await Promise.all([page.waitForURL(/scopes\?q=accessRequests/), page.click("form.search button")]);
  const listed = await page.$$eval("tr[data-scope]", (rows) => rows.map((r) => r.dataset.scope));
  assert.ok(listed.includes(SCOPE), listed.join(", "));
  assert.ok(!listed.includes("okta.users.read"), "the search narrows the list");
  const row = `tr[data-scope="${SCOPE}"]`;
  assert.equal((await page.textContent(`${row} .status`)).trim(), "Not granted");
  assert.ok(!(await grantsOf(appId)).includes(SCOPE));

  await Promise.all([page.waitForURL(/granted=/), page.click(`${row} button:has-text("Grant")`)]);
  assert.equal((await page.textContent(`${row} .status`)).trim(), "Granted");
  assert.match(await page.textContent(".notice"), new RegExp(`Granted ${SCOPE.replaceAll(".", "\\.")} to ${WORKFLOWS_APP}`));
  assert.equal(await page.inputValue("input#q"), "accessRequests", "the search is kept");
  await scan(page, "Application: Okta API Scopes (granted)");
  await page.goto(`${url}/admin/apps/${appId}/scopes?q=okta.governance.accessRequests`);
  await shot(page, "okta-api-scopes");

  // The Management API sees the same grant.
  assert.ok((await grantsOf(appId)).includes(SCOPE));
  const log = await api("GET", `/api/v1/logs?filter=${encodeURIComponent('eventType eq "app.oauth2.as.consent.grant"')}`);
  const event = log.body.find((e) => e.debugContext?.debugData?.scopeId === SCOPE);
  assert.ok(event, "the grant is in the System Log");
  assert.equal(event.actor.alternateId, ADMIN.login);

  // The System Log page shows it, filtered by event type (a GET form).
  await page.click("nav.side >> text=System Log");
  await page.waitForURL(`${url}/admin/logs`);
  await page.fill("input#eventType", "app.oauth2.as.consent.grant");
  await Promise.all([page.waitForURL(/eventType=app\.oauth2\.as\.consent\.grant/), page.click("form.filters button")]);
  assert.match(await page.textContent("table.log tbody"), /Grant an Okta API scope to an app/);
  assert.match(await page.textContent("table.log tbody"), new RegExp(SCOPE.replaceAll(".", "\\.")));
  await scan(page, "System Log");
  await shot(page, "system-log");
  await context.close();
});

test("an Org Admin sees Grant disabled with the reason, and a forged grant POST is refused", async () => {
  const { context, page } = await newPage();
  await signIn(page, orgAdmin);
  const appId = await openScopesTab(page);
  const before = await grantsOf(appId);

  const grant = page.locator('tr[data-scope="okta.users.read"] button:has-text("Grant")');
  assert.ok(await grant.isDisabled(), "Grant is disabled for an Org Admin");
  assert.equal(await grant.getAttribute("aria-describedby"), "manage-reason");
  const reason = await page.textContent("#manage-reason");
  assert.match(reason, /Only a Super Administrator can grant or revoke Okta API scopes/);
  assert.match(reason, /Organizational Administrator/);
  await shot(page, "okta-api-scopes-org-admin");

  // The same POST the enabled button would send, with the session's valid CSRF token.
  const csrf = await page.inputValue('form[action="/admin/signout"] input[name=csrf]');
  const forged = await context.request.post(`${url}/admin/apps/${appId}/grants`, {
    form: { csrf, scope: "okta.users.read", q: "" },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.match(await forged.text(), /Super Administrator/);
  assert.deepEqual(await grantsOf(appId), before, "the refused POST wrote nothing");
  await context.close();
});

test("a POST without the CSRF token is refused", async () => {
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  const appId = await openScopesTab(page);
  const before = await grantsOf(appId);
  for (const form of [{ scope: "okta.users.read" }, { scope: "okta.users.read", csrf: "not-the-token" }]) {
    const res = await context.request.post(`${url}/admin/apps/${appId}/grants`, { form, maxRedirects: 0 });
    assert.equal(res.status(), 403, JSON.stringify(form));
    assert.match(await res.text(), /security token is\s+missing or wrong/);
  }
  assert.deepEqual(await grantsOf(appId), before, "nothing was granted");
  await context.close();
});

test("sign-out ends the console session and the Steward sign-in session", async () => {
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  const [old] = (await context.cookies()).filter((c) => c.name === "steward_console");
  assert.ok(old, "the console's session cookie");
  assert.ok(old.httpOnly && old.sameSite === "Lax" && old.path === "/", JSON.stringify(old));

  await Promise.all([page.waitForURL(/\/admin\/signed-out/), page.click("button:has-text('Sign out')")]);
  assert.equal(await page.textContent("h1"), "You have signed out");
  await scan(page, "Signed out");
  await shot(page, "signed-out");

  // The old cookie opens nothing any more.
  await context.addCookies([old]);
  const replay = await context.request.get(`${url}/admin/apps`, { maxRedirects: 0 });
  assert.equal(replay.status(), 303);
  assert.match(replay.headers().location, /^\/admin\/signin/);
  // And the Steward session is gone too: the console asks for a password again.
  await page.goto(`${url}/admin/apps`);
  await page.waitForSelector("input#username");
  await shot(page, "signin");
  await context.close();
});

/** Opens the end-user dashboard at `path` and signs in on Steward's sign-in page. */
async function signInToDashboard(page, who, path = "/app/") {
  await page.goto(`${url}${path}`);
  await page.waitForSelector("input#username");
  await page.fill("#username", who.login);
  await page.fill("#password", who.password);
  await Promise.all([page.waitForURL(`${url}${path}`), page.click("button[type=submit]")]);
}

/** Opens task `taskId` from My tasks and approves it with `comment`. */
async function approveFromMyTasks(page, taskId, comment, name) {
  await page.click("nav.side >> text=My tasks");
  await page.waitForURL(`${url}/app/tasks`);
  await scan(page, `My tasks (${name})`);
  if (name === "manager") await shot(page, "app-my-tasks");
  await Promise.all([page.waitForURL(`${url}/app/tasks/${taskId}`), page.click(`tr[data-task="${taskId}"] a`)]);
  assert.equal((await page.textContent("#task-status")).trim(), "Waiting for you");
  await scan(page, `Task (${name})`);
  if (comment) await page.fill("#comment", comment);
  if (name === "manager") await shot(page, "app-task");
  await Promise.all([page.waitForURL(/decided=APPROVED/), page.click("button[value=APPROVED]")]);
  assert.match(await page.textContent(".notice"), /You approved it/);
  assert.equal((await page.textContent("#task-status")).trim(), "Approved");
  await scan(page, `Task approved (${name})`);
}

/** The open task of request `requestId` and its assignees (Management API). */
async function openTaskOf(requestId) {
  const filter = encodeURIComponent(`requestId eq "${requestId}" and status eq "OPEN"`);
  const res = await api("GET", `/governance/api/v2/tasks?filter=${filter}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.data.length, 1, JSON.stringify(res.body));
  return res.body.data[0];
}

async function loginOf(userId) {
  const res = await api("GET", `/api/v1/users/${userId}`);
  assert.equal(res.status, 200);
  const login = res.body.profile.login;
  return { login, password: login === ADMIN.login ? ADMIN.password : DEMO_PASSWORD };
}

test("an end user requests access in the catalog, approvers approve in My tasks, and the user gets it", async () => {
  // The requestable group: the catalog entry that is not an app.
  const apps = (await api("GET", "/governance/api/v2/catalogs/default/entries?filter=" + encodeURIComponent("not(parent pr)"))).body.data;
  const children = (await api("GET", "/governance/api/v2/catalogs/default/entries?filter=" + encodeURIComponent("parent pr"))).body.data;
  // The requester: a demo user with a manager, not in the group yet (and past the demo's own
  // requesters when there are enough). The first requestable group that has such a user (a
  // group everyone is in has none).
  const users = (await api("GET", "/api/v1/users?limit=60")).body;
  let entry, group, candidates;
  for (const e of children.filter((c) => !apps.some((a) => a.name === c.name))) {
    const g = (await api("GET", `/api/v1/groups?q=${encodeURIComponent(e.name)}`)).body.find((x) => x.profile.name === e.name);
    if (!g) continue;
    const members = (await api("GET", `/api/v1/groups/${g.id}/users?limit=200`)).body.map((u) => u.id);
    const outside = users.filter(
      (u) => u.status === "ACTIVE" && u.profile.managerId && u.profile.login !== orgAdmin.login && !members.includes(u.id),
    );
    if (outside.length > 0) {
      [entry, group, candidates] = [e, g, outside];
      break;
    }
  }
  assert.ok(entry, `a requestable group with a demo user outside it: ${JSON.stringify(children)}`);
  const membersOf = async () => (await api("GET", `/api/v1/groups/${group.id}/users?limit=200`)).body.map((u) => u.id);
  const requesterUser = candidates[Math.min(4, candidates.length - 1)];
  const requester = { login: requesterUser.profile.login, password: DEMO_PASSWORD };
  const manager = await loginOf(requesterUser.profile.managerId);

  // The requester: Catalog → search → the request form → submit (with the keyboard).
  const asRequester = await newPage();
  const page = asRequester.page;
  await signInToDashboard(page, requester);
  assert.equal(await page.textContent("h1"), "Request access");
  await scan(page, "Dashboard: Request access");
  await shot(page, "app-catalog");
  await page.fill("input#q", entry.name);
  await Promise.all([page.waitForURL(/\/app\/\?q=/), page.click("form.search button")]);
  await Promise.all([page.waitForURL(`${url}/app/catalog/${entry.id}`), page.click(`a[aria-label="Request ${entry.name}"]`)]);
  assert.equal(await page.textContent("h1"), `Request ${entry.name}`);
  const options = await page.$$eval("select option", (os) => os.map((o) => o.value));
  assert.deepEqual(options, ["PT1H", "PT4H", "PT8H", "P1D", "P3D", "P7D"], "durations up to the condition's week");
  await page.selectOption("select", "P3D");
  await scan(page, "Request form");
  await shot(page, "app-request-form");
  await page.focus("select");
  await page.keyboard.press("Tab");
  await Promise.all([page.waitForURL(/\/app\/requests\/req\w+\?submitted=1/), page.keyboard.press("Enter")]);
  const requestId = page.url().match(/requests\/(req\w+)/)[1];
  assert.equal((await page.textContent("#request-status")).trim(), "Pending approval");
  await scan(page, "My request (pending)");
  await page.click("nav.side >> text=My requests");
  await page.waitForURL(`${url}/app/requests`);
  assert.ok(await page.isVisible(`tr[data-request="${requestId}"]`));
  await scan(page, "My requests");
  await shot(page, "app-my-requests");

  // The requester cannot decide their own request, even with the session's CSRF token.
  const step1 = await openTaskOf(requestId);
  const csrf = await page.inputValue('form[action="/app/signout"] input[name=csrf]');
  const own = await asRequester.context.request.post(`${url}/app/tasks/${step1.id}/resolve`, {
    form: { csrf, decision: "APPROVED" },
    maxRedirects: 0,
  });
  assert.equal(own.status(), 404, "not the requester's task");

  // The manager approves in My tasks, with a comment; a forged POST without the CSRF token
  // from the manager's session is refused first.
  const asManager = await newPage();
  await signInToDashboard(asManager.page, manager, "/app/tasks");
  const forged = await asManager.context.request.post(`${url}/app/tasks/${step1.id}/resolve`, {
    form: { decision: "APPROVED" },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403);
  assert.equal((await openTaskOf(requestId)).id, step1.id, "the forged POST decided nothing");
  await asManager.page.goto(`${url}/app/`);
  await approveFromMyTasks(asManager.page, step1.id, "Approved for the sprint.", "manager");

  // Then a member of Security, as the sequence's second step asks.
  const step2 = await openTaskOf(requestId);
  assert.notEqual(step2.id, step1.id);
  const securityId = step2.assignees.map((a) => a.externalId).find((id) => id !== requesterUser.id);
  const security = await loginOf(securityId);
  let asSecurity = asManager;
  if (security.login !== manager.login) {
    asSecurity = await newPage();
    await signInToDashboard(asSecurity.page, security);
  }
  await approveFromMyTasks(asSecurity.page, step2.id, "", "security");

  // The requester sees it granted, and is in fact a member of the group.
  await page.goto(`${url}/app/requests/${requestId}`);
  assert.equal((await page.textContent("#request-status")).trim(), "Granted");
  assert.match(await page.textContent("ol.history"), /Approved for the sprint\./);
  assert.match(await page.textContent("ol.history"), /Access was granted\./);
  await scan(page, "My request (granted)");
  await shot(page, "app-request-granted");
  assert.ok((await membersOf()).includes(requesterUser.id), "the requester is in the group");
  const request = await api("GET", `/governance/api/v2/requests/${requestId}`);
  assert.equal(request.body.status, "APPROVED");
  assert.equal(request.body.grantStatus, "GRANTED");

  // A phone: the same page, readable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${url}/app/`);
  await scan(page, "Dashboard on a phone");
  await shot(page, "app-catalog-phone");

  // No admin role: the Admin Console refuses this user.
  await page.goto(`${url}/admin/`);
  assert.match(await page.textContent("h1"), /No admin role/);
  for (const c of [asRequester, asManager, asSecurity]) await c.context.close().catch(() => {});
});

test("the seed walk: a failed run's diagnosis leads to the grant in one click, Reauthorize, the rerun succeeds", async () => {
  const FLOW = "5eed0000-0000-4000-8000-000000000001";
  const apps = await api("GET", `/api/v1/apps?q=${encodeURIComponent(WORKFLOWS_APP)}`);
  const appId = apps.body.find((a) => a.label === WORKFLOWS_APP).id;
  // The walk starts where a Workflows admin's does: the scope not granted (an earlier test
  // granted it in the console).
  for (const g of (await api("GET", `/api/v1/apps/${appId}/grants`)).body.filter((g) => g.scopeId === SCOPE)) {
    assert.equal((await api("DELETE", `/api/v1/apps/${appId}/grants/${g.id}`)).status, 204);
  }
  const secret = await api("POST", `/api/v1/apps/${appId}/credentials/secrets`, {});
  assert.equal(secret.status, 201, JSON.stringify(secret.body));
  const admins = await api("GET", `/api/v1/users?filter=${encodeURIComponent(`profile.login eq "${ADMIN.login}"`)}`);
  const assigned = await api("POST", `/api/v1/apps/${appId}/users`, { id: admins.body[0].id });
  assert.ok([200, 201].includes(assigned.status), JSON.stringify(assigned.body));
  const created = await api("POST", "/workflows/api/v1/connections", {
    name: WORKFLOWS_APP, connector: "okta", appId, clientSecret: secret.body.client_secret,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const connectionId = created.body.id;
  const flopack = JSON.parse(readFileSync(join(root, "crates/steward-flows/tests/fixtures/seed_request_lookup.flopack"), "utf8"));
  assert.equal((await api("POST", "/workflows/api/v1/flows", flopack)).status, 201);
  assert.equal((await api("POST", `/workflows/api/v1/flows/${FLOW}/activate`, {})).status, 200);
  const requestId = await aV1Request();

  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  await authorizeConnection(page, connectionId, "Authorize");
  await page.goto(`${url}/admin/workflows`);
  await scan(page, "Workflows: Flows");
  await page.goto(`${url}/admin/workflows/flows/${FLOW}`);
  await scan(page, "Workflows: a flow drawn");
  await shot(page, "workflows-flow");

  // Without the scope the run fails, and its page says why and what to do.
  assert.equal(await runSeedFlow(page, FLOW, requestId), "FAILED");
  assert.match(await page.textContent(".diagnosis"), new RegExp(SCOPE.replaceAll(".", "\\.")));
  await scan(page, "Workflows: failed run with its diagnosis");
  await shot(page, "workflows-diagnosis");

  // One click to the grant: the app's Okta API Scopes tab, searched for the scope.
  await Promise.all([page.waitForURL(/\/admin\/apps\/.*\/scopes\?q=/), page.click(".diagnosis a:has-text('Grant')")]);
  const row = `tr[data-scope="${SCOPE}"]`;
  await Promise.all([page.waitForURL(/granted=/), page.click(`${row} button:has-text("Grant")`)]);
  assert.equal((await page.textContent(`${row} .status`)).trim(), "Granted");

  // The old token still lacks it: the rerun says reauthorize.
  assert.equal(await runSeedFlow(page, FLOW, requestId), "FAILED");
  assert.match(await page.textContent(".diagnosis"), /holds the grant/);
  await authorizeConnection(page, connectionId, "Reauthorize");
  await page.goto(`${url}/admin/workflows/connections`);
  assert.match(await page.textContent(`#connection-${connectionId}`), new RegExp(SCOPE.replaceAll(".", "\\.")));
  await shot(page, "workflows-connections");

  // The rerun succeeds and shows each card.
  assert.equal(await runSeedFlow(page, FLOW, requestId), "SUCCEEDED");
  const steps = await page.$$eval("ol.steps li.step", (items) => items.length);
  assert.ok(steps >= 3, `each card is shown (${steps})`);
  assert.match(await page.textContent("body"), new RegExp(requestId));
  await scan(page, "Workflows: execution card by card");
  await shot(page, "workflows-execution");
  await page.goto(`${url}/admin/workflows/executions`);
  await scan(page, "Workflows: Execution history");
  await context.close();
});

// Each area's tests, in this order, after the ones above.
await import("./directory.mjs");
await import("./apps_admin.mjs");
await import("./governance.mjs");
await import("./logs.mjs");
