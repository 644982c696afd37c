// Applications (Create App Integration, the client secret shown once, Assignments) and
// Security > Administrators, in a real browser. Only objects these tests create are changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { url, orgAdmin, ADMIN, api, newPage, scan, shot, signIn } from "./harness.mjs";

const stamp = Date.now().toString(36);

test("the Super Admin creates a Web app, sees its secret once, and assigns a group to it", async () => {
  const group = await api("POST", "/api/v1/groups", { profile: { name: `Payroll team ${stamp}` } });
  assert.equal(group.status, 200, JSON.stringify(group.body));

  const { context, page } = await newPage();
  page.on("dialog", (d) => d.accept());
  await signIn(page, ADMIN);
  await page.click("nav.side >> text=Applications");
  await page.waitForURL(`${url}/admin/apps`);
  await Promise.all([page.waitForURL(`${url}/admin/apps/new`), page.click("text=Create App Integration")]);
  await scan(page, "Create App Integration: type");
  await page.check("#type-web");
  await Promise.all([page.waitForURL(/\/admin\/apps\/new\?type=web/), page.click("button:has-text('Next')")]);
  await scan(page, "Create App Integration: Web");

  // A bad redirect URI: the form again, the error beside the field, nothing created.
  const label = `Payroll ${stamp}`;
  await page.fill("#label", label);
  await page.check("#grant-refresh_token");
  await page.fill("#redirect_uris", "payroll.example/callback");
  await page.click("button:has-text('Save')");
  await page.waitForSelector("#redirect_uris-error");
  assert.match(await page.textContent("#redirect_uris-error"), /not an absolute URI/);
  assert.equal(await page.getAttribute("#redirect_uris", "aria-invalid"), "true");
  await scan(page, "Create App Integration: errors");
  await shot(page, "app-new");
  const none = await api("GET", `/api/v1/apps?q=${encodeURIComponent(label)}`);
  assert.deepEqual(none.body, [], "nothing written");

  await page.fill("#redirect_uris", "https://payroll.example/callback");
  await page.click("button:has-text('Save')");
  await page.waitForSelector("#client-secret");
  assert.match(await page.textContent(".notice"), new RegExp(`Created ${label}`));
  const secret = await page.inputValue("#client-secret");
  assert.ok(secret.length >= 40, secret);
  await scan(page, "Application: General with its new secret");
  const appId = (await page.getAttribute("form[action$='/lifecycle']", "action")).split("/")[3];
  const app = await api("GET", `/api/v1/apps/${appId}`);
  assert.equal(app.body.label, label);
  assert.deepEqual(app.body.settings.oauthClient.redirect_uris, ["https://payroll.example/callback"]);
  assert.deepEqual(app.body.settings.oauthClient.grant_types, ["authorization_code", "refresh_token"]);

  // Shown once: the page took the app's address, and reloading it does not show it again (nor
  // create another app).
  assert.equal(page.url(), `${url}/admin/apps/${appId}`);
  await page.reload();
  assert.equal((await api("GET", `/api/v1/apps?q=${encodeURIComponent(label)}`)).body.length, 1);
  assert.equal(await page.$("#client-secret"), null);
  assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");

  // Assignments: find the group, assign it.
  await page.click("nav.tabs >> text=Assignments");
  await page.waitForURL(`${url}/admin/apps/${appId}/assignments`);
  await scan(page, "Application: Assignments");
  await page.fill("#group_q", "Payroll team");
  await Promise.all([page.waitForURL(/group_q=/), page.click("#group_q ~ button")]);
  await Promise.all([
    page.waitForURL(/done=group-assigned/),
    page.click(`button[aria-label="Assign the group Payroll team ${stamp}"]`),
  ]);
  assert.match(await page.textContent(".notice"), /Assigned the group Payroll team/);
  await scan(page, "Application: Assignments with a group");
  await shot(page, "app-assignments");
  const groups = await api("GET", `/api/v1/apps/${appId}/groups`);
  assert.deepEqual(groups.body.map((g) => g.id), [group.body.id]);

  // Deactivate (the confirm accepted), then activate again.
  await page.goto(`${url}/admin/apps/${appId}`);
  await Promise.all([page.waitForURL(/done=deactivated/), page.click("button:has-text('Deactivate')")]);
  assert.equal((await api("GET", `/api/v1/apps/${appId}`)).body.status, "INACTIVE");
  await Promise.all([page.waitForURL(/done=activated/), page.click("button:has-text('Activate')")]);
  assert.equal((await api("GET", `/api/v1/apps/${appId}`)).body.status, "ACTIVE");
  await context.close();
});

