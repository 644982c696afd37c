// Identity Governance in the Admin Console: the Super Admin creates a request condition on a demo
// app in the UI (a sequence and a requester group of this test's own), an end user requests it
// on their dashboard, the request shows in the admin inbox with its history, and the approver
// (the Super Admin, the sequence's one step) approves it there. Only objects this file creates
// are changed: its groups, its sequence, its condition (deactivated and deleted at the end).
import { test } from "node:test";
import assert from "node:assert/strict";
import { url, orgAdmin, ADMIN, DEMO_PASSWORD, WORKFLOWS_APP, api, newPage, scan, shot, signIn } from "./harness.mjs";

const V2 = "/governance/api/v2";

test("Identity Governance: a condition made in the console, requested on /app, approved from the inbox", async () => {
  const stamp = Date.now().toString(36);
  const requestable = `Gov browser group ${stamp}`;
  const requesters = `Gov browser requesters ${stamp}`;
  const sequenceName = `Gov browser: the Super Admin approves ${stamp}`;
  const conditionName = `Gov browser condition ${stamp}`;

  // This test's own objects: two groups, a requester in one, a one-step sequence.
  const group = async (name) => {
    const res = await api("POST", "/api/v1/groups", { profile: { name } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const scopeGroup = await group(requestable);
  const requesterGroup = await group(requesters);
  const admins = (await api("GET", `/api/v1/users?q=${encodeURIComponent(ADMIN.login)}`)).body;
  const adminUser = admins.find((u) => u.profile.login === ADMIN.login);
  const users = (await api("GET", "/api/v1/users?limit=60")).body;
  const requesterUser = users.find(
    (u) => u.status === "ACTIVE" && u.profile.login !== ADMIN.login && u.profile.login !== orgAdmin.login,
  );
  assert.ok(requesterUser, "a demo user to request");
  const member = await api("PUT", `/api/v1/groups/${requesterGroup.id}/users/${requesterUser.id}`);
  assert.equal(member.status, 204);
  const seq = await api("POST", `${V2}/request-sequences`, {
    name: sequenceName,
    steps: [{ approver: { type: "USER", id: adminUser.id }, label: "Super Admin approval" }],
  });
  assert.equal(seq.status, 201, JSON.stringify(seq.body));
  const apps = (await api("GET", "/api/v1/apps?limit=50")).body;
  const app = apps.find((a) => a.status === "ACTIVE" && a.label !== WORKFLOWS_APP && !/Steward Admin Console/.test(a.label));
  assert.ok(app, "a demo app");

  // The Super Admin: Identity Governance → Resources → the app → Add condition.
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  await page.click("nav.side >> text=Identity Governance");
  await page.waitForURL(`${url}/admin/governance/requests`);
  await scan(page, "Identity Governance: Access requests");
  await page.click("nav.tabs >> text=Resources");
  await page.waitForURL(`${url}/admin/governance/resources`);
  await page.fill("input#q", app.label);
  await Promise.all([page.waitForURL(/resources\?q=/), page.click("form.search button")]);
  await scan(page, "Identity Governance: Resources");
  await Promise.all([page.waitForURL(`${url}/admin/governance/resources/${app.id}`), page.click(`a:text-is("${app.label}")`)]);
  await scan(page, "Identity Governance: a resource");
  await Promise.all([page.waitForURL(/conditions\/new$/), page.click("text=Add condition")]);
  await page.fill("#name", conditionName);
  await page.fill("#description", "Made by the browser test");
  await page.check("#requester-groups");
  await page.selectOption("#requester_group", requesterGroup.id);
  await page.check("#scope-groups");
  await page.selectOption("#scope_group", scopeGroup.id);
  await page.selectOption("#sequence", seq.body.id);
  await scan(page, "Identity Governance: new condition");
  await Promise.all([page.waitForURL(/done=created/), page.click("button:text-is('Create condition')")]);
  assert.match(await page.textContent(".notice"), /The condition was created/);
  const row = `tr[data-condition="${conditionName}"]`;
  assert.equal((await page.textContent(`${row} .status`)).trim(), "INACTIVE");
  await Promise.all([page.waitForURL(/done=activated/), page.click(`${row} button:text-is("Activate")`)]);
  assert.equal((await page.textContent(`${row} .status`)).trim(), "ACTIVE");
  assert.match(await page.textContent(row), new RegExp(`Members of ${requesters}`));
  assert.match(await page.textContent(row), new RegExp(sequenceName.replace(/[:]/g, ".")));
  await scan(page, "Identity Governance: a resource with the condition");
  await shot(page, "governance-resource");
  const condition = (await api("GET", `${V2}/resources/${app.id}/request-conditions`)).body.data.find((c) => c.name === conditionName);
  assert.equal(condition.status, "ACTIVE");
  assert.equal(condition.requesterSettings.groups[0].id, requesterGroup.id);

  // The end user requests the group on their dashboard.
  const asUser = await newPage();
  const userPage = asUser.page;
  await userPage.goto(`${url}/app/`);
  await userPage.waitForSelector("input#username");
  await userPage.fill("#username", requesterUser.profile.login);
  await userPage.fill("#password", DEMO_PASSWORD);
  await Promise.all([userPage.waitForURL(`${url}/app/`), userPage.click("button[type=submit]")]);
  await userPage.fill("input#q", requestable);
  await Promise.all([userPage.waitForURL(/\/app\/\?q=/), userPage.click("form.search button")]);
  await Promise.all([userPage.waitForURL(/\/app\/catalog\//), userPage.click(`a[aria-label="Request ${requestable}"]`)]);
  await Promise.all([userPage.waitForURL(/\/app\/requests\/req\w+\?submitted=1/), userPage.click("button:text-is('Submit request')")]);
  const requestId = userPage.url().match(/requests\/(req\w+)/)[1];
  assert.equal((await userPage.textContent("#request-status")).trim(), "Pending approval");

  // The admin inbox shows it (filtered by status and words), with its history.
  await page.goto(`${url}/admin/governance/requests`);
  await page.selectOption("#status", "PENDING");
  await page.fill("#q", requestable);
  await Promise.all([page.waitForURL(/status=PENDING/), page.click("form.filters button")]);
  const link = `a[href="/admin/governance/requests/${requestId}"]`;
  assert.ok(await page.isVisible(link), "the request is in the inbox");
  await scan(page, "Identity Governance: the inbox, filtered");
  await shot(page, "governance-requests");
  await Promise.all([page.waitForURL(`${url}/admin/governance/requests/${requestId}`), page.click(link)]);
  assert.equal((await page.textContent("#request-status")).trim(), "Pending approval");
  assert.match(await page.textContent("ol.history"), /requested it\./);
  assert.match(await page.textContent("ol.history"), /Super Admin approval: waiting for/);
  await page.fill("#comment", "Approved from the inbox.");
  await scan(page, "Identity Governance: a request");
  await shot(page, "governance-request");
  await Promise.all([page.waitForURL(/decided=APPROVED/), page.click("button[value=APPROVED]")]);
  assert.match(await page.textContent(".notice"), /You approved it/);
  assert.equal((await page.textContent("#request-status")).trim(), "Granted");
  assert.match(await page.textContent("ol.history"), /Approved from the inbox\./);
  await scan(page, "Identity Governance: a request (granted)");
  const members = (await api("GET", `/api/v1/groups/${scopeGroup.id}/users?limit=200`)).body.map((u) => u.id);
  assert.ok(members.includes(requesterUser.id), "the requester is in the group");

  // The user sees it granted, with the comment.
  await userPage.goto(`${url}/app/requests/${requestId}`);
  assert.equal((await userPage.textContent("#request-status")).trim(), "Granted");
  assert.match(await userPage.textContent("ol.history"), /Approved from the inbox\./);

  // The other pages, scanned; then this test's condition is switched off and deleted.
  for (const [path, name] of [
    ["/admin/governance/sequences", "Identity Governance: Approval sequences"],
    [`/admin/governance/sequences/${seq.body.id}`, "Identity Governance: a sequence"],
    ["/admin/governance/settings", "Identity Governance: Settings"],
    [`/admin/governance/resources/${app.id}/conditions/${condition.id}`, "Identity Governance: a condition"],
  ]) {
    await page.goto(`${url}${path}`);
    await scan(page, name);
  }
  await page.goto(`${url}/admin/governance/resources/${app.id}`);
  await Promise.all([page.waitForURL(/done=deactivated/), page.click(`${row} button:text-is("Deactivate")`)]);
  page.once("dialog", (d) => d.accept());
  await Promise.all([page.waitForURL(/done=deleted/), page.click(`${row} button:text-is("Delete")`)]);
  assert.ok(!(await page.isVisible(row)), "the condition is gone");

  // A phone: the inbox, readable.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${url}/admin/governance/requests/${requestId}`);
  await scan(page, "Identity Governance: a request on a phone");
  await asUser.context.close();
  await context.close();
});
