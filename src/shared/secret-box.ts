import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const PREFIX = 'enc:v1:';

interface Key {
  id: string;
  encryption: Buffer;
  mac: Buffer;
  tokens: Buffer;
}

function deriveKey(raw: Buffer): Key {
  return {
    id: createHash('sha256').update(raw).digest('hex').slice(0, 8),
    encryption: Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'herald secrets: encryption', 32)),
    mac: Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'herald secrets: digest', 32)),
    tokens: Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'herald secrets: api tokens', 32)),
  };
}

/**
 * Webhook URLs, signing secrets and custom header values are credentials: they are
 * stored sealed with AES-256-GCM (`enc:v1:<key id>:<base64 iv|ciphertext|tag>`) under
 * the current key, and opened only to send. Older keys stay in the ring for reading
 * until everything was sealed again under the current one (key rotation).
 */
export class SecretBox {
  private readonly keys: Key[];

  /** keys: the current key first, then previous ones (32 bytes each). */
  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    this.keys = keys.map(deriveKey);
  }

  get currentKeyId(): string {
    return this.keys[0].id;
  }

  seal(plain: string): string {
    const key = this.keys[0];
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${key.id}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
  }

  open(sealed: string): string {
    if (!SecretBox.isSealed(sealed)) throw new Error('not a sealed value');
    const [keyId, payload] = sealed.slice(PREFIX.length).split(':');
    const key = this.keys.find((k) => k.id === keyId);
    if (!key) throw new Error(`no key ${keyId} in the key ring (HERALD_SECRET_KEY / HERALD_SECRET_KEY_PREVIOUS)`);
    const data = Buffer.from(payload, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key.encryption, data.subarray(0, 12));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]).toString('utf8');
  }

  /** Sealed under a key other than the current one (to be sealed again on rotation). */
  isStale(sealed: string): boolean {
    return !sealed.startsWith(`${PREFIX}${this.keys[0].id}:`);
  }

  /** A keyed digest: equal plain texts compare equal without being stored in clear. */
  digest(plain: string): string {
    return `h1:${this.keys[0].id}:${createHmac('sha256', this.keys[0].mac).update(plain).digest('base64url')}`;
  }

  /** How an API token is stored: a keyed hash (HMAC-SHA256) under the current key. */
  tokenHash(token: string): string {
    return `t1:${this.keys[0].id}:${createHmac('sha256', this.keys[0].tokens).update(token).digest('base64url')}`;
  }

  /**
   * Every stored form a presented token may have: under each key of the ring (tokens
   * issued before a rotation keep working while the old key is in the ring), and the
   * plain SHA-256 of tokens stored before hashes were keyed.
   */
  tokenHashCandidates(token: string): string[] {
    return [
      ...this.keys.map((key) => `t1:${key.id}:${createHmac('sha256', key.tokens).update(token).digest('base64url')}`),
      createHash('sha256').update(token).digest('hex'),
    ];
  }

  static isSealed(value: string): boolean {
    return value.startsWith(PREFIX);
  }
}

export function parseKey(name: string, raw: string): Buffer {
  const trimmed = raw.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error(`${name} must be 32 bytes, base64 or hex (generate one with: openssl rand -base64 32)`);
  return key;
}

/**
 * The key ring: HERALD_SECRET_KEY (and HERALD_SECRET_KEY_PREVIOUS) when set; otherwise
 * a key generated on first start into a file beside the embedded database (mode 0600).
 */
export function loadKeyRing(settings: { current?: string; previous: string[]; keyFile: string }): Buffer[] {
  const previous = settings.previous.map((raw, i) => parseKey(`HERALD_SECRET_KEY_PREVIOUS[${i}]`, raw));
  if (settings.current) return [parseKey('HERALD_SECRET_KEY', settings.current), ...previous];
  if (!existsSync(settings.keyFile)) {
    mkdirSync(dirname(settings.keyFile), { recursive: true });
    writeFileSync(settings.keyFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(settings.keyFile, 0o600);
  return [parseKey(settings.keyFile, readFileSync(settings.keyFile, 'utf8')), ...previous];
}

export const SECRET_BOX = Symbol('SECRET_BOX');
