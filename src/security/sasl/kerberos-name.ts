/**
 * Kerberos principal names and Kafka's `sasl.kerberos.principal.to.local.rules`, as Kafka's
 * KerberosName, KerberosRule and KerberosShortNamer (org.apache.kafka.common.security.kerberos) do them.
 *
 * A principal `service/host@REALM` (or `user@REALM`, or a bare `user`) is turned into a short name by
 * the first rule that applies:
 * - `DEFAULT`: a principal of the default realm maps to its first component.
 * - `RULE:[n:format](match)s/from/to/g/L` (all parts after `]` optional, `/L` or `/U` lower- or
 *   upper-cases the result): applies to principals of n components; `$0` in the format is the realm,
 *   `$1` and `$2` the components; the rule applies when `match` matches the whole formatted string, which
 *   is then rewritten sed-style (`from` → `to`, first match, or every match with `g`).
 * A rule that produces a name containing '/' or '@' fails the whole mapping (no later rule is tried), as
 * it does in Kafka. A name without a realm (`user`) is returned as it is, whatever the rules.
 *
 * Kafka's rules are java.util.regex patterns; they are translated here to JavaScript RegExps (`v` flag,
 * so that matching is by code point and character classes can nest as Java's do). Translated to Java's
 * meaning: `.` (no line terminators), `$` and `\Z` (end, or before a final line terminator), `\A`, `\z`,
 * `\s`/`\S` (ASCII whitespace only), `\h` `\H` `\v` `\V` `\R`, `\a` `\e` `\0ooo` `\xhh` `\x{h…}` `\uhhhh`
 * `\cX`, `\Q…\E`, escaped punctuation, literal `]` and `}`, `]` first in a class, nested classes
 * (union), back references (`\11` is `\1` then `1` unless there are 11 groups, as in Java), the POSIX
 * classes `\p{Lower}` `\p{Alpha}` `\p{Punct}` … (US-ASCII, as Java's), and a leading `(?i)`.
 * Refused, as JavaScript has no equivalent (the rule is reported invalid): possessive quantifiers,
 * atomic groups, inline flags other than a leading `(?i)`, class intersection `&&`, `\G`, `\X`, `\N{…}`,
 * `\b{g}`, Unicode blocks `\p{InX}` and `\p{javaX}`.
 * Remaining differences: `\p{…}` names other than the POSIX ones are JavaScript's (`\p{L}`, `\p{Lu}`,
 * `\p{Script=Latin}`, `\p{IsLatin}`), `(?i)` folds case by Unicode rules where Java folds only ASCII,
 * a back reference to a group that has not matched matches the empty string where Java fails, and
 * look-behinds need not have a bounded length.
 */

/** Kafka's NoMatchingRule: no rule applies to a principal, or a rule produced a non-simple name. */
export class NoMatchingRuleError extends Error {
  override name = 'NoMatchingRuleError';
}

/**
 * Kafka's BadFormatString: a rule's format refers to a `$n` the principal does not have, or has a `$`
 * without a number. Raised when the rule is applied, not when it is parsed. A NoMatchingRuleError, as
 * both are the IOException that makes Kafka fail the authentication.
 */
export class BadFormatStringError extends NoMatchingRuleError {
  override name = 'BadFormatStringError';
}

export class KerberosName {
  constructor(
    readonly serviceName: string,
    readonly hostName: string | null,
    readonly realm: string | null,
  ) {}

  /** `service/host@REALM`, `user@REALM` or `user` (a name without '@' is taken whole, '/' and all). */
  static parse(principalName: string): KerberosName {
    const m = /^([^/@]*)(?:\/([^/@]*))?@([^/@]*)$/.exec(principalName);
    if (!m) {
      if (principalName.includes('@')) throw new Error(`Malformed Kerberos name: ${principalName}`);
      return new KerberosName(principalName, null, null);
    }
    return new KerberosName(m[1]!, m[2] ?? null, m[3]!);
  }

