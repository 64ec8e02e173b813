import { languagesOf, screenText, type Playlist } from './screen-adapter.js';

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[char]!);
}

/**
 * The playlist as an RSS 2.0 feed: most signage software (Xibo tickers, LED controller suites)
 * can already show one. One <item> per playlist entry; the title is the Vietnamese text, the
 * description every language the screen shows.
 */
export function renderRss(playlist: Playlist, link: string): string {
  const items = playlist.items
    .map((item) => {
      const texts = languagesOf(item, playlist.screen.languages).map((lang) => screenText(item.texts[lang] ?? ''));
      return [
        '<item>',
        `<title>${xml(texts[0] ?? '')}</title>`,
        `<description>${xml(texts.join(' / '))}</description>`,
        `<guid isPermaLink="false">loa-item-${item.id}</guid>`,
        `<pubDate>${new Date(item.validFrom).toUTCString()}</pubDate>`,
        item.priority === 'urgent' ? '<category>urgent</category>' : '',
        '</item>',
      ].join('');
    })
    .join('\n');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0">',
    '<channel>',
    `<title>${xml(`Loa – ${playlist.screen.name}`)}</title>`,
    `<link>${xml(link)}</link>`,
    `<description>${xml(`Official messages for screen ${playlist.screen.id} (version ${playlist.version})`)}</description>`,
    `<lastBuildDate>${new Date(playlist.now).toUTCString()}</lastBuildDate>`,
    `<ttl>${Math.max(1, Math.round(playlist.pollAfter / 60))}</ttl>`,
    items,
    '</channel>',
    '</rss>',
    '',
  ].join('\n');
}
