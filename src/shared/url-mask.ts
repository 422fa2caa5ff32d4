/**
 * Webhook URLs are credentials, and a token may sit anywhere in the path (even its first
 * segment, `/;TOKEN`) or in the query. Masked, a URL keeps its scheme and host (with the
 * port) and, when the URL's shape is known, the fixed prefix of its path it starts with
 * (`keptPrefixes`: a prefix ending in `/` keeps a path under it, another keeps exactly that
 * path); the rest of the path, the query and the fragment become `***`. Without prefixes (or
 * off the shape) only scheme and host remain. Masking a masked URL again gives the same URL.
 */
export function maskUrlKeeping(raw: string, keptPrefixes: readonly string[] = []): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '***';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return '***';
  const path = url.pathname;
  const prefix = keptPrefixes.find((p) => (p.endsWith('/') ? path.startsWith(p) : path === p));
  const kept = prefix ?? '/';
  const hidden = path.length > kept.length || url.search !== '' || url.hash !== '';
  return `${url.protocol}//${url.host}${kept}${hidden ? (kept.endsWith('/') ? '***' : '?***') : ''}`;
}

/** An API base (an IM app's) masked by the same rule: a bare host stays as it was written, without a slash added. */
export function maskApiBase(base: string): string {
  const masked = maskUrlKeeping(base);
  return masked.endsWith('/') && !base.endsWith('/') ? masked.slice(0, -1) : masked;
}