  toString(): string {
    let s = this.serviceName;
    if (this.hostName !== null) s += `/${this.hostName}`;
    if (this.realm !== null) s += `@${this.realm}`;
    return s;
  }
}

/** Kafka's RULE_PARSER, matched at the start of the rule (Java's lookingAt); the rest must be empty. */
const RULE_PARSER =
  /^(?:(DEFAULT)|RULE:\[(\d*):([^\]]*)\](?:\(([^)]*)\))?(?:s\/([^/]*)\/([^/]*)\/(g)?)?\/?(L|U)?)/;

interface Rule {
  readonly isDefault: boolean;
  readonly components: number;
  readonly format: string;
  readonly match: RegExp | null;
  /** Compiled with the `g` flag; used through `exec` from lastIndex 0. */
  readonly from: RegExp | null;
  readonly to: string;
  readonly repeat: boolean;
  readonly lower: boolean;
  readonly upper: boolean;
  /** As Kafka's KerberosRule.toString(), for messages. */
  readonly text: string;
}

export class KerberosShortNamer {
  private constructor(
    private readonly defaultRealm: string,
    private readonly rules: readonly Rule[],
  ) {}

  /**
   * rules: the config's list, e.g. `['DEFAULT']` (Kafka's default) or a `RULE:[1:$1@$0](.*@EXAMPLE.COM)`
   * rule followed by `DEFAULT`; throws an Error naming the bad rule when one does not parse (as Kafka
   * does, for a bad regex too).
   */
  static fromRules(defaultRealm: string, rules: readonly string[]): KerberosShortNamer {
    return new KerberosShortNamer(
      defaultRealm,
      rules.map((r) => parseRule(r)),
    );
  }

  /**
   * The short name, as Kafka's shortName(); throws NoMatchingRuleError when no rule applies or a rule
   * produces a name with '/' or '@' (BadFormatStringError, a NoMatchingRuleError, when a rule's format
   * refers to a missing component; a plain Error when a rule's replacement is malformed, as Java's
   * Matcher throws then).
   */
  shortName(name: KerberosName): string {
    let params: (string | null)[];
    if (name.hostName === null) {
      // Already simple.
      if (name.realm === null) return name.serviceName;
      params = [name.realm, name.serviceName];
    } else {
      params = [name.realm, name.serviceName, name.hostName];
    }
    for (const rule of this.rules) {
      const result = this.apply(rule, params);
      if (result !== null) return result;
    }
    throw new NoMatchingRuleError(
      `No rules apply to ${name}, rules [${this.rules.map((r) => r.text).join(', ')}]`,
    );
  }

  toString(): string {
    return `KerberosShortNamer(principalToLocalRules = [${this.rules.map((r) => r.text).join(', ')}])`;
  }

  private apply(rule: Rule, params: readonly (string | null)[]): string | null {
    let result: string | null = null;
    if (rule.isDefault) {
      if (this.defaultRealm === params[0]) result = params[1]!;
    } else if (params.length - 1 === rule.components) {
      const base = replaceParameters(rule.format, params);
      if (rule.match === null || rule.match.test(base)) {
        result = rule.from === null ? base : replaceSubstitution(base, rule.from, rule.to, rule.repeat);
      }
    }
    if (result !== null && /[/@]/.test(result)) {
      throw new NoMatchingRuleError(`Non-simple name ${result} after auth_to_local rule ${rule.text}`);
    }
    if (result !== null && rule.lower) result = result.toLowerCase();
    else if (result !== null && rule.upper) result = result.toUpperCase();
    return result;
  }
}

