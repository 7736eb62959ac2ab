/**
 * Credentials never reach logs, errors or /status: a URL's password (redis://:secret@host,
 * https://user:secret@registry) becomes `***`, and so does any `password=`/`token=`/`secret=`
 * query parameter. Anything that is not a URL is returned as it is.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  }
  if (u.password) u.password = '***';
  for (const k of [...u.searchParams.keys()]) if (/pass|token|secret|key/i.test(k)) u.searchParams.set(k, '***');
  return u.toString().replace(/%2A%2A%2A/g, '***');
}
