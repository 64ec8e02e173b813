/**
 * Debian's audio tools as small async functions over temporary files: opus-tools encodes Ogg
 * Opus and measures it, sox measures levels and normalises loudness. Each call gets its own
 * directory, removed afterwards, so concurrent renders never see each other's files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const TOOL_TIMEOUT_MS = 60_000;

export class AudioToolError extends Error {
  override name = 'AudioToolError';
}

export async function tool(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run(command, [...args], { timeout: TOOL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new AudioToolError(`${command} is not installed (Debian: apt-get install espeak-ng opus-tools sox)`);
    throw new AudioToolError(`${command} failed: ${(failure.stderr ?? failure.message).trim().split('\n').slice(-2).join(' ')}`);
  }
}

/** A scratch directory for one operation, always removed. */
export async function withScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'loa-audio-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Ogg Opus, mono speech bitrate: a minute is about 180 kB, small enough for 4G controllers. */
export async function encodeOpus(wavPath: string, outPath: string): Promise<Buffer> {
  await tool('opusenc', ['--quiet', '--bitrate', '24', '--speech', wavPath, outPath]);
  return readFile(outPath);
}

/** Playback length of an Ogg Opus file in ms, as opusinfo reads it from the stream itself. */
export async function opusDurationMs(path: string): Promise<number> {
  const { stdout } = await tool('opusinfo', [path]);
  const match = /Playback length:\s*(\d+)m:(\d+(?:\.\d+)?)s/.exec(stdout);
  if (!match) throw new AudioToolError('opusinfo did not report a playback length');
  return Math.round((Number(match[1]) * 60 + Number(match[2])) * 1000);
}

export interface Levels {
  seconds: number;
  /** RMS level in dBFS; -Infinity for digital silence. */
  rmsDb: number;
  peakDb: number;
}

/** Length and levels of any file sox reads (WAV, FLAC, Ogg Vorbis). */
export async function levelsOf(path: string): Promise<Levels> {
  const { stderr } = await tool('sox', [path, '-n', 'stats']);
  const field = (name: string) => {
    const match = new RegExp(`^${name}\\s+(-?inf|-?\\d+(?:\\.\\d+)?)`, 'm').exec(stderr);
    if (!match) return Number.NaN;
    return match[1]!.endsWith('inf') ? Number.NEGATIVE_INFINITY : Number(match[1]);
  };
  return { seconds: field('Length s'), rmsDb: field('RMS lev dB'), peakDb: field('Pk lev dB') };
}

/** RMS loudness loudspeakers are fed at: clear over an amplifier without clipping. */
export const TARGET_RMS_DB = -18;

/**
 * Mono 22.05 kHz WAV at TARGET_RMS_DB, peaks held below 0 dBFS by sox's limiter, so an uploaded
 * recording plays as loud as the synthesised announcements before and after it.
 */
export async function normaliseLoudness(inPath: string, outPath: string, levels: Levels): Promise<void> {
  const gain = Math.max(-30, Math.min(30, TARGET_RMS_DB - levels.rmsDb));
  await tool('sox', [inPath, '-c', '1', '-r', '22050', '-b', '16', outPath, 'gain', '-l', gain.toFixed(1)]);
}

export async function decodeOpus(inPath: string, outPath: string): Promise<void> {
  await tool('opusdec', ['--quiet', inPath, outPath]);
}

export { readFile, writeFile };