function parseRule(rule: string): Rule {
  const m = RULE_PARSER.exec(rule);
  if (!m) throw new Error(`Invalid rule: ${rule}`);
  if (m[0].length !== rule.length) {
    throw new Error(`Invalid rule: \`${rule}\`, unmatched substring: \`${rule.slice(m[0].length)}\``);
  }
  if (m[1] !== undefined) {
    return {
      isDefault: true,
      components: 0,
      format: '',
      match: null,
      from: null,
      to: '',
      repeat: false,
      lower: false,
      upper: false,
      text: 'DEFAULT',
    };
  }
  // Integer.parseInt: an empty or too large count fails the rule.
  const components = Number(m[2]);
  if (m[2] === '' || components > 0x7fffffff) {
    throw new Error(`Invalid rule: \`${rule}\`: bad number of components \`${m[2]}\``);
  }
  const format = m[3]!;
  const matchSource = m[4] ?? null;
  const fromSource = m[5] ?? null;
  const to = m[6] ?? '';
  const repeat = m[7] === 'g';
  let match: RegExp | null = null;
  let from: RegExp | null = null;
  try {
    if (matchSource !== null) match = javaRegExp(matchSource, true);
    if (fromSource !== null) from = javaRegExp(fromSource, false);
  } catch (e) {
    throw new Error(`Invalid rule: \`${rule}\`: ${(e as Error).message}`);
  }
  let text = `RULE:[${components}:${format}]`;
  if (matchSource !== null) text += `(${matchSource})`;
  if (fromSource !== null) text += `s/${fromSource}/${to}/${repeat ? 'g' : ''}`;
  if (m[8] === 'L') text += '/L';
  if (m[8] === 'U') text += '/U';
  return {
    isDefault: false,
    components,
    format,
    match,
    from,
    to,
    repeat,
    lower: m[8] === 'L',
    upper: m[8] === 'U',
    text,
  };
}

/**
 * Kafka's KerberosRule.replaceParameters: `$n` in the format becomes params[n] (params[0] is the realm;
 * a null one prints as "null", as Java's StringBuilder does), other text is copied; the parameters' own
 * text is not expanded again. Throws BadFormatStringError for `$` without digits or an n out of range.
 */
export function replaceParameters(format: string, params: readonly (string | null)[]): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const dollar = format.indexOf('$', i);
    if (dollar < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, dollar);
    let j = dollar + 1;
    while (j < format.length && format.charCodeAt(j) >= 0x30 && format.charCodeAt(j) <= 0x39) j++;
    const digits = format.slice(dollar + 1, j);
    const num = Number(digits);
    if (digits === '' || num > 0x7fffffff) {
      throw new BadFormatStringError(`bad format in username mapping in ${digits}`);
    }
    if (num >= params.length) {
      throw new BadFormatStringError(
        `index ${num} from ${format} is outside of the valid range 0 to ${params.length - 1}`,
      );
    }
    out += String(params[num]);
    i = j;
  }
  return out;
}

/** Java's Matcher.replaceFirst / replaceAll, with Java's replacement syntax. */
function replaceSubstitution(base: string, from: RegExp, to: string, repeat: boolean): string {
  let out = '';
  let last = 0;
  from.lastIndex = 0;
  for (;;) {
    const m = from.exec(base);
    if (!m) break;
    out += base.slice(last, m.index) + expandReplacement(to, m);
    last = m.index + m[0].length;
    if (!repeat) break;
    // After an empty match the next search starts one character further (Java's find() moves one
    // code unit; a code point here, as a `v` RegExp cannot start inside a surrogate pair).
    if (m[0].length === 0) from.lastIndex = m.index + ((base.codePointAt(m.index) ?? 0) > 0xffff ? 2 : 1);
  }
  from.lastIndex = 0;
  return out + base.slice(last);
}

/**
 * Java's Matcher.appendExpandedReplacement: `\c` is c; `$n` a group, taking further digits while they
 * name a group that exists; `${name}` a named group. An unmatched group adds nothing.
 */
