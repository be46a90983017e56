// @ts-check
// The console's only way to the broker: the admin HTTP API of the same origin. State-changing
// calls carry the x-kbroker-console header and a JSON body, which the server's CSRF check asks for.

/**
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [opts]
 * @returns {Promise<any>}
 */
export async function api(path, opts = {}) {
  const method = opts.method ?? 'GET';
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (method !== 'GET') headers['x-kbroker-console'] = '1';
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    credentials: 'same-origin',
  });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { error: text };
  }
  if (!res.ok) {
    const err = new Error(data.error ?? `${res.status} ${res.statusText}`);
    Object.assign(err, { status: res.status, errorCode: data.errorCode });
    throw err;
  }
  return data;
}

/** @param {string} s */
export const enc = (s) => encodeURIComponent(s);
