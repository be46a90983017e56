/**
 * Kafka's SslPrincipalMapper: `ssl.principal.mapping.rules` turn a client certificate's subject
 * (RFC 2253, `CN=alice,OU=eng,O=acme`) into a principal name. Rules are tried in order; the first
 * that applies wins: `DEFAULT` keeps the subject as it is, `RULE:pattern/replacement/[LU]` applies
 * when `pattern` matches the whole subject, replacing with `$n` back-references and optionally
 * lower- or upper-casing the result. No applicable rule fails the authentication.
 */

const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;
const RULE_SPLITTER = new RegExp(String.raw`\s*(${RULE_PATTERN})\s*(,\s*|$)`, 'gy');
const RULE_PARSER = new RegExp(`^(?:${RULE_PATTERN})`);

interface Rule {
  readonly isDefault: boolean;
  readonly pattern?: RegExp;
  readonly replacement?: string;
  readonly lower?: boolean;
  readonly upper?: boolean;
  readonly text: string;
}

export class NoMatchingRule extends Error {
  override name = 'NoMatchingRule';
}

export class SslPrincipalMapper {
  private readonly rules: Rule[];

  constructor(rules: string | null) {
    this.rules = parseRules(splitRules(rules ?? 'DEFAULT'));
  }

  /** The principal name of a subject; throws NoMatchingRule when no rule applies. */
  getName(distinguishedName: string): string {
    for (const r of this.rules) {
      const name = applyRule(r, distinguishedName);
      if (name !== null) return name;
    }
    throw new NoMatchingRule(
      `No rules apply to ${distinguishedName}, rules [${this.rules.map((r) => r.text).join(', ')}]`,
    );
  }
}

function splitRules(value: string): string[] {
  const out: string[] = [];
  const text = value.trim();
  RULE_SPLITTER.lastIndex = 0;
  while (RULE_SPLITTER.lastIndex < text.length) {
    const m = RULE_SPLITTER.exec(text);
    if (!m) break;
    out.push(m[1]!);
    if (m[0] === '') break;
  }
  return out;
}

function parseRules(rules: string[]): Rule[] {
  const out: Rule[] = [];
  for (const rule of rules) {
    const m = RULE_PARSER.exec(rule);
    if (!m || m[0].length !== rule.length) {
      throw new Error(
        `Invalid rule: \`${rule}\`, unmatched substring: \`${rule.slice(m?.[0].length ?? 0)}\``,
      );
    }
    if (m[1] !== undefined) out.push({ isDefault: true, text: 'DEFAULT' });
    else if (m[2] !== undefined) {
      out.push({
        isDefault: false,
        pattern: new RegExp(`^(?:${m[2]})$`),
        replacement: m[4] ?? '',
        lower: m[6] === 'L',
        upper: m[6] === 'U',
        text: `RULE:${m[2]}/${m[4] ?? ''}/${m[6] ?? ''}`,
      });
    }
  }
  return out;
}

function applyRule(rule: Rule, dn: string): string | null {
  if (rule.isDefault) return dn;
  const m = rule.pattern!.exec(dn);
  if (!m) return null;
  const groups = m.length - 1;
  // $n beyond the groups is literal, as Kafka's escapeLiteralBackReferences makes it.
  let result = rule.replacement!.replace(/\$(\d+)/g, (whole, digits: string) => {
    let n = Number(digits);
    let rest = '';
    while (n > groups && n >= 10) {
      rest = String(n % 10) + rest;
      n = Math.floor(n / 10);
    }
    if (n > groups || digits.startsWith('0')) return whole;
    return (m[n] ?? '') + rest;
  });
  if (rule.lower) result = result.toLowerCase();
  else if (rule.upper) result = result.toUpperCase();
  return result;
}