function expandReplacement(to: string, m: RegExpExecArray): string {
  const groupCount = m.length - 1;
  let out = '';
  let i = 0;
  while (i < to.length) {
    const c = to[i]!;
    if (c === '\\') {
      i++;
      if (i === to.length) throw new Error('character to be escaped is missing');
      out += to[i];
      i++;
    } else if (c === '$') {
      i++;
      if (i === to.length) throw new Error('Illegal group reference: group index is missing');
      let value: string | undefined;
      if (to[i] === '{') {
        i++;
        const name = /^[A-Za-z0-9]*/.exec(to.slice(i))![0];
        i += name.length;
        if (name === '') throw new Error('named capturing group has 0 length name');
        if (to[i] !== '}') throw new Error("named capturing group is missing trailing '}'");
        if (isAsciiDigit(name.charCodeAt(0))) {
          throw new Error(`capturing group name {${name}} starts with digit character`);
        }
        if (m.groups === undefined || !Object.hasOwn(m.groups, name)) {
          throw new Error(`No group with name {${name}}`);
        }
        value = m.groups[name];
        i++;
      } else {
        let ref = to.charCodeAt(i) - 0x30;
        if (ref < 0 || ref > 9) throw new Error('Illegal group reference');
        i++;
        while (i < to.length && isAsciiDigit(to.charCodeAt(i))) {
          const next = ref * 10 + (to.charCodeAt(i) - 0x30);
          if (next > groupCount) break;
          ref = next;
          i++;
        }
        if (ref > groupCount) throw new Error(`No group ${ref}`);
        value = m[ref];
      }
      if (value !== undefined) out += value;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// ---- java.util.regex → RegExp ----------------------------------------------------------------------

/** Java's line terminators, for `.` and `$`. */
const LINE_TERMINATORS = '\\n\\r\\u{85}\\u{2028}\\u{2029}';
const JAVA_DOT = `[^${LINE_TERMINATORS}]`;
/** Java's `$` and `\Z` without MULTILINE: the end, or before a line terminator ending the input. */
const JAVA_DOLLAR = '(?:$|(?=\\r\\n$)|(?=[\\r\\u{85}\\u{2028}\\u{2029}]$)|(?<!\\r)(?=\\n$))';
const ASCII_SPACE = '\\t\\n\\u{b}\\f\\r\\u{20}';
const HORIZONTAL_SPACE = '\\t\\u{20}\\u{a0}\\u{1680}\\u{180e}\\u{2000}-\\u{200a}\\u{202f}\\u{205f}\\u{3000}';
const VERTICAL_SPACE = '\\n-\\r\\u{85}\\u{2028}\\u{2029}';
/** Java's POSIX character classes (US-ASCII) and its other non-Unicode names, as class contents. */
const POSIX_CLASSES: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\u{0}-\\u{7f}',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '\\u{21}-\\u{2f}\\u{3a}-\\u{40}\\u{5b}-\\u{60}\\u{7b}-\\u{7e}',
  Graph: '\\u{21}-\\u{7e}',
  Print: '\\u{20}-\\u{7e}',
  Blank: '\\t\\u{20}',
  Cntrl: '\\u{0}-\\u{1f}\\u{7f}',
  XDigit: '0-9a-fA-F',
  Space: ASCII_SPACE,
  L1: '\\u{0}-\\u{ff}',
  all: '\\u{0}-\\u{10ffff}',
  LD: '\\p{L}\\p{Nd}',
};

type Escape = { cp: number } | { text: string };

/** Compiles a java.util.regex pattern; `whole` anchors it at both ends (Java's Matcher.matches()). */
function javaRegExp(pattern: string, whole: boolean): RegExp {
  const { source, flags } = new JavaRegexTranslator(removeQuoting(pattern)).translate();
  return whole ? new RegExp(`^(?:${source})$`, `${flags}v`) : new RegExp(source, `${flags}gv`);
}

/**
 * Java's RemoveQEQuoting: `\Q…\E` becomes the same text with every ASCII non-letter escaped (digits as
 * `\x3n`, so that they cannot extend an escape before them).
 */
function removeQuoting(p: string): string {
  let out = '';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c !== '\\') {
      out += c;
      i++;
    } else if (p[i + 1] !== 'Q') {
      out += p.slice(i, i + 2);
      i += 2;
    } else {
      i += 2;
      while (i < p.length && !(p[i] === '\\' && p[i + 1] === 'E')) {
        const q = p[i]!;
        if (q.charCodeAt(0) >= 0x80 || /[A-Za-z]/.test(q)) out += q;
        else if (/[0-9]/.test(q)) out += `\\x3${q}`;
        else out += `\\${q}`;
        i++;
      }
      i += 2;
    }
  }
  return out;
}

