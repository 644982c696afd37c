// openid-client v6 (panva) against Steward's org authorization server.
// The only switch used is `allowInsecureRequests` when STEWARD_ORG_URL is plain http.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import {
  ORG, INSECURE, Browser, webAppWithUser, serviceApp, clientKey, grant, clientRole, claims,
  REDIRECT_URI, uniq,
} from './lib.mjs';

const execute = INSECURE ? [client.allowInsecureRequests] : [];
const issuer = new URL(ORG);

let web;       // { appId, clientId, clientSecret, login, userId }
let webConfig; // openid-client Configuration for the web app
let svc;       // { appId, clientId, key }
let svcConfig;

before(async () => {
  web = await webAppWithUser('TRUSTED');
  webConfig = await client.discovery(issuer, web.clientId, undefined,
    client.ClientSecretBasic(web.clientSecret), { execute });
  // verify ID token signatures with the server's JWKS too (off by default in v6)
  client.enableNonRepudiationChecks(webConfig);

  const key = await clientKey('RS256');
  const { appId, clientId } = await serviceApp(uniq('Compat Bot '), key.jwk);
  await grant(appId, 'okta.users.read');
  await clientRole(clientId, 'READ_ONLY_ADMIN');
  svc = { appId, clientId, key };
  svcConfig = await client.discovery(issuer, clientId, undefined,
    client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), { execute });
});

