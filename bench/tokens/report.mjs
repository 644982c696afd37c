// Prints the table of bench/tokens.sh from its results file (name<TAB>round<TAB>k=v ...).
//   node report.mjs RESULTS key=value...   (header lines: machine, date, versions, load)
import { readFileSync } from 'node:fs';

const [file, ...header] = process.argv.slice(2);
const rows = readFileSync(file, 'utf8').trim().split('\n').map((line) => {
  const [name, round, kv] = line.split('\t');
  const fields = Object.fromEntries(kv.split(' ').map((p) => p.split('=')));
  return { name, round: Number(round), ...fields };
});

const seconds = (v) => {
  const m = /^([\d.]+)(us|ms|s|m|h)?$/.exec(String(v));
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 }[m[2] || 's'];
};
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const of = (name) => rows.filter((r) => r.name === name);
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');

const per = {};
const tokens = (name) => of(name).map((r) => {
  const ok = Number(r.ok); const dur = seconds(r.dur); const cpu = Number(r.cpu_s);
  return { round: r.round, rate: ok / dur, perCpu: ok / cpu, cores: cpu / dur, ok, bad: Number(r.bad), reused: Number(r.reused), p99: Number(r.p99_ms) };
});
const gets = (name, okOnly) => of(name).map((r) => {
  const total = Number(r.total); const non2 = Number(r.non2xx); const dur = seconds(r.dur); const cpu = Number(r.cpu_s);
  const counted = okOnly ? total - non2 : total;
  return { round: r.round, rate: counted / dur, perCpu: counted / cpu, cores: cpu / dur, p99: seconds(r.p99) * 1000, total, non2 };
});
per.openssl = of('openssl').map((r) => ({ round: r.round, rate: Number(r.sign_per_s) }));
per.floor = of('floor').map((r) => ({ round: r.round, rate: Number(r.tokens_per_cpu_s), signs: Number(r.signs_per_cpu_s) }));
per.steward = tokens('steward');
per.oidc = tokens('oidc');
per.get200 = gets('get200', true);
per.get403 = gets('get403', false);

const med = (name, key) => median(per[name].map((x) => x[key]));
const rounds = (name, key, d = 0) => per[name].map((x) => fmt(x[key], d)).join(' / ');

const out = [];
out.push('Steward token budgets (issue 3): bench/tokens.sh');
for (const h of header) {
  const i = h.indexOf('=');
  out.push(`${h.slice(0, i).padEnd(9)}: ${h.slice(i + 1)}`);
}
out.push('');
const table = [['measurement', 'median', 'rounds', 'server CPU (cores)', 'p99 (ms)']];
const sslRate = med('openssl', 'rate');
table.push(['openssl speed rsa2048: RS256 sign/s (1 core, per CPU-s)', fmt(sslRate), rounds('openssl', 'rate'), '1', '']);
const floor = med('floor', 'rate');
if (per.floor.length) {
  table.push(['Steward RS256 sign alone, in process (per CPU-s)', fmt(med('floor', 'signs')), rounds('floor', 'signs'), '1', '']);
  table.push(['crypto floor: verify assertion + sign token (per CPU-s)', fmt(floor), rounds('floor', 'rate'), '1', '']);
}
for (const [name, label] of [['steward', 'Steward'], ['oidc', 'oidc-provider']]) {
  table.push([`${label}: client_credentials tokens/s`, fmt(med(name, 'rate')), rounds(name, 'rate'), fmt(med(name, 'cores'), 2), fmt(med(name, 'p99'), 1)]);
  table.push([`${label}: tokens per server CPU-second`, fmt(med(name, 'perCpu')), rounds(name, 'perCpu'), '', '']);
}
table.push(['GET /api/v1/users/{id}, valid token: 200 req/s', fmt(med('get200', 'rate')), rounds('get200', 'rate'), fmt(med('get200', 'cores'), 2), fmt(med('get200', 'p99'), 2)]);
table.push(['  ... 200 requests per server CPU-second', fmt(med('get200', 'perCpu')), rounds('get200', 'perCpu'), '', '']);
table.push(['GET /api/v1/users/{id}, token lacks scope: 403 req/s', fmt(med('get403', 'rate')), rounds('get403', 'rate'), fmt(med('get403', 'cores'), 2), fmt(med('get403', 'p99'), 2)]);
table.push(['  ... 403 requests per server CPU-second', fmt(med('get403', 'perCpu')), rounds('get403', 'perCpu'), '', '']);

const widths = table[0].map((_, c) => Math.max(...table.map((r) => String(r[c]).length)));
const line = (r) => r.map((v, c) => (c === 0 || c === 2 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join(' | ');
out.push(line(table[0]));
out.push(widths.map((w) => '-'.repeat(w)).join('-|-'));
for (const r of table.slice(1)) out.push(line(r));

out.push('');
const budgets = [
  ['Steward tokens per CPU-s / openssl sign/s', med('steward', 'perCpu') / sslRate, 0.8, 'x'],
  ['Steward tokens/s / oidc-provider tokens/s', med('steward', 'rate') / med('oidc', 'rate'), 2, 'x'],
  ['Steward tokens per CPU-s / oidc-provider tokens per CPU-s', med('steward', 'perCpu') / med('oidc', 'perCpu'), 2, 'x'],
  ['GET 200 req/s / 20,000', med('get200', 'rate') / 20000, 1, 'x'],
];
// What the crypto alone allows: no server doing this work can go past these ratios here.
const ceilings = per.floor.length ? [
  ['ceiling: crypto floor / openssl sign/s', floor / sslRate, 0.8],
  ['ceiling: crypto floor / oidc-provider tokens per CPU-s', floor / med('oidc', 'perCpu'), 2],
] : [];
const bw = Math.max(...[...budgets, ...ceilings].map((b) => b[0].length));
out.push(`${'budget (ratio of medians)'.padEnd(bw)} | ratio | needs | verdict`);
for (const [label, ratio, need] of budgets) {
  out.push(`${label.padEnd(bw)} | ${fmt(ratio, 2).padStart(5)} | ${('>= ' + need).padStart(5)} | ${ratio >= need ? 'met' : 'NOT met'}`);
}
for (const [label, ratio, need] of ceilings) {
  const room = ratio / need;
  out.push(`${label.padEnd(bw)} | ${fmt(ratio, 2).padStart(5)} | ${('>= ' + need).padStart(5)} | ${room < 1 ? 'budget above the ceiling' : `HTTP + storage may cost ${fmt((1 - 1 / room) * 100)}% of a token`}`);
}

const notes = [];
for (const name of ['steward', 'oidc']) {
  const bad = per[name].reduce((a, x) => a + x.bad, 0);
  const reused = per[name].reduce((a, x) => a + x.reused, 0);
  if (bad) notes.push(`${name}: ${bad} token requests were not 2xx`);
  if (reused) notes.push(`${name}: ${reused} assertions were sent twice (too few pre-signed): raise N`);
}
const bad200 = per.get200.reduce((a, x) => a + x.non2, 0);
if (bad200) notes.push(`get200: ${bad200} responses were not 2xx (not counted)`);
const not403 = per.get403.reduce((a, x) => a + (x.total - x.non2), 0);
if (not403) notes.push(`get403: ${not403} responses were 2xx`);
out.push('');
out.push(notes.length ? `warnings: ${notes.join('; ')}` : 'checks: every token request succeeded, no assertion reused, every GET answered 200 (valid token) / 403 (scope missing)');
console.log(out.join('\n'));