class JavaRegexTranslator {
  private pos = 0;
  /** Capturing groups opened so far, for back references. */
  private groups = 0;

  constructor(private readonly src: string) {}

  translate(): { source: string; flags: string } {
    let flags = '';
    if (this.src.startsWith('(?i)')) {
      flags = 'i';
      this.pos = 4;
    }
    let out = '';
    while (this.pos < this.src.length) {
      const c = this.src[this.pos]!;
      out += c === '*' || c === '+' || c === '?' || c === '{' ? this.quantifier() : this.atom();
    }
    return { source: out, flags };
  }

  private fail(message: string): never {
    throw new Error(`${message} near index ${this.pos} in regex \`${this.src}\``);
  }

  private unsupported(what: string): never {
    this.fail(`${what} is not supported`);
  }

  /** The code point at pos, consumed. */
  private read(): number {
    const cp = this.src.codePointAt(this.pos);
    if (cp === undefined) this.fail('Unexpected end of pattern');
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private quantifier(): string {
    let out: string;
    if (this.src[this.pos] === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(this.src.slice(this.pos));
      if (!m) this.fail('Illegal repetition');
      out = m[0];
      this.pos += out.length;
    } else {
      out = this.src[this.pos++]!;
    }
    if (this.src[this.pos] === '?') {
      out += '?';
      this.pos++;
    } else if (this.src[this.pos] === '+') {
      this.unsupported('A possessive quantifier');
    }
    return out;
  }

  private atom(): string {
    const c = this.src[this.pos]!;
    switch (c) {
      case '\\': {
        const e = this.escape(false);
        return 'cp' in e ? literal(e.cp) : e.text;
      }
      case '[':
        this.pos++;
        return this.characterClass();
      case '(':
        this.pos++;
        return this.group();
      case ')':
      case '|':
      case '^':
        this.pos++;
        return c;
      case '$':
        this.pos++;
        return JAVA_DOLLAR;
      case '.':
        this.pos++;
        return JAVA_DOT;
      default:
        // Includes a dangling ']' or '}', literal in Java.
        return literal(this.read());
    }
  }

  private group(): string {
    if (this.src[this.pos] !== '?') {
      this.groups++;
      return '(';
    }
    const rest = this.src.slice(this.pos + 1);
    for (const kind of [':', '=', '!', '<=', '<!']) {
      if (rest.startsWith(kind)) {
        this.pos += 1 + kind.length;
        return `(?${kind}`;
      }
    }
    if (rest.startsWith('<')) {
      const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(rest);
      if (!m) this.fail('Bad named capturing group');
      this.pos += 1 + m[0].length;
      this.groups++;
      return `(?<${m[1]}>`;
    }
    if (rest.startsWith('>')) this.unsupported('An atomic group (?>…)');
    this.unsupported('An inline flag group other than a leading (?i)');
  }

  /** After `\`. */
  private escape(inClass: boolean): Escape {
    this.pos++;
    if (this.pos >= this.src.length) this.fail('Unexpected internal error (trailing backslash)');
    const cp = this.read();
    const c = String.fromCodePoint(cp);
    const notInClass = (text: string): Escape => {
      if (inClass) this.fail('Illegal/unsupported escape sequence');
      return { text };
    };
    switch (c) {
      case '0':
        return { cp: this.octal() };
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
      case '8':
      case '9':
        return notInClass(this.backReference(cp - 0x30));
      case 'A':
        return notInClass('^');
      case 'z':
        return notInClass('$');
      case 'Z':
        return notInClass(JAVA_DOLLAR);
      case 'b':
        if (this.src[this.pos] === '{') this.unsupported('\\b{g}');
        return notInClass('\\b');
      case 'B':
        return notInClass('\\B');
      case 'R':
        return notInClass(`(?:\\r\\n|[${VERTICAL_SPACE}])`);
      case 'k': {
        const m = /^<([A-Za-z][A-Za-z0-9]*)>/.exec(this.src.slice(this.pos));
        if (!m) this.fail("\\k is not followed by '<' for named capturing group");
        this.pos += m[0].length;
        return notInClass(`\\k<${m[1]}>`);
      }
      case 'G':
      case 'X':
      case 'N':
        return this.unsupported(`\\${c}`);
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        return { text: `\\${c}` };
      case 's':
        return { text: `[${ASCII_SPACE}]` };
      case 'S':
        return { text: `[^${ASCII_SPACE}]` };
      case 'h':
        return { text: `[${HORIZONTAL_SPACE}]` };
      case 'H':
        return { text: `[^${HORIZONTAL_SPACE}]` };
      case 'v':
        return { text: `[${VERTICAL_SPACE}]` };
      case 'V':
        return { text: `[^${VERTICAL_SPACE}]` };
      case 'p':
      case 'P':
        return { text: this.property(c === 'P') };
      case 'a':
        return { cp: 0x07 };
      case 'e':
        return { cp: 0x1b };
      case 'f':
        return { cp: 0x0c };
      case 'n':
        return { cp: 0x0a };
      case 'r':
        return { cp: 0x0d };
      case 't':
        return { cp: 0x09 };
      case 'c':
        if (this.pos >= this.src.length) this.fail('Illegal control escape sequence');
        return { cp: this.read() ^ 64 };
      case 'x':
        return { cp: this.hex() };
      case 'u':
        return { cp: this.unicode() };
      default:
        if (/[A-Za-z]/.test(c)) this.fail('Illegal/unsupported escape sequence');
        return { cp };
    }
  }

  /** Java's `\0n`, `\0nn`, `\0mnn` (m ≤ 3). */
  private octal(): number {
    const digit = (i: number, max: string) => {
      const d = this.src[i];
      return d !== undefined && d >= '0' && d <= max ? d.charCodeAt(0) - 0x30 : -1;
    };
    const n = digit(this.pos, '7');
    if (n < 0) this.fail('Illegal octal escape sequence');
    const m = digit(this.pos + 1, '7');
    if (m < 0) {
      this.pos += 1;
      return n;
    }
    const o = digit(this.pos + 2, '7');
    if (o >= 0 && n <= 3) {
      this.pos += 3;
      return n * 64 + m * 8 + o;
    }
    this.pos += 2;
    return n * 8 + m;
  }

  private hex(): number {
    const rest = this.src.slice(this.pos);
    const two = /^[0-9a-fA-F]{2}/.exec(rest);
    if (two) {
      this.pos += 2;
      return Number.parseInt(two[0], 16);
    }
    const braced = /^\{([0-9a-fA-F]+)\}/.exec(rest);
    if (braced) {
      const cp = Number.parseInt(braced[1]!, 16);
      if (cp > 0x10ffff) this.fail('Hexadecimal codepoint is too big');
      this.pos += braced[0].length;
      return cp;
    }
    this.fail('Illegal hexadecimal escape sequence');
  }

  /** `\uhhhh`, a high surrogate followed by `\uhhhh` low surrogate being one code point. */
  private unicode(): number {
    const four = () => {
      const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
      if (!m) this.fail('Illegal Unicode escape sequence');
      this.pos += 4;
      return Number.parseInt(m[0], 16);
    };
    const high = four();
    if (high >= 0xd800 && high <= 0xdbff && this.src.startsWith('\\u', this.pos)) {
      const at = this.pos;
      this.pos += 2;
      const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
      const low = m ? Number.parseInt(m[0], 16) : -1;
      if (low >= 0xdc00 && low <= 0xdfff) {
        this.pos += 4;
        return 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00);
      }
      this.pos = at;
    }
    return high;
  }

