/**
 * Kafka's `sasl.jaas.config` value: `<LoginModule class> <flag> key="value" ...;`. On a broker the
 * options carry PLAIN's users (`user_alice="alice-secret"`) and OAUTHBEARER's unsecured validator
 * settings. Values may be quoted (with backslash escapes) or bare words.
 */

export interface JaasEntry {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

export class JaasConfigError extends Error {
  override name = 'JaasConfigError';
}

export function parseJaasConfig(text: string): JaasEntry[] {
  const out: JaasEntry[] = [];
  let i = 0;
  const s = text;
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < s.length && /[^\s=;"]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  for (;;) {
    skipWs();
    if (i >= s.length) break;
    const loginModule = word();
    skipWs();
    const flag = word();
    if (!loginModule || !['required', 'requisite', 'sufficient', 'optional'].includes(flag)) {
      throw new JaasConfigError(
        'Invalid JAAS config: expected "<LoginModule> required|requisite|sufficient|optional key=value ...;"',
      );
    }
    const options = new Map<string, string>();
    for (;;) {
      skipWs();
      if (i >= s.length) throw new JaasConfigError('Invalid JAAS config: missing ";" at the end');
      if (s[i] === ';') {
        i++;
        break;
      }
      const key = word();
      skipWs();
      if (!key || s[i] !== '=')
        throw new JaasConfigError(`Invalid JAAS config: expected key=value near "${s.slice(i, i + 20)}"`);
      i++;
      skipWs();
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        if (s[i] !== '"') throw new JaasConfigError('Invalid JAAS config: unterminated quoted value');
        i++;
      } else value = word();
      options.set(key, value);
    }
    out.push({ loginModule, flag, options });
  }
  if (out.length === 0) throw new JaasConfigError('Invalid JAAS config: no login module');
  return out;
}
