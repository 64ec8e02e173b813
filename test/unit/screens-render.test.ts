import { describe, expect, it } from 'vitest';
import { airportBoardAdapter, BOARD_LINES, BOARD_WIDTH, pad, wrap } from '../../adapters/screens/airport-board.js';
import { SCREEN_KINDS } from '../../adapters/screens/index.js';
import { ledAdapter } from '../../adapters/screens/led.js';
import schema from '../../campaigns/campaign.schema.json' with { type: 'json' };
import { parseCampaign } from '../../src/domain/campaign.js';
import { computePlaylist, pollAfter, screenStatus } from '../../src/screens/playlist.js';
import { renderRss } from '../../src/screens/rss.js';
import type { Playlist } from '../../src/screens/screen-adapter.js';
import { campaignYaml } from '../factories.js';

/** Decomposed (NFD) on purpose: screens must get precomposed (NFC) text. */
const VI = 'Cảnh báo: mưa lớn gây ngập úng ở quận Ninh Kiều, người dân hạn chế ra đường & theo dõi <tin tức>'.normalize('NFD');
const EN = 'Warning: heavy rain floods Ninh Kieu district; stay indoors and follow the news';

function playlistOf(items: Array<{ id: number; vi: string; en?: string; priority?: 'normal' | 'urgent' }>): Playlist {
  return {
    screen: { id: 'vca', name: 'Sân bay Cần Thơ', kind: 'airport-board', languages: ['vi', 'en'] },
    version: '3.abc',
    now: '2026-11-26T03:00:00.000Z',
    deadline: null,
    urgent: items.some((item) => item.priority === 'urgent'),
    pollAfter: 60,
    items: items.map((item) => ({
      id: item.id,
      campaignId: 'mua-lon',
      runId: 1,
      texts: { vi: item.vi, ...(item.en ? { en: item.en } : {}) },
      duration: 24,
      priority: item.priority ?? 'normal',
      validFrom: '2026-11-26T03:00:00.000Z',
      validTo: '2026-11-27T03:00:00.000Z',
    })),
  };
}

describe('screen renderings', () => {
  it('LED: one crawl line, diacritics precomposed, urgent in red', () => {
    const body = JSON.parse(ledAdapter.render(playlistOf([{ id: 1, vi: VI, en: EN, priority: 'urgent' }])).body) as { crawl: { text: string; color: string; speed: number } };
    expect(body.crawl.text).toBe(`${VI.normalize('NFC')} • ${EN}`);
    expect(body.crawl.text).toContain('Kiều');
    expect(body.crawl.color).toBe('#FF2020');
    expect(body.crawl.speed).toBeGreaterThan(0);
  });

  it('board: every line exactly the width, every page the height, Vietnamese and English alternating', () => {
    const body = JSON.parse(airportBoardAdapter.render(playlistOf([{ id: 1, vi: VI, en: EN }, { id: 2, vi: 'Chúc quý khách thượng lộ bình an', en: 'Have a safe journey' }])).body) as {
      pages: Array<{ item: number; lang: string; lines: string[] }>;
    };
    for (const page of body.pages) {
      expect(page.lines).toHaveLength(BOARD_LINES);
      for (const line of page.lines) expect([...line]).toHaveLength(BOARD_WIDTH);
    }
    expect(body.pages.map((page) => `${page.item}${page.lang}`)).toEqual(['1vi', '1en', '2vi', '2en']);
    expect(body.pages[0]!.lines.join(' ')).toContain('Ninh Kiều');
    expect(body.pages[0]!.lines.join('')).not.toMatch(/\u0300|\u0309/); // no combining marks left
  });

  it.each([
    ['Đà Nẵng', 10, ['Đà Nẵng']],
    ['một hai ba bốn năm', 8, ['một hai', 'ba bốn', 'năm']],
    ['Nghiêngnghiêngnghiêng', 8, ['Nghiêngn', 'ghiêngng', 'hiêng']],
    ['  nhiều   khoảng  trắng ', 40, ['nhiều khoảng trắng']],
  ])('wraps %j at %i characters', (text, width, lines) => {
    expect(wrap(text, width)).toEqual(lines);
  });

  it('pads and cuts to an exact width in characters, not bytes', () => {
    expect(pad('Huế', 6)).toBe('Huế   ');
    expect([...pad('Thừa Thiên Huế', 5)]).toHaveLength(5);
  });

  it('RSS: a valid 2.0 feed with the Vietnamese text intact and escaped', () => {
    const rss = renderRss(playlistOf([{ id: 7, vi: VI, en: EN }]), 'http://loa.example/v1/screens/vca/playlist');
    expect(rss).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<rss version="2.0">/);
    expect(rss).toContain(`<title>${VI.normalize('NFC').replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</title>`);
    expect(rss).toContain('<guid isPermaLink="false">loa-item-7</guid>');
  });
});

