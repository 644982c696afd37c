// oidc-provider configured like Steward's client-credentials path, for the token benchmark.
//   node oidc.mjs PORT CLIENT_ID CLIENT_PUBLIC_JWK_FILE
// One service client, token_endpoint_auth_method private_key_jwt (RS256), grant client_credentials,
// scope okta.users.read; access tokens are RS256-signed JWTs (resource indicators with a default
// resource whose accessTokenFormat is 'jwt'), TTL 3600 s. The token endpoint is mounted at
// /oauth2/v1/token like Steward's, and the assertion `aud` is that URL. The default (in-memory)
// adapter keeps the ReplayDetection entries that reject a reused assertion `jti`.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, clientId, jwkFile] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const clientJwk = JSON.parse(readFileSync(jwkFile, 'utf8'));
const RESOURCE = 'urn:steward-bench:api';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-signing', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: 'okta.users.read',
    jwks: { keys: [clientJwk] },
  }],
  jwks: { keys: [signingJwk] },
  scopes: ['okta.users.read'],
  clientAuthMethods: ['private_key_jwt'],
  enabledJWA: { clientAuthSigningAlgValues: ['RS256'] },
  routes: { token: '/oauth2/v1/token' },
  ttl: { ClientCredentials: 3600 },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'okta.users.read',
        audience: RESOURCE,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
});
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ${issuer} pid ${process.pid}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
