// One load round: POST {"name":"Ada"} to URL with CONNECTIONS connections for DURATION seconds;
// prints "<2xx requests per second> rps, <non-2xx> errors".
import autocannon from 'autocannon';
const [url, duration, connections] = process.argv.slice(2);
const result = await autocannon({
  url, method: 'POST', duration: Number(duration), connections: Number(connections),
  headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}',
});
const ok = result['2xx'];
console.log(`${(ok / result.duration).toFixed(1)} rps, ${result.non2xx + result.errors} errors`);