  /** Java's ref(): the first digit always, more while they name a group opened so far. */
  private backReference(first: number): string {
    let ref = first;
    while (this.pos < this.src.length && isAsciiDigit(this.src.charCodeAt(this.pos))) {
      const next = ref * 10 + (this.src.charCodeAt(this.pos) - 0x30);
      if (next > this.groups) break;
      ref = next;
      this.pos++;
    }
    // A group that is not there (yet) never matches in Java.
    return ref > this.groups ? '(?:(?!))' : `(?:\\${ref})`;
  }

  /** After `\p` or `\P`: `\pL` or `\p{name}`. */
  private property(negated: boolean): string {
    let name: string;
    if (this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      if (end < 0) this.fail('Unclosed character family');
      name = this.src.slice(this.pos + 1, end);
      if (name === '') this.fail('Empty character family');
      this.pos = end + 1;
    } else {
      name = String.fromCodePoint(this.read());
    }
    const posix = POSIX_CLASSES[name];
    if (posix !== undefined && Object.hasOwn(POSIX_CLASSES, name)) return `[${negated ? '^' : ''}${posix}]`;
    let candidates: string[];
    const eq = name.indexOf('=');
    if (eq >= 0) {
      const key = name.slice(0, eq).toLowerCase();
      const value = name.slice(eq + 1);
      if (key === 'sc' || key === 'script') candidates = [`Script=${value}`];
      else if (key === 'gc' || key === 'general_category') candidates = [`General_Category=${value}`];
      else this.unsupported(`The character property {${name}}`);
    } else if (name.startsWith('In') || name.startsWith('java')) {
      this.unsupported(`The character property {${name}}`);
    } else if (name.startsWith('Is')) {
      candidates = [name.slice(2), `Script=${name.slice(2)}`];
    } else {
      candidates = [name];
    }
    for (const candidate of candidates) {
      const text = `\\${negated ? 'P' : 'p'}{${candidate}}`;
      try {
        new RegExp(text, 'v');
        return text;
      } catch {
        // Try the next reading.
      }
    }
    this.fail(`Unknown character property name {${name}}`);
  }

