/**
 * The part every device web player (a screen's, a loudspeaker's) shares, as script text for the
 * page's closure: its storage in localStorage (per device), the server clock offset, the plays
 * buffered while offline and reported in batches, and the long-poll loop. One copy, so a fix to
 * the offline or reporting logic reaches every player.
 *
 * It defines, for the page's own script: `id`, `base`, `saved(key, fallback)`, `save(key, value)`,
 * `serverNow()`, `status(text)`, `recordPlay(item, from)`, `report()` and
 * `poll(current, accept)` — `current()` is the document the page holds (or null), `accept(next)`
 * takes a new one.
 */
export function playerRuntime(segment: string, deviceId: string): string {
  return `
  const id = ${JSON.stringify(deviceId)};
  const base = '/v1/${segment}/' + encodeURIComponent(id);
  const store = window.localStorage;
  const saved = (key, fallback) => { try { return JSON.parse(store.getItem('loa:' + id + ':' + key)) ?? fallback; } catch { return fallback; } };
  const save = (key, value) => { try { store.setItem('loa:' + id + ':' + key, JSON.stringify(value)); } catch {} };
  let offset = saved('offset', 0); // server clock − local clock
  let plays = saved('plays', []);
  const serverNow = () => Date.now() + offset;
  const status = (text) => { document.getElementById('status').textContent = text; };

  function recordPlay(item, from) {
    plays.push({ item, from, to: new Date(serverNow()).toISOString() });
    if (plays.length > 5000) plays = plays.slice(-5000);
    save('plays', plays);
  }

  async function report() {
    if (plays.length === 0) return;
    const batch = plays.slice(0, 500);
    try {
      const response = await fetch(base + '/plays', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plays: batch }) });
      if (!response.ok) return;
      // Stored, duplicate or refused with a reason: either way the server has decided on them.
      plays = plays.slice(batch.length);
      save('plays', plays);
      document.body.dataset.reported = String(Number(document.body.dataset.reported || 0) + batch.length);
    } catch {}
  }

  async function poll(current, accept) {
    let delay = 0;
    try {
      const held = current();
      const headers = held ? { 'if-none-match': '"' + held.version + '"' } : {};
      const response = await fetch(base + '/playlist?wait=25', { credentials: 'same-origin', headers, cache: 'no-store' });
      if (response.status === 200) {
        const next = await response.json();
        offset = Date.parse(next.now) - Date.now();
        save('offset', offset);
        accept(next);
        status('');
      } else if (response.status !== 304) {
        status('HTTP ' + response.status);
        delay = 5000;
      }
      void report();
    } catch {
      // Offline: the page keeps going with the last good document (and what it fetched for it); try again soon.
      status('offline');
      delay = 3000;
    }
    setTimeout(() => poll(current, accept), delay);
  }
`;
}
