import { isUtf8 } from 'node:buffer';

/**
 * Where bytes stop being UTF-8 (RFC 3629): the offset of the first byte that starts no valid
 * sequence (a continuation byte alone, an overlong form, an encoded surrogate, a code point
 * above U+10FFFF, a sequence cut short), or -1 when they are UTF-8 throughout. Node's
 * decoder would have put U+FFFD there instead, and the text would have been stored changed.
 */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    // the length of the sequence a lead byte starts, and the range its second byte must be in
    let length = 0;
    let [low, high] = [0x80, 0xbf];
    if (lead >= 0xc2 && lead <= 0xdf) length = 2;
    else if (lead >= 0xe0 && lead <= 0xef) [length, low, high] = [3, lead === 0xe0 ? 0xa0 : 0x80, lead === 0xed ? 0x9f : 0xbf];
    else if (lead >= 0xf0 && lead <= 0xf4) [length, low, high] = [4, lead === 0xf0 ? 0x90 : 0x80, lead === 0xf4 ? 0x8f : 0xbf];
    else return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < (k === 1 ? low : 0x80) || next > (k === 1 ? high : 0xbf)) return i;
    }
    i += length;
  }
  return -1;
}
