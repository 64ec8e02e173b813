import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeOpus, encodeOpus, levelsOf, normaliseLoudness, opusDurationMs, withScratch, writeFile } from './audio-tools.js';
import { speechText, type SpeechEngine } from './speech-engine.js';

export const OPUS_TYPE = 'audio/ogg; codecs=opus';

export interface RenderedAudio {
  bytes: Buffer;
  contentType: string;
  durationMs: number;
}

/** Why audio is refused; the caller words it for its reader. */
export class AudioRejected extends Error {
  override name = 'AudioRejected';
  constructor(
    readonly reason: 'empty_text' | 'silent' | 'unsupported_type' | 'too_short' | 'too_long' | 'unreadable',
    message: string,
  ) {
    super(message);
  }
}

/** Anything quieter is an empty or broken render, never an announcement. */
const SILENCE_DB = -50;
export const MIN_UPLOAD_MS = 1_000;
export const MAX_AUDIO_MS = 30 * 60_000;
/** Largest upload taken (held in memory while checked): 30 min of 16-bit 22 kHz mono WAV is 80 MB; compress longer ones (FLAC, Ogg). */
export const MAX_AUDIO_BYTES = 100 * 1024 * 1024;

export type UploadType = 'wav' | 'flac' | 'ogg-vorbis' | 'ogg-opus';

/** The audio formats taken from officers, by their first bytes (the file name and Content-Type are not trusted). */
export function sniffAudio(bytes: Buffer): UploadType | null {
  const ascii = (from: number, to: number) => bytes.subarray(from, to).toString('latin1');
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') {
    const head = bytes.subarray(0, 200).toString('latin1');
    if (head.includes('OpusHead')) return 'ogg-opus';
    if (head.includes('vorbis')) return 'ogg-vorbis';
  }
  return null;
}

/**
 * Speech and uploads to what loudspeakers play: Ogg Opus, mono, its length measured from the
 * encoded stream. No cache here (AudioService keeps one); `loa speak` uses this directly.
 */
export class SpeechRenderer {
  constructor(readonly engine: SpeechEngine) {}

  /** The cache key of a text: engine and settings, voice, and the text as the engine gets it. */
  speechHash(text: string, voice: string): string {
    return createHash('sha256').update(`${this.engine.id}\u0000${voice}\u0000${speechText(text)}`).digest('hex');
  }

  async speak(text: string, voice = 'vi'): Promise<RenderedAudio> {
    if (speechText(text) === '') throw new AudioRejected('empty_text', 'there is no text to read out');
    return withScratch(async (dir) => {
      const wav = join(dir, 'speech.wav');
      await this.engine.synthesize(text, voice, wav);
      const levels = await levelsOf(wav);
      // A text of only punctuation or symbols renders as silence: refuse it rather than air nothing.
      if (!(levels.seconds > 0.2) || !(levels.rmsDb > SILENCE_DB)) throw new AudioRejected('silent', 'the text renders as silence (nothing the voice can read)');
      return this.encode(wav, dir);
    });
  }

  /** An officer's recording: type checked, length bounded, loudness normalised, re-encoded. */
  async upload(bytes: Buffer): Promise<RenderedAudio> {
    const type = sniffAudio(bytes);
    if (!type) throw new AudioRejected('unsupported_type', 'not a WAV, FLAC, Ogg Vorbis or Ogg Opus file (MP3: convert it first)');
    return withScratch(async (dir) => {
      const original = join(dir, `upload.${type === 'wav' ? 'wav' : type === 'flac' ? 'flac' : 'ogg'}`);
      await writeFile(original, bytes);
      let readable = original;
      if (type === 'ogg-opus') {
        readable = join(dir, 'decoded.wav');
        await decodeOpus(original, readable).catch(() => {
          throw new AudioRejected('unreadable', 'the Ogg Opus file cannot be decoded');
        });
      }
      const levels = await levelsOf(readable).catch(() => {
        throw new AudioRejected('unreadable', `the ${type} file cannot be read`);
      });
      if (!(levels.seconds * 1000 >= MIN_UPLOAD_MS)) throw new AudioRejected('too_short', `the recording lasts ${levels.seconds.toFixed(1)} s; at least ${MIN_UPLOAD_MS / 1000} s`);
      if (levels.seconds * 1000 > MAX_AUDIO_MS) throw new AudioRejected('too_long', `the recording lasts ${Math.round(levels.seconds)} s; at most ${MAX_AUDIO_MS / 1000} s`);
      if (!(levels.rmsDb > SILENCE_DB)) throw new AudioRejected('silent', 'the recording is silent');
      const normalised = join(dir, 'normalised.wav');
      await normaliseLoudness(readable, normalised, levels);
      return this.encode(normalised, dir);
    });
  }

  private async encode(wav: string, dir: string): Promise<RenderedAudio> {
    const out = join(dir, 'out.opus');
    const bytes = await encodeOpus(wav, out);
    const durationMs = await opusDurationMs(out);
    if (durationMs > MAX_AUDIO_MS) throw new AudioRejected('too_long', `the audio lasts ${Math.round(durationMs / 1000)} s; at most ${MAX_AUDIO_MS / 1000} s`);
    return { bytes, contentType: OPUS_TYPE, durationMs };
  }
}

export { readFile };
