import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP endpoint standing in for LOA_ALERT_WEBHOOK; keeps the JSON bodies it gets. */
export async function alertReceiver(): Promise<{ url: string; events: Array<Record<string, unknown>>; server: Server; close(): Promise<void> }> {
  const events: Array<Record<string, unknown>> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      events.push(JSON.parse(body) as Record<string, unknown>);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    events,
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
