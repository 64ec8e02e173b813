import { languagesOf, screenText, type Playlist, type Rendering, type ScreenAdapter } from '../../src/screens/screen-adapter.js';

/** Amber on black for ordinary notices, red for emergencies: what the LED suites default to. */
const NORMAL = { color: '#FFB000', background: '#000000', speed: 60 } as const;
const URGENT = { color: '#FF2020', background: '#000000', speed: 45 } as const;
const SEPARATOR = ' • ';

/**
 * An LED wall shows a one-line text crawl. The body is JSON a controller script maps onto its
 * suite: the whole crawl (each item in the screen's languages, Vietnamese first), its speed in
 * pixels per second and colours, and the items one by one for controllers that page.
 */
export const ledAdapter: ScreenAdapter = {
  kind: 'led',
  description: 'LED wall: a one-line text crawl (speed, colours)',
  format: 'led',
  render(playlist: Playlist): Rendering {
    const style = playlist.urgent ? URGENT : NORMAL;
    const items = playlist.items.map((item) => {
      const own = item.priority === 'urgent' ? URGENT : NORMAL;
      return {
        id: item.id,
        text: languagesOf(item, playlist.screen.languages)
          .map((lang) => screenText(item.texts[lang] ?? ''))
          .join(SEPARATOR),
        color: own.color,
        duration: item.duration,
      };
    });
    const body = {
      format: 'led',
      version: playlist.version,
      now: playlist.now,
      deadline: playlist.deadline,
      crawl: { text: items.map((item) => item.text).join(SEPARATOR), speed: style.speed, color: style.color, background: style.background },
      items,
    };
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
  },
};
