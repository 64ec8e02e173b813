import type { SmppErrorMeaning } from '../domain/carrier.js';
import { DomainError } from '../domain/errors.js';

/**
 * An SMSC refused a PDU (or a bind) with a command_status: the status and what the carrier
 * profile says it means travel together, so callers branch on `meaning.action` and reports name
 * the code. `code` is `smpp-<action>` (e.g. `smpp-rejected`, `smpp-stop-run`).
 */
export class CarrierError extends DomainError {
  override name = 'CarrierError';

  constructor(
    readonly carrier: string,
    readonly meaning: SmppErrorMeaning,
    /** True when Loa decided locally (the PDU could not be encoded) and the SMSC never saw it. */
    readonly local = false,
  ) {
    super(`smpp-${meaning.action}`, `${carrier}: ${meaning.name} ${meaning.description}`);
  }

  get status(): number {
    return this.meaning.status;
  }
}
