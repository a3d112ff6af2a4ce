/**
 * The fake's table of live ports, as EngineWrap's slots in engine_wrap.cc: ids are
 * (generation << 5) | slot, so an id stays invalid after its slot is reused; slot 0 is the device.
 */
import { cDouble, codedError, requireNumber } from './args.js';
import { MAX_SLOTS } from './bridge.js';
import type { FakePort } from './port.js';
import { RingPort } from './ring-port.js';

const SLOT_BITS = 5;

/** A live port: its id and object (null for the sound device). */
export interface Entry {
  id: number;
  port: FakePort | null;
}

/** Bridge slot of an entry. */
export function slotOf(entry: Entry): number {
  return entry.id & (MAX_SLOTS - 1);
}

/** Port ids to ports; lookups throw ERR_PORT_DESTROYED / ERR_PORT_KIND like the addon. */
export class PortTable {
  private readonly entries: Entry[] = [];
  private generation = 0;

  constructor() {
    for (let i = 0; i < MAX_SLOTS; i++) this.entries.push({ id: 0, port: null });
  }

  /** The entry of a live port id (0 = the device), or ERR_PORT_DESTROYED. */
  lookup(port: unknown): Entry {
    const raw = requireNumber(port, 'port');
    const id = raw >>> 0;
    const entry = this.entries[id & (MAX_SLOTS - 1)];
    if (entry === undefined || raw < 0 || id !== raw || entry.id !== id || (id !== 0 && entry.port === null)) {
      throw codedError('ERR_PORT_DESTROYED', `port ${cDouble(raw)} does not exist (destroyed?)`);
    }
    return entry;
  }

  /** The ring port behind an id, or ERR_PORT_KIND. */
  lookupRing(port: unknown): RingPort {
    const entry = this.lookup(port);
    if (!(entry.port instanceof RingPort)) throw codedError('ERR_PORT_KIND', 'port is not a ring port');
    return entry.port;
  }

  /** A free slot (1..31), or ERR_TOO_MANY_PORTS. */
  freeSlot(): number {
    const slot = this.entries.findIndex((e, i) => i > 0 && e.port === null);
    if (slot < 0) throw codedError('ERR_TOO_MANY_PORTS', `the bridge has no free slot (${MAX_SLOTS} at most)`);
    return slot;
  }

  /** The id the next port in `slot` gets (a new generation each call). */
  nextId(slot: number): number {
    return ((++this.generation << SLOT_BITS) | slot) >>> 0;
  }

  /** Records a port as live under `id`. */
  set(id: number, port: FakePort): void {
    this.entries[id & (MAX_SLOTS - 1)] = { id, port };
  }

  /** Forgets a port: its id is invalid from now on and its slot free. */
  clear(entry: Entry): void {
    entry.id = 0;
    entry.port = null;
  }
}