test('discovery: issuer and endpoints', () => {
  const m = webConfig.serverMetadata();
  assert.equal(m.issuer, ORG);
  assert.equal(m.authorization_endpoint, `${ORG}/oauth2/v1/authorize`);
  assert.equal(m.token_endpoint, `${ORG}/oauth2/v1/token`);
  assert.equal(m.jwks_uri, `${ORG}/oauth2/v1/keys`);
  assert.equal(m.introspection_endpoint, `${ORG}/oauth2/v1/introspect`);
  assert.equal(m.revocation_endpoint, `${ORG}/oauth2/v1/revoke`);
  assert.ok(m.supportsPKCE(), 'S256 advertised');
  assert.ok(m.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
});

test('discovery: RFC 8414 document (algorithm oauth2)', async () => {
  const c = await client.discovery(issuer, web.clientId, undefined, client.None(),
    { execute, algorithm: 'oauth2' });
  assert.equal(c.serverMetadata().issuer, ORG);
});

/** One authorization-code round trip through the real sign-in form. */
async function codeFlow(browser, scope, config = webConfig, app = web) {
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope, code_challenge: challenge, code_challenge_method: 'S256',
    state, nonce,
  });
  const back = await browser.signIn(url.href, app.login);
  assert.ok(back.startsWith(REDIRECT_URI), `redirected to the client: ${back}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(back), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  return tokens;
}

let userTokens;

test('authorization code + PKCE through the real sign-in form', async () => {
  const browser = new Browser();
  userTokens = await codeFlow(browser, 'openid profile email offline_access okta.users.read');
  assert.equal(userTokens.token_type.toLowerCase(), 'bearer');
  assert.equal(userTokens.expires_in, 3600);
  assert.ok(userTokens.refresh_token, 'offline_access gives a refresh token');
  const id = userTokens.claims();
  assert.equal(id.iss, ORG);
  assert.equal(id.aud, web.clientId);
  assert.equal(id.sub, web.userId);
  const at = claims(userTokens.access_token);
  assert.equal(at.iss, ORG);
  assert.equal(at.aud, ORG);
  assert.equal(at.cid, web.clientId);
  assert.equal(at.uid, web.userId);
  assert.ok(at.scp.includes('okta.users.read'));

  // userinfo through the client
  const info = await client.fetchUserInfo(webConfig, userTokens.access_token, id.sub);
  assert.equal(info.sub, web.userId);

  // the user's token calls the Management API (READ_ONLY_ADMIN + okta.users.read)
  const res = await client.fetchProtectedResource(webConfig, userTokens.access_token,
    new URL(`${ORG}/api/v1/users?limit=1`), 'GET');
  assert.equal(res.status, 200);
  assert.ok(Array.isArray(await res.json()));

  // the session signs the user in silently the second time (no form)
  const again = await codeFlow(browser, 'openid okta.users.read');
  assert.ok(again.access_token);
});

test('refresh token grant (rotation, narrowed scope)', async () => {
  assert.ok(userTokens, 'needs the code-flow test');
  const refreshed = await client.refreshTokenGrant(webConfig, userTokens.refresh_token,
    { scope: 'okta.users.read' });
  assert.equal(refreshed.scope, 'okta.users.read');
  assert.ok(refreshed.access_token && refreshed.access_token !== userTokens.access_token);
  assert.deepEqual(claims(refreshed.access_token).scp, ['okta.users.read']);
  // widening is refused with the OAuth error surfaced by the client
  await assert.rejects(
    client.refreshTokenGrant(webConfig, refreshed.refresh_token, { scope: 'okta.users.manage' }),
    (err) => err.error === 'invalid_scope' || err.cause?.error === 'invalid_scope',
  );
});

test('authorization code with a consent page (consent_method REQUIRED)', async () => {
  const app = await webAppWithUser('REQUIRED');
  const config = await client.discovery(issuer, app.clientId, undefined,
    client.ClientSecretBasic(app.clientSecret), { execute });
  const browser = new Browser();
  const t = await codeFlow(browser, 'openid email okta.users.read', config, app);
  assert.ok(browser.trace.some((l) => l.startsWith('POST') && l.includes('/oauth2/v1/authorize')),
    `the consent form was answered:\n${browser.trace.join('\n')}`);
  assert.equal(t.claims().sub, app.userId);
  assert.deepEqual(claims(t.access_token).scp.sort(), ['email', 'okta.users.read', 'openid']);
});

let svcToken;

/**
 * A 401 from the resource server: oauth4webapi turns it into WWWAuthenticateChallengeError after
 * parsing the WWW-Authenticate header (so this also checks the header's RFC 9110 syntax).
 */
async function expectChallenge(promise, scheme, error) {
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, 'OAUTH_WWW_AUTHENTICATE_CHALLENGE', String(err));
    assert.equal(err.status, 401);
    const c = err.cause.find((x) => x.scheme === scheme);
    assert.ok(c, `a ${scheme} challenge in ${JSON.stringify(err.cause)}`);
    assert.equal(c.parameters.error, error);
    assert.equal(c.parameters.realm, ORG);
    return true;
  });
}

test('client credentials with private_key_jwt (aud = issuer, as oauth4webapi sends it)', async () => {
  const t = await client.clientCredentialsGrant(svcConfig, { scope: 'okta.users.read' });
  assert.equal(t.token_type.toLowerCase(), 'bearer');
  assert.equal(t.scope, 'okta.users.read');
  const at = claims(t.access_token);
  assert.equal(at.sub, svc.clientId);
  assert.equal(at.cid, svc.clientId);
  assert.equal(at.uid, undefined);
  svcToken = t.access_token;
  const res = await client.fetchProtectedResource(svcConfig, svcToken, new URL(`${ORG}/api/v1/users`), 'GET');
  assert.equal(res.status, 200);
});

test('client credentials: an ungranted scope is invalid_scope', async () => {
  await assert.rejects(
    client.clientCredentialsGrant(svcConfig, { scope: 'okta.users.manage' }),
    (err) => {
      assert.equal(err.error ?? err.cause?.error, 'invalid_scope', String(err));
      assert.equal(err.status ?? err.cause?.status, 400);
      return true;
    },
  );
});

test('client credentials signed with an unregistered key: 401 invalid_client', async () => {
  const other = await clientKey('RS256');
  const config = await client.discovery(issuer, svc.clientId, undefined,
    client.PrivateKeyJwt({ key: other.privateKey, kid: other.kid }), { execute });
  let err;
  try {
    await client.clientCredentialsGrant(config, { scope: 'okta.users.read' });
  } catch (e) { err = e; }
  assert.ok(err, 'the token request must fail');
  assert.equal(err.status, 401, String(err));
  // Steward adds `WWW-Authenticate: Basic realm="oauth2"` to every invalid_client 401, so
  // oauth4webapi raises WWWAuthenticateChallengeError (cause = [{scheme: 'basic'}]) instead of
  // ResponseBodyError; the OAuth body is still on err.response (see compat/NOTES.md).
  const body = err.error ? { error: err.error } : await err.response.json();
  assert.equal(body.error, 'invalid_client');
});

test('introspection, then revocation makes the token inactive', async () => {
  assert.ok(svcToken);
  const live = await client.tokenIntrospection(svcConfig, svcToken);
  assert.equal(live.active, true);
  assert.equal(live.client_id, svc.clientId);
  assert.equal(live.scope, 'okta.users.read');
  assert.equal(live.iss, ORG);

  await client.tokenRevocation(svcConfig, svcToken);
  const dead = await client.tokenIntrospection(svcConfig, svcToken);
  assert.equal(dead.active, false);
  await expectChallenge(
    client.fetchProtectedResource(svcConfig, svcToken, new URL(`${ORG}/api/v1/users`), 'GET'),
    'bearer', 'invalid_token');

  const garbage = await client.tokenIntrospection(svcConfig, 'not-a-token');
  assert.deepEqual(garbage, { active: false });
});

test('user refresh token: introspection and revocation', async () => {
  const browser = new Browser();
  const t = await codeFlow(browser, 'openid offline_access okta.users.read');
  const rt = await client.tokenIntrospection(webConfig, t.refresh_token, { token_type_hint: 'refresh_token' });
  assert.equal(rt.active, true);
  await client.tokenRevocation(webConfig, t.refresh_token, { token_type_hint: 'refresh_token' });
  const after = await client.tokenIntrospection(webConfig, t.refresh_token);
  assert.equal(after.active, false);
  await assert.rejects(client.refreshTokenGrant(webConfig, t.refresh_token),
    (err) => (err.error ?? err.cause?.error) === 'invalid_grant');
});

test('DPoP-bound client credentials token used against GET /api/v1/users', async () => {
  for (const alg of ['ES256', 'RS256']) {
    const keyPair = await client.randomDPoPKeyPair(alg);
    const dpop = client.getDPoPHandle(svcConfig, keyPair);
    // the server answers the first request with use_dpop_nonce; openid-client retries with it
    const t = await client.clientCredentialsGrant(svcConfig, { scope: 'okta.users.read' }, { DPoP: dpop });
    assert.equal(t.token_type.toLowerCase(), 'dpop', alg);
    const at = claims(t.access_token);
    assert.equal(at.cnf?.jkt?.length, 43, alg);

    const url = new URL(`${ORG}/api/v1/users?limit=2`);
    const ok = await client.fetchProtectedResource(svcConfig, t.access_token, url, 'GET', undefined, undefined, { DPoP: dpop });
    assert.equal(ok.status, 200, `${alg}: ${await ok.clone().text()}`);
    assert.ok(Array.isArray(await ok.json()));

    // the bound token is not a bearer token
    await expectChallenge(client.fetchProtectedResource(svcConfig, t.access_token, url, 'GET'),
      'dpop', 'invalid_token');

    const intro = await client.tokenIntrospection(svcConfig, t.access_token);
    assert.equal(intro.active, true);
    assert.equal(intro.token_type, 'DPoP');
    assert.equal(intro.cnf?.jkt, at.cnf.jkt);
  }
});
