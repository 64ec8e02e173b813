// Load helper for screens.bench.ts, run as a child process (the server keeps its core): keeps
// `concurrency` keep-alive requests in flight to one URL for `ms` milliseconds and prints
// {"rps", "statuses"} as one JSON line. argv: port, path, headers JSON, concurrency, ms.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';

const [port, path, headersJson, concurrencyArg, msArg] = process.argv.slice(2);
const headers = JSON.parse(headersJson);
const concurrency = Number(concurrencyArg);
const ms = Number(msArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const statuses = {};
let done = 0;
let stop = false;
const started = performance.now();

function one() {
  if (stop) return;
  const request = http.request({ host: '127.0.0.1', port: Number(port), path, agent, headers }, (response) => {
    statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    response.resume();
    response.on('end', () => {
      done += 1;
      one();
    });
  });
  request.on('error', () => one());
  request.end();
}

for (let index = 0; index < concurrency; index += 1) one();
setTimeout(() => {
  stop = true;
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ rps: Math.round(done / seconds), statuses })}\n`);
  agent.destroy();
}, ms);
