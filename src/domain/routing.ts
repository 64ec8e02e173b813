/**
 * Which carrier a normalised MSISDN goes through: the allocation prefix from the carrier
 * profiles, overridden by number portability (since Nov 2018 a subscriber may keep the number
 * when moving carrier, ../shared/reference/vietnam.md "Number portability").
 */
import type { CarrierId, CarrierProfile } from './carrier.js';
import { MOBILE_PREFIXES } from './numbering-plan.js';
import { resolveCarrierName } from './portability.js';

export type Route =
  | { unroutable: false; carrier: CarrierId; ported: boolean }
  | { unroutable: true; carrierName: string; ported: boolean };

/**
 * The portability table: number (84XXXXXXXXX) → the carrier now serving it, by any name
 * resolveCarrierName knows ("Vinaphone", "VMS", "viettel"…). A name of another operator
 * (e.g. "Vietnamobile") makes the number unroutable.
 */
export type PortabilityLookup = ((msisdn: string) => string | undefined) | ReadonlyMap<string, string>;

export const UNKNOWN_CARRIER_NAME = 'unknown';

/** Routes normalised MSISDNs. Build once per compile/preview; `route` is allocation-free for unported numbers. */
export class Router {
  // Index = the two national digits after the trunk 0 (91 for 091).
  private readonly byPrefix: Array<Route | undefined> = new Array<Route | undefined>(100);
  private readonly lookup: ((msisdn: string) => string | undefined) | undefined;
  private readonly portedRoutes = new Map<string, Route>();

  constructor(profiles: Readonly<Record<CarrierId, CarrierProfile>>, portability?: PortabilityLookup) {
    for (const [prefix, owner] of Object.entries(MOBILE_PREFIXES)) {
      if (owner.carrier === null) this.byPrefix[Number(prefix.slice(1))] = { unroutable: true, carrierName: owner.name, ported: false };
    }
    // The profiles are authoritative for the carriers Loa sends through.
    for (const profile of Object.values(profiles)) {
      for (const prefix of profile.prefixes) this.byPrefix[Number(prefix.slice(1))] = { unroutable: false, carrier: profile.id, ported: false };
    }
    this.lookup = portability instanceof Map ? (msisdn: string) => portability.get(msisdn) : (portability as ((msisdn: string) => string | undefined) | undefined);
  }

  route(msisdn: string): Route {
    const ported = this.lookup?.(msisdn);
    if (ported !== undefined) return this.portedRoute(ported);
    const index = (msisdn.charCodeAt(2) - 0x30) * 10 + (msisdn.charCodeAt(3) - 0x30);
    return this.byPrefix[index] ?? { unroutable: true, carrierName: UNKNOWN_CARRIER_NAME, ported: false };
  }

  private portedRoute(target: string): Route {
    let route = this.portedRoutes.get(target);
    if (!route) {
      const resolved = resolveCarrierName(target);
      if (resolved?.carrier) route = { unroutable: false, carrier: resolved.carrier, ported: true };
      else if (resolved) route = { unroutable: true, carrierName: resolved.carrierName, ported: true };
      // An unknown name should have been refused where the table was imported
      // (validatePortabilityEntry); here it can only be counted under its own name.
      else route = { unroutable: true, carrierName: target.trim() || UNKNOWN_CARRIER_NAME, ported: true };
      this.portedRoutes.set(target, route);
    }
    return route;
  }
}