  /** After `[`: Java's clazz(), nested classes being unions; intersections refused. */
  private characterClass(): string {
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const items: string[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail('Unclosed character class');
      const c = this.src[this.pos];
      if (c === '[') {
        this.pos++;
        items.push(this.characterClass());
      } else if (c === '&' && this.src[this.pos + 1] === '&') {
        this.unsupported('A character class intersection (&&)');
      } else if (c === ']' && items.length > 0) {
        // A ']' first in the class is a literal.
        this.pos++;
        break;
      } else {
        items.push(this.classRange());
      }
    }
    return `[${negated ? '^' : ''}${items.join('')}]`;
  }

  /** Java's range(): a character, a range of two, or a class escape. */
  private classRange(): string {
    let first: number;
    if (this.src[this.pos] === '\\') {
      const e = this.escape(true);
      if ('text' in e) return e.text;
      first = e.cp;
    } else {
      first = this.read();
    }
    if (this.src[this.pos] === '-') {
      const after = this.src[this.pos + 1];
      if (after !== undefined && after !== '[' && after !== ']') {
        this.pos++;
        let last: number;
        if (after === '\\') {
          const e = this.escape(true);
          if ('text' in e) this.fail('Illegal character range');
          last = e.cp;
        } else {
          last = this.read();
        }
        if (last < first) this.fail('Illegal character range');
        return `${literal(first)}-${literal(last)}`;
      }
    }
    return literal(first);
  }
}

/** A literal code point, safe in and out of a `v`-flag class. */
function literal(cp: number): string {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x5f
    ? String.fromCodePoint(cp)
    : `\\u{${cp.toString(16)}}`;
}

// ---- krb5.conf --------------------------------------------------------------------------------------

type Krb5Table = Map<string, Krb5Table | string[]>;

