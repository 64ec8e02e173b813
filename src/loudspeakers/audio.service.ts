import { createHash } from 'node:crypto';
import { UnavailableError, ValidationError } from '../errors.js';
import { AudioToolError } from './audio-tools.js';
import type { AudioClipRepository } from '../store/audio-clip.repository.js';
import { AudioRejected, type SpeechRenderer } from './speech-renderer.js';
import { speechText } from './speech-engine.js';

export interface ClipRef {
  hash: string;
  durationMs: number;
}

/**
 * Audio for loudspeakers, cached by content hash in PostgreSQL: a text is rendered once whatever
 * process or launch asks for it, and every API process serves the same bytes.
 */
export class AudioService {
  /** Renders in flight in this process, so a burst of identical requests renders once. */
  private readonly inFlight = new Map<string, Promise<ClipRef>>();

  constructor(private readonly deps: { clips: AudioClipRepository; renderer: SpeechRenderer }) {}

  async speech(text: string, voice = 'vi'): Promise<ClipRef & { cached: boolean }> {
    const hash = this.deps.renderer.speechHash(text, voice);
    const known = await this.deps.clips.info(hash);
    if (known) return { hash, durationMs: known.duration_ms, cached: true };
    let pending = this.inFlight.get(hash);
    if (!pending) {
      pending = this.renderSpeech(hash, text, voice).finally(() => this.inFlight.delete(hash));
      this.inFlight.set(hash, pending);
    }
    return { ...(await pending), cached: false };
  }

  /** `speech`, with a text the engine cannot read refused as bad input naming the field. */
  async speechChecked(text: string, voice = 'vi'): Promise<ClipRef & { cached: boolean }> {
    try {
      return await this.speech(text, voice);
    } catch (error) {
      if (error instanceof AudioRejected) throw new ValidationError(error.message, [{ path: 'text', message: error.message }]);
      throw error;
    }
  }

  private async renderSpeech(hash: string, text: string, voice: string): Promise<ClipRef> {
    const rendered = await this.deps.renderer.speak(text, voice).catch(unavailable);
    await this.deps.clips.put({ hash, content_type: rendered.contentType, bytes: rendered.bytes, duration_ms: rendered.durationMs, source: 'speech', text: speechText(text) });
    return { hash, durationMs: rendered.durationMs };
  }

  /** An uploaded recording (checked, normalised); the same file uploaded twice is one clip. */
  async upload(bytes: Buffer): Promise<ClipRef & { cached: boolean }> {
    const hash = createHash('sha256').update(bytes).digest('hex');
    const known = await this.deps.clips.info(hash);
    if (known) return { hash, durationMs: known.duration_ms, cached: true };
    let rendered;
    try {
      rendered = await this.deps.renderer.upload(bytes);
    } catch (error) {
      if (error instanceof AudioRejected) throw new ValidationError(error.message, [{ path: 'body', message: error.message }]);
      return unavailable(error);
    }
    await this.deps.clips.put({ hash, content_type: rendered.contentType, bytes: rendered.bytes, duration_ms: rendered.durationMs, source: 'upload', text: null });
    return { hash, durationMs: rendered.durationMs, cached: false };
  }

  async info(hash: string): Promise<ClipRef | undefined> {
    const known = await this.deps.clips.info(hash);
    return known ? { hash, durationMs: known.duration_ms } : undefined;
  }

  async bytes(hash: string): Promise<{ bytes: Buffer; contentType: string } | undefined> {
    const clip = await this.deps.clips.get(hash);
    return clip ? { bytes: clip.bytes, contentType: clip.content_type } : undefined;
  }
}

/** The audio tools missing or broken on this machine: the service is unavailable, not the input wrong. */
function unavailable(error: unknown): never {
  if (error instanceof AudioToolError) throw new UnavailableError(`audio cannot be rendered here: ${error.message}`);
  throw error;
}
