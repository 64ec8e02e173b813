/**
 * What a screen is shown (GET /v1/screens/:id/playlist): the items valid now, in order, with
 * the server's clock and the next moment the list changes by itself (Anthias' `deadline`), so a
 * controller with a drifting clock still switches on time (../shared/reference/screens.md).
 */
export interface PlaylistEntry {
  id: number;
  campaignId: string | null;
  runId: number | null;
  /** Language code → text (NFC); `vi` always. */
  texts: Record<string, string>;
  /** Seconds on screen per turn. */
  duration: number;
  priority: 'normal' | 'urgent';
  validFrom: string;
  validTo: string;
}

export interface Playlist {
  screen: { id: string; name: string; kind: string; languages: string[] };
  /** Changes whenever the items change (an edit, a launch, a withdrawal or the clock); also the ETag. */
  version: string;
  /** Server time (ISO 8601): players follow it rather than their own clock. */
  now: string;
  /** When the playlist next changes by itself (an item starts or ends); null: not before a new launch. */
  deadline: string | null;
  /** An urgent item is valid: only urgent items play. */
  urgent: boolean;
  /** Seconds the screen should wait between polls, with its own offset so screens do not poll in step. */
  pollAfter: number;
  items: PlaylistEntry[];
}

export interface Rendering {
  contentType: string;
  body: string;
}

/**
 * One family of screen controllers (CONVENTIONS.md: one interface per adapter family, one file
 * per vendor). Adding a file under adapters/screens/ and listing it in its index adds a kind:
 * the campaign schema's `targets.kinds` and the registry accept it from then on.
 */
export interface ScreenAdapter {
  /** The kind stored in the registry and named in campaigns: lower case, digits, dashes. */
  readonly kind: string;
  readonly description: string;
  /** The `?format=` this kind renders natively (besides json and rss, which every screen has). */
  readonly format: string;
  render(playlist: Playlist): Rendering;
  /** The body POSTed to a controller of this family that takes pushes; default: the JSON playlist. */
  pushBody?(playlist: Playlist): Rendering;
}

/** Vietnamese text as screens show it: NFC (precomposed diacritics), one line, single spaces. */
export function screenText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

/** Languages in showing order: Vietnamese first, then the screen's others, then the rest. */
export function languagesOf(entry: PlaylistEntry, preferred: readonly string[]): string[] {
  const available = Object.keys(entry.texts);
  const order = ['vi', ...preferred.filter((lang) => lang !== 'vi'), ...available.filter((lang) => lang !== 'vi' && !preferred.includes(lang))];
  return [...new Set(order)].filter((lang) => entry.texts[lang] !== undefined && (lang === 'vi' || preferred.includes(lang)));
}
