// Directory (People and Groups) in a real browser: the Super Admin adds a person in the UI,
// finds them by search, suspends and unsuspends them, adds them to a group they create and sees
// the membership on both pages, then deactivates and deletes them through the confirmation
// pages; an Org Admin sees a Super Admin's actions disabled with the reason. Every page is
// scanned with axe-core. Only objects made here are changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { url, ADMIN, orgAdmin, api, newPage, scan, shot, signIn } from "./harness.mjs";

const PERSON = { first: "Dora", last: "Browser", email: "dora.browser@example.com", password: "Walk-Thr0ugh-Pass!" };
const GROUP = "Browser crew";

async function statusOf(id) {
  const res = await api("GET", `/api/v1/users/${id}`);
  return res.status === 200 ? res.body.status : res.status;
}

test("the Super Admin adds, finds, suspends and groups a person in Directory", async () => {
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  await Promise.all([page.waitForURL(`${url}/admin/directory/users`), page.click("nav.side >> text=Directory")]);
  assert.equal(await page.textContent("h1"), "People");
  await scan(page, "Directory: People");

  // Add person (with the keyboard-reachable form).
  await Promise.all([page.waitForURL(/\/users\/new$/), page.click("a:has-text('Add person')")]);
  await scan(page, "Directory: Add person");
  await page.fill("#firstName", PERSON.first);
  await page.fill("#lastName", PERSON.last);
  await page.fill("#email", PERSON.email);
  await page.fill("#password", PERSON.password);
  assert.ok(await page.isChecked("#activate"), "Activate now is the default");
  await Promise.all([page.waitForURL(/\/admin\/directory\/users\/[^/?]+\?done=created$/), page.click("form.dir-form button[type=submit]")]);
  assert.match(await page.textContent(".notice"), /Dora Browser was added\./);
  const userId = new URL(page.url()).pathname.split("/").pop();
  assert.equal(await statusOf(userId), "ACTIVE");
  await scan(page, "Directory: a person (Profile)");

  // Found by search.
  await page.goto(`${url}/admin/directory/users`);
  await page.fill("input#q", "dora.b");
  await Promise.all([page.waitForURL(/users\?q=dora\.b/), page.click("form.search button")]);
  const rows = await page.$$eval("table.people tbody tr", (trs) => trs.map((t) => t.textContent));
  assert.equal(rows.length, 1, rows.join(" | "));
  assert.match(rows[0], /dora\.browser@example\.com/);
  await scan(page, "Directory: People (searched)");
  await shot(page, "directory-people");

  // Suspend and unsuspend.
  await Promise.all([page.waitForURL(`${url}/admin/directory/users/${userId}`), page.click("table.people a:has-text('Dora Browser')")]);
  await Promise.all([page.waitForURL(/done=suspend/), page.click('form[action$="/lifecycle/suspend"] button')]);
  assert.match(await page.textContent(".notice"), /was suspended/);
  assert.equal(await statusOf(userId), "SUSPENDED");
  await scan(page, "Directory: a suspended person");
  await Promise.all([page.waitForURL(/done=unsuspend/), page.click('form[action$="/lifecycle/unsuspend"] button')]);
  assert.equal(await statusOf(userId), "ACTIVE");

  // A group made here, then the person added to it from their Groups tab.
  await page.goto(`${url}/admin/directory/groups`);
  await scan(page, "Directory: Groups");
  await Promise.all([page.waitForURL(/\/groups\/new$/), page.click("a:has-text('Add group')")]);
  await scan(page, "Directory: Add group");
  await page.fill("#name", GROUP);
  await page.fill("#description", "Made by the browser tests");
  await Promise.all([page.waitForURL(/\/admin\/directory\/groups\/[^/?]+\?created=1$/), page.click("form.dir-form button[type=submit]")]);
  const groupId = new URL(page.url()).pathname.split("/").pop();
  await scan(page, "Directory: a group (Profile)");

  await page.goto(`${url}/admin/directory/users/${userId}/groups`);
  await page.fill("#gq", "browser c");
  await Promise.all([page.waitForURL(/groups\?gq=browser/), page.click("form.search button")]);
  await Promise.all([page.waitForURL(/added=/), page.click(`button[aria-label="Add to ${GROUP}"]`)]);
  assert.match(await page.textContent(".notice"), /Dora Browser was added to Browser crew\./);
  assert.match(await page.textContent("table.memberships"), /Browser crew/);
  await scan(page, "Directory: a person's Groups");
  const members = await api("GET", `/api/v1/groups/${groupId}/users`);
  assert.deepEqual(members.body.map((u) => u.id), [userId]);

  // The membership on the group's page too.
  await Promise.all([page.waitForURL(`${url}/admin/directory/groups/${groupId}`), page.click(`table.memberships a:has-text("${GROUP}")`)]);
  await Promise.all([page.waitForURL(/\/people$/), page.click("nav.tabs >> text=People")]);
  assert.match(await page.textContent("table.members"), /dora\.browser@example\.com/);
  await scan(page, "Directory: a group's People");
  await shot(page, "directory-group");
  await page.goto(`${url}/admin/directory/groups/${groupId}/apps`);
  await scan(page, "Directory: a group's Applications");
  await page.goto(`${url}/admin/directory/users/${userId}/apps`);
  await scan(page, "Directory: a person's Applications");
  await page.goto(`${url}/admin/directory/users/${userId}`);
  await shot(page, "directory-person");

  // Readable at a phone's width.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.goto(`${url}/admin/directory/users?q=dora`);
  await scan(page, "Directory: People (phone)");
  await page.setViewportSize({ width: 1280, height: 860 });

  // Deactivate, then delete: each confirmed on its own page.
  await page.goto(`${url}/admin/directory/users/${userId}`);
  await Promise.all([page.waitForURL(/\/confirm\/deactivate$/), page.click("a:has-text('Deactivate')")]);
  await scan(page, "Directory: confirm Deactivate");
  await page.check("#confirm");
  await Promise.all([page.waitForURL(/done=deactivate/), page.click("form.confirm button[type=submit]")]);
  assert.equal(await statusOf(userId), "DEPROVISIONED");
  await Promise.all([page.waitForURL(/\/confirm\/delete$/), page.click("a:has-text('Delete')")]);
  await page.check("#confirm");
  await Promise.all([page.waitForURL(/deleted=/), page.click("form.confirm button[type=submit]")]);
  assert.match(await page.textContent(".notice"), /dora\.browser@example\.com was deleted\./);
  assert.equal(await statusOf(userId), 404);
  await context.close();
});

test("an Org Admin sees a Super Admin's actions disabled with the reason", async () => {
  const { context, page } = await newPage();
  await signIn(page, orgAdmin);
  const admins = await api("GET", `/api/v1/users?q=${encodeURIComponent(ADMIN.login)}`);
  const adminId = admins.body[0].id;
  await page.goto(`${url}/admin/directory/users/${adminId}`);
  const suspend = page.locator("div.lifecycle button:has-text('Suspend')");
  assert.ok(await suspend.isDisabled());
  assert.match(await page.textContent("#manage-reason"), /Only a Super Administrator can change/);
  await scan(page, "Directory: a Super Admin seen by an Org Admin");
  await context.close();
});
