import { playerRuntime } from './player-runtime.js';

/**
 * The web player (GET /v1/screens/:id/player): any controller that can show a URL becomes a
 * Loa screen. It long-polls the playlist, shows it full screen (a crawl on LED screens, paged
 * Vietnamese/English text on boards), keeps the last good playlist (also across reloads, in
 * localStorage) when the network drops, judges validity by the server's `now` rather than its
 * own clock, and reports its plays, buffered while offline. It authenticates with the cookie
 * the first load set, so the token is not in any URL it requests.
 */
export function playerPage(screenId: string): string {
  return `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Loa</title>
<style>
html,body{margin:0;height:100%;background:#000;color:#ffb000;font-family:system-ui,"Noto Sans",sans-serif;overflow:hidden}
#stage{display:flex;align-items:center;justify-content:center;height:100%;padding:0 4vw;box-sizing:border-box}
#message{font-size:7vh;line-height:1.3;text-align:center;white-space:pre-wrap}
body.led #message{white-space:nowrap;font-size:40vh;animation:crawl var(--crawl,20s) linear infinite}
body.board{color:#fff;background:#0a1a3a}
body.board #message{font-family:"DejaVu Sans Mono",monospace;text-align:left}
body.urgent{color:#ff2020}
#status{position:fixed;right:1vw;bottom:1vh;font-size:2vh;color:#666}
@keyframes crawl{from{transform:translateX(100vw)}to{transform:translateX(-100%)}}
</style></head>
<body><div id="stage"><div id="message"></div></div><div id="status"></div>
<script>
(() => {
${playerRuntime('screens', screenId)}
  let playlist = saved('playlist', null);
  let index = -1;
  let timer;

  function valid() {
    if (!playlist) return [];
    const now = serverNow();
    const items = playlist.items.filter((item) => Date.parse(item.validFrom) <= now && Date.parse(item.validTo) > now);
    return items.some((item) => item.priority === 'urgent') ? items.filter((item) => item.priority === 'urgent') : items;
  }

  function pages(item) {
    const langs = ['vi', ...(playlist.screen.languages || []).filter((lang) => lang !== 'vi')].filter((lang) => item.texts[lang]);
    if (playlist.screen.kind === 'led') return [langs.map((lang) => item.texts[lang]).join('  •  ')];
    return langs.map((lang) => item.texts[lang]);
  }

  function show() {
    clearTimeout(timer);
    const items = valid();
    const message = document.getElementById('message');
    document.body.className = (playlist ? playlist.screen.kind : '') + (items.some((item) => item.priority === 'urgent') ? ' urgent' : '');
    if (items.length === 0) { message.textContent = ''; document.body.dataset.item = ''; timer = setTimeout(show, 1000); return; }
    index = (index + 1) % items.length;
    const item = items[index];
    const texts = pages(item);
    const from = new Date(serverNow()).toISOString();
    const seconds = Math.max(1, item.duration / texts.length);
    let page = 0;
    const next = () => {
      message.textContent = texts[page];
      message.style.setProperty('--crawl', Math.max(5, item.duration) + 's');
      document.body.dataset.item = String(item.id);
      page += 1;
      timer = setTimeout(page < texts.length ? next : () => { recordPlay(item.id, from); show(); }, seconds * 1000);
    };
    next();
  }

  setInterval(report, 10000);
  if (playlist) show();
  poll(() => playlist, (next) => {
    const changed = !playlist || playlist.version !== next.version;
    playlist = next;
    save('playlist', playlist);
    if (changed) { index = -1; show(); }
  });
})();
</script></body></html>
`;
}
