import type { ScreenAdapter } from '../../src/screens/screen-adapter.js';
import { airportBoardAdapter } from './airport-board.js';
import { ledAdapter } from './led.js';

/** Every screen family Loa drives; a new kind is one more file listed here. */
export const SCREEN_ADAPTERS: readonly ScreenAdapter[] = [ledAdapter, airportBoardAdapter];

/** The kinds the registry and the campaign schema accept (`targets.kinds`). */
export const SCREEN_KINDS: readonly string[] = SCREEN_ADAPTERS.map((adapter) => adapter.kind);

export function screenAdapter(kind: string): ScreenAdapter | undefined {
  return SCREEN_ADAPTERS.find((adapter) => adapter.kind === kind);
}

/** The adapter rendering a `?format=` (led, board). */
export function adapterForFormat(format: string): ScreenAdapter | undefined {
  return SCREEN_ADAPTERS.find((adapter) => adapter.format === format);
}