describe('playlists', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 10, 26, 3, minutes));
  const item = (id: number, from: number, to: number, priority: 'normal' | 'urgent' = 'normal') => ({
    id,
    campaign_id: 'c',
    run_id: id,
    texts: { vi: `mục ${id}` },
    duration: 10,
    priority,
    valid_from: at(from),
    valid_to: at(to),
  });

  it('shows items valid now, only urgent ones while one is valid, and the next change as deadline', () => {
    const stored = [item(1, 0, 60), item(2, 10, 20, 'urgent'), item(3, 30, 90)];
    expect(computePlaylist(1, stored, at(5))).toMatchObject({ urgent: false, deadline: at(10).getTime(), items: [{ id: 1 }] });
    expect(computePlaylist(1, stored, at(15))).toMatchObject({ urgent: true, deadline: at(20).getTime(), items: [{ id: 2 }] });
    expect(computePlaylist(1, stored, at(45))).toMatchObject({ urgent: false, deadline: at(60).getTime(), items: [{ id: 1 }, { id: 3 }] });
    expect(computePlaylist(1, stored, at(5)).version).not.toBe(computePlaylist(1, stored, at(15)).version);
    expect(computePlaylist(1, stored, at(5)).version).not.toBe(computePlaylist(2, stored, at(5)).version);
  });

  it('spreads polls of many screens over ±10 % of the interval', () => {
    const offsets = new Set(Array.from({ length: 200 }, (_, index) => pollAfter(`screen-${index}`, 300)));
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(270);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(330);
    expect(offsets.size).toBeGreaterThan(20);
  });

  it('is offline after 3 poll intervals unseen', () => {
    const seen = at(0);
    expect(screenStatus(null, 60, at(1))).toBe('never');
    expect(screenStatus(seen, 60, at(3))).toBe('online');
    expect(screenStatus(seen, 60, new Date(at(3).getTime() + 1000))).toBe('offline');
  });
});

describe('campaign screens targets', () => {
  it('lists the adapters’ kinds in the schema document', () => {
    expect(schema.properties.screens.items.properties.targets.properties.kinds.items.enum).toEqual([...SCREEN_KINDS]);
  });

  it('accepts area targets and refuses a kind no adapter has', () => {
    const campaign = parseCampaign(campaignYaml({ screens: [{ targets: { areas: { province: ['92'] }, kinds: ['led'] }, text: { vi: 'Xin chào' }, duration: 5 }] }));
    expect(campaign.screens[0]!.targets.areas).toEqual({ province: ['92'] });
    expect(() => parseCampaign(campaignYaml({ screens: [{ targets: { kinds: ['hologram'] }, text: { vi: 'x' }, duration: 5 }] }))).toThrow();
    expect(() => parseCampaign(campaignYaml({ screens: [{ targets: { areas: {} }, text: { vi: 'x' }, duration: 5 }] }))).toThrow();
  });
});
