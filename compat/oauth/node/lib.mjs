// Shared helpers for the OAuth client suites: Management API setup (SSWS), a tiny cookie-keeping
// "browser" that signs in through Steward's real sign-in form, and client keys.
//
// Env (set by compat/run.sh):
//   STEWARD_ORG_URL    http://127.0.0.1:PORT or https://127.0.0.1:PORT (the issuer)
//   STEWARD_API_TOKEN  SSWS token of the bootstrap Super Admin
// For an https org with a self-signed certificate run.sh sets NODE_EXTRA_CA_CERTS to the
// server's tls-cert.pem, so every client trusts it without any "insecure" switch.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';

export const ORG = (process.env.STEWARD_ORG_URL || '').replace(/\/+$/, '');
export const TOKEN = process.env.STEWARD_API_TOKEN || '';
if (!ORG || !TOKEN) {
  throw new Error('STEWARD_ORG_URL and STEWARD_API_TOKEN must be set (compat/run.sh sets them)');
}
export const INSECURE = ORG.startsWith('http://');
export const PASSWORD = 'Sup3r-Secret-Pass!';
export const REDIRECT_URI = 'https://app.example.com/callback';

export const uniq = (prefix) => `${prefix}${randomBytes(4).toString('hex')}`;

/** Calls the Management API with the SSWS token; returns {status, body, headers}. */
export async function api(method, path, body) {
  const res = await fetch(ORG + path, {
    method,
    headers: {
      Authorization: `SSWS ${TOKEN}`,
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* keep text */ }
  return { status: res.status, body: parsed, headers: res.headers };
}

async function must(method, path, body, ...ok) {
  const r = await api(method, path, body);
  assert.ok(ok.includes(r.status), `${method} ${path} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** An RSA key pair for private_key_jwt; `jwk` is the public JWK with kid/alg/use. */
export async function clientKey(alg = 'RS256') {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = await jose.exportJWK(publicKey);
  jwk.kid = uniq('k');
  jwk.alg = alg;
  jwk.use = 'sig';
  return { publicKey, privateKey, jwk, kid: jwk.kid };
}

/** A service app (client_credentials, private_key_jwt) with `jwk` registered; returns {appId, clientId}. */
export async function serviceApp(label, jwk) {
  const app = await must('POST', '/api/v1/apps', {
    label,
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'private_key_jwt' } },
    settings: {
      oauthClient: {
        application_type: 'service',
        grant_types: ['client_credentials'],
        jwks: { keys: [jwk] },
      },
    },
  }, 200, 201);
  return { appId: app.id, clientId: app.credentials.oauthClient.client_id };
}

/** A web app (client_secret_basic, code + refresh); returns {appId, clientId, clientSecret}. */
export async function webApp(label, consent = 'TRUSTED') {
  const app = await must('POST', '/api/v1/apps', {
    label,
    signOnMode: 'OPENID_CONNECT',
    credentials: { oauthClient: { token_endpoint_auth_method: 'client_secret_basic' } },
    settings: {
      oauthClient: {
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        consent_method: consent,
      },
    },
  }, 200, 201);
  return {
    appId: app.id,
    clientId: app.credentials.oauthClient.client_id,
    clientSecret: app.credentials.oauthClient.client_secret,
  };
}

/** Grants an Okta API scope to an app (issuer = org URL). */
export const grant = (appId, scopeId) =>
  must('POST', `/api/v1/apps/${appId}/grants`, { scopeId, issuer: ORG }, 201);

/** Assigns an admin role to a client (service app). */
export const clientRole = (clientId, type) =>
  must('POST', `/oauth2/v1/clients/${clientId}/roles`, { type }, 200, 201);

/** An active user with PASSWORD; returns the user object. */
export async function user(login) {
  return must('POST', '/api/v1/users?activate=true', {
    profile: { login, email: login, firstName: 'Compat', lastName: login.split('@')[0] },
    credentials: { password: { value: PASSWORD } },
  }, 200);
}

export const userRole = (userId, type) =>
  must('POST', `/api/v1/users/${userId}/roles`, { type }, 200, 201);

export const assign = (appId, userId) =>
  must('POST', `/api/v1/apps/${appId}/users`, { id: userId, scope: 'USER' }, 200, 201);

/** A web app + an assigned user with READ_ONLY_ADMIN + okta.users.read granted. */
export async function webAppWithUser(consent = 'TRUSTED') {
  const app = await webApp(uniq('Compat Web '), consent);
  const login = `${uniq('jane')}@example.com`;
  const u = await user(login);
  await assign(app.appId, u.id);
  await grant(app.appId, 'okta.users.read');
  await userRole(u.id, 'READ_ONLY_ADMIN');
  return { ...app, login, userId: u.id };
}

// --- the browser part ---------------------------------------------------------------------------

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", '#x27': "'", '#x2f': '/', '#x2F': '/', '#39': "'", '#47': '/' };
const unescapeHtml = (s) => s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e) => {
  if (e in ENTITIES) return ENTITIES[e];
  if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  return m;
});

/** All `<input name=... value=...>` of a page, as an object (attribute order does not matter). */
export function inputs(html) {
  const out = {};
  for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
    const attrs = {};
    for (const m of tag.matchAll(/([a-zA-Z_:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) {
      attrs[m[1].toLowerCase()] = unescapeHtml(m[3] ?? m[4] ?? '');
    }
    if (attrs.name) out[attrs.name] = attrs.value ?? '';
  }
  return out;
}

/** A cookie-keeping client that never follows redirects (like a browser, one hop at a time). */
export class Browser {
  constructor() { this.jar = new Map(); this.trace = []; }

  async request(url, init = {}) {
    const abs = new URL(url, ORG).toString();
    const headers = new Headers(init.headers || {});
    if (this.jar.size) headers.set('Cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(abs, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (/max-age=0\b/i.test(c) || value === '') this.jar.delete(name); else this.jar.set(name, value);
    }
    this.trace.push(`${init.method || 'GET'} ${abs} -> ${res.status}`);
    return res;
  }

  get(url) { return this.request(url); }

  post(url, form) {
    return this.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /**
   * Opens `authorizeUrl`, signs in through the real form (hidden csrf + return_to, CSRF cookie),
   * allows consent if asked, and returns the final redirect to the client (a URL string).
   */
  async signIn(authorizeUrl, username, password = PASSWORD) {
    let res = await this.get(authorizeUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (res.status >= 300 && res.status < 400) {
        const loc = new URL(res.headers.get('location'), ORG);
        if (loc.origin !== new URL(ORG).origin) return loc.toString(); // back to the client
        res = await this.get(loc.toString());
        continue;
      }
      const html = await res.text();
      assert.equal(res.status, 200, `unexpected ${res.status}: ${html.slice(0, 400)}\n${this.trace.join('\n')}`);
      const fields = inputs(html);
      if ('password' in fields || /name="password"/.test(html)) {
        assert.ok(fields.csrf, 'sign-in form has a hidden csrf field');
        assert.ok(fields.return_to, 'sign-in form has a hidden return_to field');
        const action = (html.match(/<form[^>]*action="([^"]*)"/i) || [])[1];
        res = await this.post(action ? unescapeHtml(action) : '/login', {
          csrf: fields.csrf, return_to: fields.return_to, username, password,
        });
        continue;
      }
      if ('consent' in fields || /name="consent"/.test(html)) {
        const form = { ...fields, consent: 'allow' };
        res = await this.post('/oauth2/v1/authorize', form);
        continue;
      }
      throw new Error(`neither a sign-in nor a consent page:\n${html.slice(0, 600)}\n${this.trace.join('\n')}`);
    }
    throw new Error(`too many hops:\n${this.trace.join('\n')}`);
  }
}

/** Decodes a JWT payload without verifying it. */
export const claims = (jwt) => jose.decodeJwt(jwt);
