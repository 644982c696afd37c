// What every browser test file shares: one `steward serve --demo` on a free port with a temporary
// data dir (started before the first test, stopped after the last), Debian's chromium driven by
// playwright-core, axe-core scans, screenshots into docs/screenshots, and the Management API.
// Test files import from here; run.mjs imports the test files.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, existsSync, createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = require("axe-core").source;
const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const shots = join(root, "docs/screenshots");
const bin = resolve(root, process.argv[2] || process.env.STEWARD_BIN || "target/debug/steward");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

export const TOKEN = "browser-tests-token-0123456789abcdef";
export const ADMIN = { login: "admin@steward.local", password: "Browser-Admin-Passw0rd!" };
export const DEMO_PASSWORD = "DemoPassw0rd!"; // every demo user's (crates/steward-app/src/bootstrap.rs)
export const WORKFLOWS_APP = "Okta Workflows OAuth";
export const SCOPE = "okta.governance.accessRequests.read";

let server, work, browser;
export let url;
export let orgAdmin; // a demo user made ORG_ADMIN through the API
export const visited = []; // every page scanned by axe

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function api(method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: {
      Authorization: `SSWS ${TOKEN}`,
      Accept: "application/json",
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  assert.ok(existsSync(bin), `steward binary not found at ${bin}`);
  assert.ok(existsSync(chromiumPath), `chromium not found at ${chromiumPath}`);
  work = mkdtempSync(join(tmpdir(), "steward-browser-"));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(work, "serve.log"));
  server = spawn(bin, ["serve", "--demo", "--listen", `127.0.0.1:${port}`, "--data-dir", join(work, "data")], {
    env: {
      ...process.env,
      STEWARD_BOOTSTRAP_API_TOKEN: TOKEN,
      STEWARD_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  let exited = null;
  server.on("exit", (code) => (exited = code));
  for (let i = 0; i < 300; i++) {
    assert.equal(exited, null, `steward exited (${exited}) before becoming ready; log in ${work}/serve.log`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok((await fetch(`${url}/healthz`)).ok, "steward did not become ready within 30 s");

  // An Org Admin: the first active demo user, given ORG_ADMIN over the Management API.
  const users = await api("GET", "/api/v1/users?limit=20");
  const user = users.body.find((u) => u.status === "ACTIVE" && u.profile.login !== ADMIN.login);
  assert.ok(user, "a demo user");
  const role = await api("POST", `/api/v1/users/${user.id}/roles`, { type: "ORG_ADMIN" });
  assert.equal(role.status, 201, JSON.stringify(role.body));
  orgAdmin = { login: user.profile.login, password: DEMO_PASSWORD };

  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // playwright-core gives every launch a fresh, temporary user-data-dir.
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await new Promise((r) => server.once("exit", r));
  }
  if (work && process.env.BROWSER_KEEP_DATA !== "1" && !process.exitCode) {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`axe-core scanned ${visited.length} pages: ${[...new Set(visited)].join(", ")}`);
});

/** A fresh browser context (its own cookies) whose pages report CSP violations. */
export async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.cspViolations = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) page.cspViolations.push(m.text());
  });
  return { context, page };
}

/** axe-core on the current page: no serious or critical violation; no CSP violation. */
export async function scan(page, name) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `accessibility violations on ${name} (${page.url()})`,
  );
  assert.deepEqual(page.cspViolations, [], `CSP violations on ${name}`);
  visited.push(name);
}

export async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: false });
}

/** Opens the console and signs in on Steward's sign-in page. */
export async function signIn(page, who) {
  await page.goto(`${url}/admin/`);
  await page.waitForSelector("input#username");
  assert.match(page.url(), /\/oauth2\/v1\/authorize\?/, "the console sends the browser to /authorize");
  await scan(page, "Steward sign-in");
  await page.fill("#username", who.login);
  await page.fill("#password", who.password);
  await Promise.all([page.waitForURL(`${url}/admin/`), page.click("button[type=submit]")]);
}

export async function openScopesTab(page) {
  await page.click("nav.side >> text=Applications");
  await page.waitForURL(`${url}/admin/apps`);
  await scan(page, "Applications");
  await page.click(`text=${WORKFLOWS_APP}`);
  await page.waitForSelector("h2:has-text('General settings')");
  await scan(page, "Application: General");
  const appId = page.url().split("/").pop();
  await page.click("nav.tabs >> text=Okta API Scopes");
  await page.waitForSelector("h2:has-text('Okta API Scopes')");
  await scan(page, "Application: Okta API Scopes");
  return appId;
}

export async function grantsOf(appId) {
  const res = await api("GET", `/api/v1/apps/${appId}/grants`);
  assert.equal(res.status, 200);
  return res.body.map((g) => g.scopeId).sort();
}

/** A v1 access request to read (a group, a published request type for it, a request). */
export async function aV1Request() {
  const group = await api("POST", "/api/v1/groups", { profile: { name: "Seed walk" } });
  assert.equal(group.status, 200, JSON.stringify(group.body));
  const teams = await api("GET", "/governance/api/v1/teams");
  const type = await api("POST", "/governance/api/v1/request-types", {
    name: "Seed walk access",
    ownerId: teams.body.data[0].id,
    resourceSettings: { type: "GROUPS", targetResources: [{ resourceId: group.body.id }] },
    approvalSettings: { type: "SERIAL", approvals: [{ approverType: "MEMBER_OF", approverMemberOf: [group.body.id] }] },
  });
  assert.equal(type.status, 201, JSON.stringify(type.body));
  assert.equal((await api("POST", `/governance/api/v1/request-types/${type.body.id}/publish`, {})).status, 200);
  const request = await api("POST", "/governance/api/v1/requests", { requestTypeId: type.body.id, subject: "Seed walk" });
  assert.equal(request.status, 201, JSON.stringify(request.body));
  return request.body.id;
}

/** Authorize or Reauthorize on the Connections page; back from the org's callback page. */
export async function authorizeConnection(page, connectionId, label) {
  await page.goto(`${url}/admin/workflows/connections`);
  await scan(page, "Workflows: Connections");
  await Promise.all([
    page.waitForURL(/\/workflows\/oauth\/callback\?/),
    page.click(`#connection-${connectionId} button:has-text("${label}")`),
  ]);
  assert.match(await page.textContent("body"), /Connection authorized/);
}

/** Run now with the request's id; the execution page once the worker has ended the run. */
export async function runSeedFlow(page, flowId, requestId) {
  await page.goto(`${url}/admin/workflows/flows/${flowId}`);
  await page.fill("#run-input", JSON.stringify({ query: { requestId } }));
  await Promise.all([page.waitForURL(/\/admin\/workflows\/executions\//), page.click("button:has-text('Run now')")]);
  for (let i = 0; i < 100; i++) {
    const status = (await page.textContent("dl .status")).trim();
    if (status === "SUCCEEDED" || status === "FAILED") return status;
    await new Promise((r) => setTimeout(r, 200));
    await page.reload();
  }
  assert.fail("the run did not end");
}