/**
 * The default_realm of a krb5.conf text ([libdefaults] section), or null: read as the JDK's
 * sun.security.krb5.Config reads it (which Kafka uses): lines trimmed, those starting with '#' or ';'
 * skipped, directives before the first section (include, includedir) ignored, section names
 * case-insensitive, repeated sections merged, the first value of a repeated relation kept, a value in
 * matching quotes unquoted, no comment after a value. Null when there is no (or an empty) default_realm
 * or the file is malformed enough for the JDK to refuse it (Kafka then uses the realm "").
 */
export function defaultRealmOf(krb5conf: string): string | null {
  try {
    const value = parseKrb5Conf(krb5conf).get('libdefaults');
    if (!(value instanceof Map)) return null;
    const realm = value.get('default_realm');
    if (!Array.isArray(realm) || realm[0] === '') return null;
    return realm[0] ?? null;
  } catch {
    return null;
  }
}

/** Java's String.trim(): every char up to U+0020 at both ends. */
function javaTrim(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s.charCodeAt(start) <= 0x20) start++;
  while (end > start && s.charCodeAt(end - 1) <= 0x20) end--;
  return s.slice(start, end);
}

function unquote(s: string): string {
  let v = javaTrim(s);
  if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")))) {
    v = javaTrim(v.slice(1, -1));
  }
  return v;
}

/** The JDK's Config.loadConfigFile and parseStanzaTable; throws where those do. */
function parseKrb5Conf(text: string): Krb5Table {
  // readConfigFileLines: trimmed, comments and blank lines dropped, directives before the first section
  // dropped.
  const raw: string[] = [];
  let inDirectives = true;
  for (const l of text.split(/\r\n|\r|\n/)) {
    const line = javaTrim(l);
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (inDirectives && !line.startsWith('[')) continue;
    inDirectives = false;
    raw.push(line);
  }
  // loadConfigFile: sections become `name = {` … `}`, a `{` on its own line joins the line before.
  const lines: string[] = [];
  let previous: string | null = null;
  for (const line of raw) {
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new Error(`Illegal config content: ${line}`);
      if (previous !== null) lines.push(previous, '}');
      const title = javaTrim(line.slice(1, -1));
      if (title === '') throw new Error(`Illegal config content: ${line}`);
      previous = `${title} = {`;
    } else if (line.startsWith('{')) {
      if (previous === null) throw new Error('Config file should not start with "{"');
      previous += ' {';
      if (line.length > 1) {
        lines.push(previous);
        previous = javaTrim(line.slice(1));
      }
    } else {
      if (previous === null) throw new Error('Config file must start with a section');
      lines.push(previous);
      previous = line;
    }
  }
  if (previous !== null) lines.push(previous, '}');
  // parseStanzaTable.
  const root: Krb5Table = new Map();
  const parents: Krb5Table[] = [];
  let current = root;
  for (const line of lines) {
    if (line === '}') {
      const parent = parents.pop();
      if (parent === undefined) throw new Error('Unmatched close brace');
      current = parent;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`Illegal config content: ${line}`);
    let key = javaTrim(line.slice(0, eq));
    const value = unquote(line.slice(eq + 1));
    if (value === '{') {
      if (current === root) key = key.toLowerCase();
      let sub: Krb5Table;
      const existing = current.get(key);
      if (existing === undefined) {
        sub = new Map();
        current.set(key, sub);
      } else if (current === root) {
        // Top-level sections of the same name are merged.
        if (!(existing instanceof Map)) throw new Error(`Illegal config content: ${line}`);
        sub = existing;
      } else {
        // A repeated subsection is read and dropped.
        sub = new Map();
      }
      parents.push(current);
      current = sub;
    } else {
      const existing = current.get(key);
      if (existing === undefined) current.set(key, [value]);
      else if (Array.isArray(existing)) existing.push(value);
      // A value named as an earlier subsection is dropped.
    }
  }
  if (current !== root) throw new Error('Not closed');
  return root;
}
