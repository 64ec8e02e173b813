import { languagesOf, screenText, type Playlist, type Rendering, type ScreenAdapter } from '../../src/screens/screen-adapter.js';

/** Characters per line and lines per page of a typical flight-information board. */
export const BOARD_WIDTH = 40;
export const BOARD_LINES = 4;

/** Words onto lines of at most `width` characters (code points, NFC); a longer word is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of screenText(text).split(' ')) {
    let chars = [...word];
    if (chars.length === 0) continue;
    const length = [...line].length;
    if (length > 0 && length + 1 + chars.length <= width) {
      line += ` ${word}`;
      continue;
    }
    if (length > 0) lines.push(line);
    while (chars.length > width) {
      lines.push(chars.slice(0, width).join(''));
      chars = chars.slice(width);
    }
    line = chars.join('');
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** Exactly `width` characters: boards address cells, not bytes. */
export function pad(line: string, width: number): string {
  const chars = [...line];
  return chars.length >= width ? chars.slice(0, width).join('') : line + ' '.repeat(width - chars.length);
}

/**
 * An airport board shows fixed-width lines a page at a time, Vietnamese and English alternating
 * (item 1 in vi, item 1 in en, item 2 …). Every line is exactly BOARD_WIDTH characters and every
 * page BOARD_LINES lines, so a controller copies cells without measuring anything.
 */
export const airportBoardAdapter: ScreenAdapter = {
  kind: 'airport-board',
  description: 'airport information board: fixed-width lines, paged, Vietnamese and English alternating',
  format: 'board',
  render(playlist: Playlist): Rendering {
    const pages: Array<{ item: number; lang: string; seconds: number; lines: string[] }> = [];
    for (const item of playlist.items) {
      const languages = languagesOf(item, playlist.screen.languages.includes('en') ? playlist.screen.languages : [...playlist.screen.languages, 'en']);
      const perLanguage = languages.map((lang) => {
        const lines = wrap(item.texts[lang] ?? '', BOARD_WIDTH).map((line) => pad(line, BOARD_WIDTH));
        const chunks: string[][] = [];
        for (let index = 0; index < Math.max(lines.length, 1); index += BOARD_LINES) {
          const chunk = lines.slice(index, index + BOARD_LINES);
          while (chunk.length < BOARD_LINES) chunk.push(' '.repeat(BOARD_WIDTH));
          chunks.push(chunk);
        }
        return { lang, chunks };
      });
      const count = perLanguage.reduce((sum, language) => sum + language.chunks.length, 0);
      const seconds = Math.max(3, Math.ceil(item.duration / count));
      // Alternate page by page, so a long Vietnamese text does not hold English readers back.
      const longest = Math.max(...perLanguage.map((language) => language.chunks.length));
      for (let page = 0; page < longest; page += 1) {
        for (const language of perLanguage) {
          const lines = language.chunks[page];
          if (lines) pages.push({ item: item.id, lang: language.lang, seconds, lines });
        }
      }
    }
    const body = { format: 'board', version: playlist.version, now: playlist.now, deadline: playlist.deadline, width: BOARD_WIDTH, height: BOARD_LINES, urgent: playlist.urgent, pages };
    return { contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) };
  },
};