test("the Super Admin assigns Read Only Administrator to a new user and removes it; an Org Admin may not", async () => {
  const login = `ro-${stamp}@example.com`;
  const user = await api("POST", "/api/v1/users?activate=true", {
    profile: { firstName: "Rhea", lastName: "Only", email: login, login },
  });
  assert.equal(user.status, 200, JSON.stringify(user.body));

  const { context, page } = await newPage();
  page.on("dialog", (d) => d.accept());
  await signIn(page, ADMIN);
  await page.click("nav.side >> text=Security");
  await page.waitForURL(`${url}/admin/security/administrators`);
  await scan(page, "Security: Administrators");
  await page.selectOption("#kind", "user");
  await page.fill("#principal", login);
  await page.selectOption("#role", "READ_ONLY_ADMIN");
  await Promise.all([page.waitForURL(/done=assigned/), page.click("button:has-text('Add')")]);
  assert.match(await page.textContent(".notice"), new RegExp(`Assigned Read Only Administrator to ${login}`));
  let roles = await api("GET", `/api/v1/users/${user.body.id}/roles`);
  assert.deepEqual(roles.body.map((r) => r.type), ["READ_ONLY_ADMIN"]);
  await scan(page, "Security: Administrators with a new role");
  await shot(page, "security-administrators");

  await Promise.all([
    page.waitForURL(/done=removed/),
    page.click(`button[aria-label="Remove Read Only Administrator from ${login}"]`),
  ]);
  assert.match(await page.textContent(".notice"), /Removed Read Only Administrator/);
  roles = await api("GET", `/api/v1/users/${user.body.id}/roles`);
  assert.deepEqual(roles.body, []);

  // The last Super Admin is kept: the refusal says so. (Only tried while the admin is the one
  // Super Admin: other files' tests may add another, and the admin must keep the role.)
  const superAdmins = await page.$$eval("table.admins tbody tr", (rows) =>
    rows.filter((r) => r.textContent.includes("SUPER_ADMIN")).length);
  if (superAdmins === 1) {
    await page.click(`button[aria-label="Remove Super Administrator from ${ADMIN.login}"]`);
    await page.waitForSelector("#admins-error");
    assert.match(await page.textContent("#admins-error"), /last Super Administrator/);
    await scan(page, "Security: Administrators, the last Super Admin kept");
  }
  await context.close();

  // An Org Admin sees every change disabled, with the reason.
  const other = await newPage();
  await signIn(other.page, orgAdmin);
  await other.page.goto(`${url}/admin/security/administrators`);
  assert.ok(await other.page.isDisabled("button:has-text('Add')"));
  assert.match(await other.page.textContent("#manage-reason"), /Only a Super Administrator/);
  await scan(other.page, "Security: Administrators as an Org Admin");
  await other.context.close();
});

test("the Administrators page and the app form are usable at a phone's width", async () => {
  const { context, page } = await newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, ADMIN);
  const sideways = () => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  await page.goto(`${url}/admin/security/administrators`);
  await scan(page, "Security: Administrators on a phone");
  assert.ok(!(await sideways()), "Administrators: no sideways scrolling");
  await page.goto(`${url}/admin/apps/new?type=service`);
  await scan(page, "Create App Integration on a phone");
  assert.ok(!(await sideways()), "Create App Integration: no sideways scrolling");
  const consoleApp = (await api("GET", `/api/v1/apps?q=${encodeURIComponent("Steward Admin Console")}`)).body[0];
  await page.goto(`${url}/admin/apps/${consoleApp.id}/assignments`);
  await scan(page, "Application: Assignments on a phone");
  assert.ok(!(await sideways()), "Assignments: no sideways scrolling");
  await context.close();
});
