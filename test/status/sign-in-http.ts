/** Signs in through the fake GitLab's consent page with plain HTTP, keeping cookies as a browser would (per origin, by name). */
export class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export async function get(url: string, jar: CookieJar): Promise<Response> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
  jar.take(res);
  return res;
}

export async function post(url: string, jar: CookieJar, form: Record<string, string>): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  jar.take(res);
  return res;
}

const hiddenInputs = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c))),
    ]),
  );

/** Follows the whole flow: page → sign-in → GitLab consent (as `username`) → callback. Returns the callback's answer. */
export async function signIn(
  pageUrl: string,
  username: string,
  jar = new CookieJar(),
): Promise<{ jar: CookieJar; callback: Response }> {
  const start = await get(`${pageUrl}/`, jar);
  const toGitLab = await get(new URL(start.headers.get('location')!, pageUrl).toString(), jar);
  const authorize = toGitLab.headers.get('location')!;
  const consent = await fetch(authorize);
  const fields = hiddenInputs(await consent.text());
  const approved = await fetch(new URL('/oauth/authorize', authorize), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...fields, username, decision: 'authorize' }),
  });
  const callback = await get(approved.headers.get('location')!, jar);
  return { jar, callback };
}

export { hiddenInputs };
