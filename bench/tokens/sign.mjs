// Client key and pre-signed client assertions for the token benchmark (runs before the timed window).
//   node sign.mjs keygen DIR
//       DIR/client.pem (PKCS#8 RSA-2048 private key), DIR/client.jwk.json (public JWK, kid bench-client)
//   node sign.mjs assertions PEM KID CLIENT_ID AUD SCOPE N OUT
//       OUT: N lines, each a complete form body for POST /oauth2/v1/token (client_credentials,
//       private_key_jwt) with a fresh RS256 assertion: iss=sub=CLIENT_ID, aud=AUD, iat, exp=iat+3000,
//       a unique jti, header kid. Signed on all cores (worker threads).
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');

function assertionBodies({ pem, kid, clientId, aud, scope, count }) {
  const key = createPrivateKey(pem);
  const header = b64({ alg: 'RS256', typ: 'JWT', kid });
  const prefix = `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`
    + '&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer'
    + '&client_assertion=';
  const iat = Math.floor(Date.now() / 1000);
  const lines = [];
  for (let i = 0; i < count; i += 1) {
    const claims = b64({ iss: clientId, sub: clientId, aud, iat, exp: iat + 3000, jti: randomUUID() });
    const input = `${header}.${claims}`;
    const sig = sign('sha256', Buffer.from(input), key).toString('base64url');
    lines.push(`${prefix}${input}.${sig}`);
  }
  return lines.join('\n');
}

if (!isMainThread) {
  parentPort.postMessage(assertionBodies(workerData));
} else {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'keygen') {
    const [dir] = args;
    mkdirSync(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(`${dir}/client.pem`, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid: 'bench-client', use: 'sig', alg: 'RS256' };
    writeFileSync(`${dir}/client.jwk.json`, JSON.stringify(jwk));
  } else if (mode === 'assertions') {
    const [pemFile, kid, clientId, aud, scope, n, out] = args;
    const pem = readFileSync(pemFile, 'utf8');
    const total = Number(n);
    const workers = Math.max(1, availableParallelism());
    const parts = await Promise.all(Array.from({ length: workers }, (_, w) => {
      const count = Math.floor(total / workers) + (w < total % workers ? 1 : 0);
      return new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), {
          workerData: { pem, kid, clientId, aud, scope, count },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }));
    const stream = createWriteStream(out);
    for (const part of parts) if (part) stream.write(`${part}\n`);
    await new Promise((resolve) => stream.end(resolve));
  } else {
    console.error('usage: sign.mjs keygen DIR | assertions PEM KID CLIENT_ID AUD SCOPE N OUT');
    process.exit(2);
  }
}
