import { randomBytes } from 'node:crypto';

/**
 * A UUID version 7: 48 bits of Unix milliseconds, then random bits. Ids made later sort
 * later, so the events table's unique index grows at its right edge instead of taking
 * a random page per append.
 */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
