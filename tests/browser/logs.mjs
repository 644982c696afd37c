// The System Log's live tail in a real browser: with the page open, events made elsewhere (here
// through the Management API) appear on top without a reload, the filters hold, Pause stops the
// tail and Resume brings what arrived meanwhile. Scanned with axe-core.
import { test } from "node:test";
import assert from "node:assert/strict";
import { url, ADMIN, api, newPage, scan, shot, signIn } from "./harness.mjs";

async function newGroup(name) {
  const res = await api("POST", "/api/v1/groups", { profile: { name, description: "made by the live tail test" } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.id;
}

test("the System Log's live tail shows new events on top, keeps the filter, and pauses", async () => {
  const { context, page } = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${url}/admin/logs?eventType=group.lifecycle.create`);
  await page.waitForSelector("[data-live-toggle]:not([hidden])");
  assert.match(await page.textContent("[data-live-status]"), /Live tail on/);
  await scan(page, "System Log (live tail)");

  // A group made elsewhere appears on top; a user made at the same time does not (the filter).
  await newGroup("Live Tail One");
  const user = await api("POST", "/api/v1/users?activate=false", {
    profile: { firstName: "Tail", lastName: "Skipped", email: "tail.skipped@example.com", login: "tail.skipped@example.com" },
  });
  assert.equal(user.status, 200, JSON.stringify(user.body));
  const firstRow = page.locator("tbody[data-live-rows] tr").first();
  await firstRow.filter({ hasText: "Live Tail One" }).waitFor({ timeout: 15000 });
  assert.match(await page.textContent("[data-live-status]"), /1 new event/);
  assert.equal(await page.locator("tbody[data-live-rows] >> text=Tail Skipped").count(), 0);
  await scan(page, "System Log (a new event on top)");
  await shot(page, "logs-live");

  // Paused, nothing arrives; resumed, what came meanwhile does.
  await page.click("[data-live-toggle]");
  assert.equal(await page.textContent("[data-live-toggle]"), "Resume live tail");
  await newGroup("Live Tail Two");
  await page.waitForTimeout(4000);
  assert.equal(await page.locator("tbody[data-live-rows] >> text=Live Tail Two").count(), 0, "paused");
  await page.click("[data-live-toggle]");
  await firstRow.filter({ hasText: "Live Tail Two" }).waitFor({ timeout: 15000 });
  // Each event once.
  assert.equal(await page.locator("tbody[data-live-rows] tr", { hasText: "Live Tail One" }).count(), 1);
  await context.close();
});
