/**
 * Debian's chromium driven by playwright-core (never a browser of its own download), with the
 * flags this machine needs: headless as root, and no background networking, whose connections
 * the closed network refuses by the dozen.
 */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** No sound card on a test machine: fake media devices, and audio may start without a click. */
export const FAKE_AUDIO_ARGS = ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'];

/** Launch options for `chromium.launch` or `launchPersistentContext`, with `extraArgs` added. */
export function chromiumOptions(extraArgs: readonly string[] = []): { executablePath: string; headless: true; args: string[] } {
  return { executablePath: '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] };
}
