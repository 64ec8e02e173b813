import { playerRuntime } from '../screens/player-runtime.js';

/**
 * The loudspeaker web player (GET /v1/loudspeakers/:id/player) for the many communes that still
 * broadcast from a PC wired to an amplifier: open the page once with the token, leave it open.
 * It long-polls the timed schedule, fetches each clip ahead of time, plays every slot at its start
 * by the server's clock (an urgent one even if it starts late), keeps the last good schedule and
 * the clips when the network drops (localStorage and the Cache API where the browser offers it),
 * and reports each broadcast with its start and end, buffered while offline.
 */
export function loudspeakerPlayerPage(loudspeakerId: string): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Loa truyền thanh</title>
<style>
html,body{margin:0;height:100%;background:#101418;color:#e8e8e8;font-family:system-ui,"Noto Sans",sans-serif}
main{padding:4vh 4vw}
h1{font-size:4vh;margin:0 0 2vh}
#now{font-size:3vh;min-height:4vh;color:#ffb000}
body.urgent #now{color:#ff4040}
ol{font-size:2.4vh;line-height:1.5;padding-left:3vw}
li.done{color:#777}
#status{position:fixed;right:1vw;bottom:1vh;font-size:2vh;color:#888}
</style></head>
<body><main><h1>Loa truyền thanh</h1><div id="now"></div><ol id="slots"></ol></main><div id="status"></div>
<script>
(() => {
${playerRuntime('loudspeakers', loudspeakerId)}
  let schedule = saved('schedule', null);
  let done = new Set(saved('done', []));
  const clips = new Map(); // hash → object URL
  let playing = null;
  const keyOf = (slot) => slot.item + '@' + slot.start;
  // A normal slot missed by more than this is skipped (it would run into the next); urgent ones play late rather than never.
  const LATE_MS = 15000;

  function render() {
    const list = document.getElementById('slots');
    list.replaceChildren();
    if (!schedule) return;
    for (const slot of schedule.slots) {
      const entry = document.createElement('li');
      const time = new Date(slot.start).toLocaleTimeString('vi-VN', { timeZone: schedule.loudspeaker.timeZone, hour: '2-digit', minute: '2-digit' });
      entry.textContent = time + ' — ' + (slot.text || 'bản ghi âm') + ' (' + Math.round(slot.duration) + ' giây)';
      if (done.has(keyOf(slot))) entry.className = 'done';
      list.append(entry);
    }
    document.body.dataset.slots = String(schedule.slots.length);
  }

  async function clipUrl(slot) {
    if (clips.has(slot.hash)) return clips.get(slot.hash);
    let response;
    const cache = window.caches ? await caches.open('loa-audio').catch(() => null) : null;
    if (cache) response = await cache.match(slot.audio).catch(() => undefined);
    if (!response) {
      response = await fetch(slot.audio, { credentials: 'same-origin' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      if (cache) await cache.put(slot.audio, response.clone()).catch(() => undefined);
    }
    const url = URL.createObjectURL(await response.blob());
    clips.set(slot.hash, url);
    return url;
  }

  function prefetch() {
    if (!schedule) return;
    for (const slot of schedule.slots) if (!done.has(keyOf(slot))) clipUrl(slot).catch(() => undefined);
  }

  function markDone(slot) {
    done.add(keyOf(slot));
    const keep = new Set((schedule ? schedule.slots : []).map(keyOf));
    done = new Set([...done].filter((key) => keep.has(key)));
    save('done', [...done]);
    render();
  }

  async function play(slot) {
    playing = slot;
    markDone(slot);
    document.body.dataset.playing = String(slot.item);
    document.getElementById('now').textContent = '▶ ' + (slot.text || 'bản ghi âm');
    document.body.classList.toggle('urgent', slot.priority === 'urgent');
    const from = new Date(serverNow()).toISOString();
    try {
      const audio = new Audio(await clipUrl(slot));
      await new Promise((resolve, reject) => {
        audio.addEventListener('ended', resolve, { once: true });
        audio.addEventListener('error', () => reject(new Error('cannot play')), { once: true });
        audio.play().catch(reject);
      });
      recordPlay(slot.item, from);
      document.body.dataset.played = String(Number(document.body.dataset.played || 0) + 1);
      void report();
    } catch (error) {
      status('không phát được: ' + error.message);
    }
    playing = null;
    document.body.dataset.playing = '';
    document.getElementById('now').textContent = '';
    document.body.classList.remove('urgent');
  }

  function tick() {
    if (!schedule || playing) return;
    const now = serverNow();
    const due = schedule.slots.filter((slot) => {
      if (done.has(keyOf(slot))) return false;
      const start = Date.parse(slot.start);
      const end = start + slot.duration * 1000;
      return start <= now && now < (slot.priority === 'urgent' ? end : Math.min(end, start + LATE_MS));
    });
    due.sort((a, b) => (a.priority === b.priority ? Date.parse(a.start) - Date.parse(b.start) : a.priority === 'urgent' ? -1 : 1));
    if (due[0]) void play(due[0]);
  }

  setInterval(tick, 250);
  setInterval(report, 10000);
  if (schedule) { render(); prefetch(); }
  poll(() => schedule, (next) => {
    schedule = next;
    save('schedule', schedule);
    render();
    prefetch();
    tick();
  });
})();
</script></body></html>
`;
}
