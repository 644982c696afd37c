// @okta/jwt-verifier (v4) verifying Steward's access and ID tokens locally.
//
// Switches it needs for an org-AS-style issuer (see compat/NOTES.md):
//   * jwksUri: `${ORG}/oauth2/v1/keys` — without it the verifier fetches `${issuer}/v1/keys`
//     (lib.js getJwksUri), which is the custom-AS layout; Okta's own README says the same for
//     the org AS. This is not a Steward mismatch: real Okta org issuers behave identically.
//   * testing: { disableHttpsCheck: true } — ONLY when STEWARD_ORG_URL is plain http
//     (lib.js assertIssuer). Against `steward serve --tls` no switch is needed; the self-signed
//     certificate is trusted through NODE_EXTRA_CA_CERTS.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as client from 'openid-client';
import {
  ORG, INSECURE, Browser, webAppWithUser, serviceApp, clientKey, grant, clientRole, claims,
  REDIRECT_URI, uniq,
} from './lib.mjs';

const require = createRequire(import.meta.url);
const OktaJwtVerifier = require('@okta/jwt-verifier');

const execute = INSECURE ? [client.allowInsecureRequests] : [];
const JWKS_URI = `${ORG}/oauth2/v1/keys`;
const testing = INSECURE ? { disableHttpsCheck: true } : undefined;

const verifier = (extra = {}) => new OktaJwtVerifier({ issuer: ORG, jwksUri: JWKS_URI, testing, ...extra });

let svc;
let svcToken;
let dpopToken;
let user; // { app, accessToken, idToken, nonce }

before(async () => {
  const key = await clientKey('RS256');
  const { appId, clientId } = await serviceApp(uniq('Compat Verify Bot '), key.jwk);
  await grant(appId, 'okta.users.read');
  await grant(appId, 'okta.groups.read');
  await clientRole(clientId, 'READ_ONLY_ADMIN');
  svc = { appId, clientId };
  const config = await client.discovery(new URL(ORG), clientId, undefined,
    client.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), { execute });
  svcToken = (await client.clientCredentialsGrant(config, { scope: 'okta.users.read okta.groups.read' })).access_token;
  const dpop = client.getDPoPHandle(config, await client.randomDPoPKeyPair('ES256'));
  dpopToken = (await client.clientCredentialsGrant(config, { scope: 'okta.users.read' }, { DPoP: dpop })).access_token;

  const app = await webAppWithUser('TRUSTED');
  const webConfig = await client.discovery(new URL(ORG), app.clientId, undefined,
    client.ClientSecretBasic(app.clientSecret), { execute });
  const verifierCode = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(webConfig, {
    redirect_uri: REDIRECT_URI, scope: 'openid profile okta.users.read', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifierCode), code_challenge_method: 'S256',
  });
  const back = await new Browser().signIn(url.href, app.login);
  const t = await client.authorizationCodeGrant(webConfig, new URL(back), {
    pkceCodeVerifier: verifierCode, expectedState: state, expectedNonce: nonce,
  });
  user = { app, accessToken: t.access_token, idToken: t.id_token, nonce };
});

test('verifyAccessToken: client-credentials token, audience = org URL', async () => {
  const jwt = await verifier().verifyAccessToken(svcToken, ORG);
  assert.equal(jwt.header.alg, 'RS256');
  assert.ok(jwt.header.kid, 'kid in the header (the verifier refuses tokens without one)');
  assert.equal(jwt.claims.iss, ORG);
  assert.equal(jwt.claims.aud, ORG);
  assert.equal(jwt.claims.cid, svc.clientId);
  assert.equal(jwt.claims.sub, svc.clientId);
  assert.equal(jwt.claims.ver, 1);
  assert.match(jwt.claims.jti, /^AT\./);
  assert.equal(jwt.claims.exp - jwt.claims.iat, 3600);
});

test('verifyAccessToken with assertClaims (scp.includes, cid)', async () => {
  const v = verifier({ assertClaims: { 'scp.includes': ['okta.users.read', 'okta.groups.read'], cid: svc.clientId } });
  await v.verifyAccessToken(svcToken, [ORG, 'api://default']);
  const wrong = verifier({ assertClaims: { 'scp.includes': ['okta.users.manage'] } });
  await assert.rejects(wrong.verifyAccessToken(svcToken, ORG), /does not include expected value 'okta.users.manage'/);
});

test('verifyAccessToken: user token from the authorization-code flow', async () => {
  const jwt = await verifier({ assertClaims: { uid: user.app.userId, cid: user.app.clientId } })
    .verifyAccessToken(user.accessToken, ORG);
  assert.equal(jwt.claims.sub, user.app.login);
  assert.ok(Number.isInteger(jwt.claims.auth_time));
});

test('verifyAccessToken: DPoP-bound token still verifies as a JWT (cnf.jkt present)', async () => {
  const jwt = await verifier().verifyAccessToken(dpopToken, ORG);
  assert.equal(jwt.claims.cnf.jkt.length, 43);
});

test('verifyIdToken: aud = client_id, nonce', async () => {
  const jwt = await verifier().verifyIdToken(user.idToken, user.app.clientId, user.nonce);
  assert.equal(jwt.claims.sub, user.app.userId);
  await assert.rejects(verifier().verifyIdToken(user.idToken, user.app.clientId, 'other-nonce'), /nonce/);
});

test('wrong audience, wrong issuer and a tampered token are rejected', async () => {
  await assert.rejects(verifier().verifyAccessToken(svcToken, 'api://default'), /audience/);
  const other = new OktaJwtVerifier({ issuer: `${ORG}/oauth2/default`, jwksUri: JWKS_URI, testing });
  await assert.rejects(other.verifyAccessToken(svcToken, ORG), /issuer/);
  const [h, p, s] = svcToken.split('.');
  const body = { ...claims(svcToken), scp: ['okta.users.manage'] };
  const forged = [h, Buffer.from(JSON.stringify(body)).toString('base64url'), s].join('.');
  await assert.rejects(verifier().verifyAccessToken(forged, ORG), /[Ss]ignature/);
});

test('without jwksUri the verifier looks for {issuer}/v1/keys (custom-AS layout): 404 on an org AS', async () => {
  // Documents why jwksUri is required; Okta's org AS has no /v1/keys either.
  const v = new OktaJwtVerifier({ issuer: ORG, testing });
  assert.equal(v.jwksUri, `${ORG}/v1/keys`);
  await assert.rejects(v.verifyAccessToken(svcToken, ORG));
});

test('http issuer is refused unless testing.disableHttpsCheck', () => {
  assert.throws(() => new OktaJwtVerifier({ issuer: ORG.replace(/^https:/, 'http:') }), /must start with https/);
});
