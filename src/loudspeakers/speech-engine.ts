/**
 * Text to speech behind one interface (issue 11 item 3), so a better Vietnamese engine can
 * replace espeak-ng without touching the cache, the scheduling or the players.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tool } from './audio-tools.js';

export interface SpeechEngine {
  /** Names the engine and its settings; part of every cache key, so changing either re-renders. */
  readonly id: string;
  readonly voices: readonly string[];
  /** Writes `text` spoken in `voice` as a WAV file at `wavPath`. */
  synthesize(text: string, voice: string, wavPath: string): Promise<void>;
}

/** What every engine is given: NFC (precomposed diacritics), single spaces, no control characters. */
export function speechText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/[\p{Cc}\p{Cf}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Debian's espeak-ng with its Vietnamese voices: `vi` (Northern), `vi-vn-x-central`,
 * `vi-vn-x-south`. Slower than its default (150 words/min) and with a longer pause between words,
 * because an outdoor loudspeaker echoes.
 */
export class EspeakEngine implements SpeechEngine {
  readonly id = 'espeak-ng:s150:g3';
  readonly voices = ['vi', 'vi-vn-x-central', 'vi-vn-x-south'] as const;

  async synthesize(text: string, voice: string, wavPath: string): Promise<void> {
    if (!this.voices.includes(voice as (typeof this.voices)[number])) throw new Error(`espeak-ng has no voice '${voice}' (one of ${this.voices.join(', ')})`);
    // The text goes in a file, never on the command line: it may start with '-' or be long.
    const textPath = join(wavPath, '..', 'text.txt');
    await writeFile(textPath, speechText(text), 'utf8');
    await tool('espeak-ng', ['-v', voice, '-s', '150', '-g', '3', '-f', textPath, '-w', wavPath]);
  }
}
