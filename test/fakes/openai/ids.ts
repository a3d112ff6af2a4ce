/** Identifiers shaped like the service's: a prefix and 21 random base-62 characters. */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new id such as `item_C9G5RJeJ2gF77mV7f2B1j`; `prefix` includes its underscore. */
export function newId(prefix: string): string {
  const bytes = randomBytes(21);
  let s = prefix;
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return s;
}
