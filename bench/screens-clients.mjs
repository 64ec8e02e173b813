// Load helper for screens.bench.ts, run as a child process so its sockets and memory are not
// the API process's: holds one long-poll per screen (argv: port, wait seconds, JSON file of
// [id, token, etag] rows), prints "sent" once every request is written and "done <answered>"
// when all have been answered.
import http from 'node:http';
import process from 'node:process';
import { readFileSync } from 'node:fs';

const [port, wait, file] = process.argv.slice(2);
const rows = JSON.parse(readFileSync(file, 'utf8'));
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let answered = 0;
let changed = 0;
for (const [id, token, etag] of rows) {
  const request = http.request({ host: '127.0.0.1', port: Number(port), path: `/v1/screens/${id}/playlist?wait=${wait}`, agent, headers: { authorization: `Bearer ${token}`, 'if-none-match': etag } }, (response) => {
    if (response.statusCode === 200) changed += 1;
    response.resume();
    response.on('end', () => {
      answered += 1;
      if (answered === rows.length) process.stdout.write(`done ${changed}\n`);
    });
  });
  request.on('error', (error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
  request.end();
}
process.stdout.write('sent\n');
