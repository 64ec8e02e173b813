/// <reference lib="dom" />
import { api, describeError } from './api.js';
import { h, replaceChildren } from './dom.js';
import { t } from './i18n.js';

/**
 * "Listen" to a loudspeaker text before launch: the service renders it as the loudspeakers will
 * say it (POST /v1/loudspeakers/speech, cached by content hash) and the clip plays in an <audio>.
 */
export function listenControl(text: () => string, label: string, voice = 'vi'): HTMLElement {
  const out = h('div', { class: 'listen', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary listen-button', 'aria-label': label }, t('console.listen.button'));
  button.addEventListener('click', () => {
    const value = text().trim();
    if (!value) return void replaceChildren(out, h('p', { class: 'error' }, t('console.listen.empty')));
    button.disabled = true;
    replaceChildren(out, h('p', {}, t('console.listen.rendering')));
    api<{ hash: string; durationMs: number }>('POST', '/v1/loudspeakers/speech', { text: value, voice })
      .then(
        (clip) => {
          const audio = h('audio', { controls: true, src: `/v1/loudspeakers/audio/${clip.hash}`, 'aria-label': label });
          replaceChildren(out, audio, h('span', { class: 'muted' }, ' ', t('console.listen.duration', { seconds: Math.round(clip.durationMs / 100) / 10 })));
          void audio.play().catch(() => undefined); // autoplay may be refused: the controls are there
        },
        (error: unknown) => replaceChildren(out, h('p', { class: 'error' }, describeError(error))),
      )
      .finally(() => (button.disabled = false));
  });
  return h('div', { class: 'actions' }, button, out);
}
