import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { loadLanguage } from '../../config.js';
import { translator, type Translate } from '../../i18n/index.js';
import { AudioToolError } from '../../loudspeakers/audio-tools.js';
import { EspeakEngine } from '../../loudspeakers/speech-engine.js';
import { AudioRejected, SpeechRenderer } from '../../loudspeakers/speech-renderer.js';
import { CliError, EXIT } from '../exit-codes.js';
import { printJson, printLines } from '../output.js';

/**
 * `loa speak TEXT --out FILE`: the text rendered by the same engine, voice and settings the
 * service uses for loudspeakers (the clip's hash is the service's cache key), so an officer can
 * listen before launching. Offline: needs espeak-ng and opus-tools, not the service.
 */
export function register(program: Command, t: Translate): void {
  program
    .command('speak')
    .description(t('loudspeakers.speak.description'))
    .argument('<text>', t('loudspeakers.speak.text'))
    .requiredOption('--out <file>', t('loudspeakers.speak.out'))
    .addOption(new Option('--voice <voice>', t('loudspeakers.speak.voice')).choices(['vi', 'vi-vn-x-central', 'vi-vn-x-south']).default('vi'))
    .option('--json', t('option.json'))
    .action(async (text: string, options: { out: string; voice: string; json?: boolean }) => {
      const tr = translator(loadLanguage());
      const renderer = new SpeechRenderer(new EspeakEngine());
      let rendered;
      try {
        rendered = await renderer.speak(text, options.voice);
      } catch (error) {
        if (error instanceof AudioRejected) throw new CliError(tr('loudspeakers.speak.rejected', { reason: error.message }), EXIT.invalidInput);
        if (error instanceof AudioToolError) throw new CliError(error.message, EXIT.unreachable);
        throw error;
      }
      try {
        await writeFile(options.out, rendered.bytes);
      } catch (error) {
        throw new CliError(tr('loudspeakers.speak.cannotWrite', { file: options.out, reason: (error as Error).message }), EXIT.invalidInput);
      }
      const result = { file: options.out, contentType: rendered.contentType, durationMs: rendered.durationMs, bytes: rendered.bytes.length, voice: options.voice, hash: renderer.speechHash(text, options.voice) };
      if (options.json) return printJson(result);
      printLines([tr('loudspeakers.speak.done', { file: options.out, seconds: (rendered.durationMs / 1000).toFixed(1), kb: Math.ceil(rendered.bytes.length / 1024) })]);
    });
}
