/**
 * What the engine does with each SMPP command_status (SMPP 3.4 §5.1.3; the action column is
 * ../shared/reference/smpp.md "Status codes an ESME must act on"). Carrier profiles add their
 * vendor-specific codes (0x400–0x4FF) on top of this shared table.
 */
import type { SmppErrorAction, SmppErrorMeaning } from './carrier.js';

/** SMPP 3.4 command_status names, so even a code we take no special action on is logged by name. */
export const SMPP_STATUS_NAMES: Readonly<Record<number, string>> = {
  0x00: 'ESME_ROK',
  0x01: 'ESME_RINVMSGLEN',
  0x02: 'ESME_RINVCMDLEN',
  0x03: 'ESME_RINVCMDID',
  0x04: 'ESME_RINVBNDSTS',
  0x05: 'ESME_RALYBND',
  0x06: 'ESME_RINVPRTFLG',
  0x07: 'ESME_RINVREGDLVFLG',
  0x08: 'ESME_RSYSERR',
  0x0a: 'ESME_RINVSRCADR',
  0x0b: 'ESME_RINVDSTADR',
  0x0c: 'ESME_RINVMSGID',
  0x0d: 'ESME_RBINDFAIL',
  0x0e: 'ESME_RINVPASWD',
  0x0f: 'ESME_RINVSYSID',
  0x11: 'ESME_RCANCELFAIL',
  0x13: 'ESME_RREPLACEFAIL',
  0x14: 'ESME_RMSGQFUL',
  0x15: 'ESME_RINVSERTYP',
  0x33: 'ESME_RINVNUMDESTS',
  0x34: 'ESME_RINVDLNAME',
  0x40: 'ESME_RINVDESTFLAG',
  0x42: 'ESME_RINVSUBREP',
  0x43: 'ESME_RINVESMCLASS',
  0x44: 'ESME_RCNTSUBDL',
  0x45: 'ESME_RSUBMITFAIL',
  0x48: 'ESME_RINVSRCTON',
  0x49: 'ESME_RINVSRCNPI',
  0x50: 'ESME_RINVDSTTON',
  0x51: 'ESME_RINVDSTNPI',
  0x53: 'ESME_RINVSYSTYP',
  0x54: 'ESME_RINVREPFLAG',
  0x55: 'ESME_RINVNUMMSGS',
  0x58: 'ESME_RTHROTTLED',
  0x61: 'ESME_RINVSCHED',
  0x62: 'ESME_RINVEXPIRY',
  0x63: 'ESME_RINVDFTMSGID',
  0x64: 'ESME_RX_T_APPN',
  0x65: 'ESME_RX_P_APPN',
  0x66: 'ESME_RX_R_APPN',
  0x67: 'ESME_RQUERYFAIL',
  0xc0: 'ESME_RINVOPTPARSTREAM',
  0xc1: 'ESME_ROPTPARNOTALLWD',
  0xc2: 'ESME_RINVPARLEN',
  0xc3: 'ESME_RMISSINGOPTPARAM',
  0xc4: 'ESME_RINVOPTPARAMVAL',
  0xfe: 'ESME_RDELIVERYFAILURE',
  0xff: 'ESME_RUNKNOWNERR',
};

export interface StatusRule {
  action: SmppErrorAction;
  description: string;
}

/** The codes an ESME must act on; every other code is a permanent failure of the message. */
export const SHARED_STATUS_RULES: Readonly<Record<number, StatusRule>> = {
  0x58: { action: 'throttle', description: 'throttled: slow the token bucket (AIMD) and retry the PDU' },
  0x14: { action: 'queue-full', description: 'SMSC message queue full: pause the bind briefly and retry' },
  0x08: { action: 'retry', description: 'SMSC system error: retry with back-off; counts towards pausing the run' },
  0x64: { action: 'retry', description: 'temporary application error: retry with back-off' },
  0x0b: { action: 'rejected', description: 'invalid destination address: the message is rejected' },
  0x0a: { action: 'stop-run', description: 'invalid source address (brandname not registered?): configuration error, stop the run' },
  0x48: { action: 'stop-run', description: 'invalid source address TON: configuration error, stop the run' },
  0x50: { action: 'stop-run', description: 'invalid destination address TON: configuration error, stop the run' },
  0x45: { action: 'permanent', description: 'submit_sm failed: permanent failure of this message' },
  0x65: { action: 'permanent', description: 'permanent application error: permanent failure of this message' },
  0x04: { action: 'rebind', description: 'session not bound: rebind' },
  0x0d: { action: 'bind-failed', description: 'bind failed: back off and alert, do not hammer the SMSC' },
  0x0e: { action: 'bind-failed', description: 'invalid password: back off and alert, do not hammer the SMSC' },
  0x0f: { action: 'bind-failed', description: 'invalid system id: back off and alert, do not hammer the SMSC' },
};

export const VENDOR_STATUS_MIN = 0x400;
export const VENDOR_STATUS_MAX = 0x4ff;

/** A vendor code the carrier documents, with its name in the carrier's own terms. */
export interface VendorStatus extends StatusRule {
  name: string;
}

export function formatStatus(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(status > 0xff ? 4 : 2, '0')}`;
}

/**
 * Build a CarrierProfile.errorMeaning from the shared table plus the carrier's vendor codes.
 * A vendor-range code the carrier does not document, and any other unknown code, is permanent:
 * retrying an error we cannot interpret risks resending forever. Status 0 (ESME_ROK) is success,
 * not an error: callers handle it before asking for a meaning.
 */
export function createErrorMeaning(
  carrierName: string,
  vendorStatuses: Readonly<Record<number, VendorStatus>> = {},
): (status: number) => SmppErrorMeaning {
  return (status: number): SmppErrorMeaning => {
    const hex = formatStatus(status);
    const shared = SHARED_STATUS_RULES[status];
    if (shared) return { status, name: SMPP_STATUS_NAMES[status] ?? hex, ...shared, description: `${hex} ${shared.description}` };
    if (status >= VENDOR_STATUS_MIN && status <= VENDOR_STATUS_MAX) {
      const vendor = vendorStatuses[status];
      if (vendor) return { status, name: vendor.name, action: vendor.action, description: `${hex} (${carrierName}) ${vendor.description}` };
      return {
        status,
        name: `VENDOR_${hex}`,
        action: 'permanent',
        description: `${hex} ${carrierName} vendor-specific status not in the profile's table: treated as permanent`,
      };
    }
    const name = SMPP_STATUS_NAMES[status];
    return {
      status,
      name: name ?? `UNKNOWN_${hex}`,
      action: 'permanent',
      description: name ? `${hex} ${name}: permanent failure of this message` : `${hex} unknown status: treated as permanent`,
    };
  };
}
