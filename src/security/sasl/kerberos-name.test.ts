import { describe, expect, it } from 'vitest';
import {
  BadFormatStringError,
  defaultRealmOf,
  KerberosName,
  KerberosShortNamer,
  NoMatchingRuleError,
  replaceParameters,
} from './kerberos-name.js';

const shortName = (realm: string, rules: readonly string[], principal: string): string =>
  KerberosShortNamer.fromRules(realm, rules).shortName(KerberosName.parse(principal));

describe('KerberosName', () => {
  it.each([
    ['App.service-name/example.com@REALM.COM', 'App.service-name', 'example.com', 'REALM.COM'],
    ['App.service-name@REALM.COM', 'App.service-name', null, 'REALM.COM'],
    ['user/host@REALM.COM', 'user', 'host', 'REALM.COM'],
    ['user', 'user', null, null],
    // No '@': taken whole, as Kafka does.
    ['user/host', 'user/host', null, null],
    ['a/b/c', 'a/b/c', null, null],
    ['@REALM', '', null, 'REALM'],
    ['user@', 'user', null, ''],
    ['user/@R', 'user', '', 'R'],
  ])('parses %s', (text, service, host, realm) => {
    const name = KerberosName.parse(text);
    expect([name.serviceName, name.hostName, name.realm]).toEqual([service, host, realm]);
    expect(name.toString()).toBe(text);
  });

  it.each(['a/b/c@REALM', 'a@b@REALM', 'a@REALM/x'])('refuses the malformed %s', (text) => {
    expect(() => KerberosName.parse(text)).toThrow(`Malformed Kerberos name: ${text}`);
  });

  it('prints the parts it was made of', () => {
    expect(new KerberosName('kafka', 'broker1.example.com', 'EXAMPLE.COM').toString()).toBe(
      'kafka/broker1.example.com@EXAMPLE.COM',
    );
    expect(new KerberosName('kafka', null, null).toString()).toBe('kafka');
  });
});

describe('KerberosShortNamer (KerberosNameTest)', () => {
  it.each([
    ['App.service-name/example.com@REALM.COM', 'service-name'],
    ['App.service-name@REALM.COM', 'service-name'],
    ['user/host@REALM.COM', 'user'],
  ])('testParse: %s → %s', (principal, expected) => {
    const rules = [
      'RULE:[1:$1](App\\..*)s/App\\.(.*)/$1/g',
      'RULE:[2:$1](App\\..*)s/App\\.(.*)/$1/g',
      'DEFAULT',
    ];
    expect(shortName('REALM.COM', rules, principal)).toBe(expected);
  });

  const caseRules = (c: string) => [
    `RULE:[1:$1]/${c}`,
    `RULE:[2:$1](Test.*)s/ABC///${c}`,
    `RULE:[2:$1](ABC.*)s/ABC/XYZ/g/${c}`,
    `RULE:[2:$1](App\\..*)s/App\\.(.*)/$1/g/${c}`,
    `RULE:[2:$1]/${c}`,
    'DEFAULT',
  ];

  it.each([
    ['User@REALM.COM', 'user', 'USER'],
    ['TestABC/host@FOO.COM', 'test', 'TEST'],
    ['ABC_User_ABC/host@FOO.COM', 'xyz_user_xyz', 'XYZ_USER_XYZ'],
    ['App.SERVICE-name/example.com@REALM.COM', 'service-name', 'SERVICE-NAME'],
    ['User/root@REALM.COM', 'user', 'USER'],
  ])('testToLowerCase / testToUpperCase: %s → %s / %s', (principal, lower, upper) => {
    expect(shortName('REALM.COM', caseRules('L'), principal)).toBe(lower);
    expect(shortName('REALM.COM', caseRules('U'), principal)).toBe(upper);
  });

  it.each([
    'default',
    'DEFAUL',
    'DEFAULT/L',
    'DEFAULT/g',
    'rule:[1:$1]',
    'rule:[1:$1]/L/U',
    'rule:[1:$1]/U/L',
    'rule:[1:$1]/LU',
    'RULE:[1:$1/L',
    'RULE:[1:$1]/l',
    'RULE:[2:$1](ABC.*)s/ABC/XYZ/L/g',
  ])('testInvalidRules: %s', (rule) => {
    expect(() => KerberosShortNamer.fromRules('REALM.COM', [rule])).toThrow(rule);
  });
});

describe('KerberosRule.replaceParameters (KerberosRuleTest)', () => {
  const many = ['too', 'many', 'parameters', 'are', 'ok'];
  it.each([
    ['', [], ''],
    ['hello', [], 'hello'],
    ['', many, ''],
    ['hello', many, 'hello'],
    ['hello $0', many, 'hello too'],
    ['hello $0', ['no recursion $1'], 'hello no recursion $1'],
    ['$2/$1@$0', ['R', 'a', 'b'], 'b/a@R'],
    ['$01$1', ['R', 'a'], 'aa'],
    ['$0', [null], 'null'],
  ] as const)('%s with %j → %s', (format, params, expected) => {
    expect(replaceParameters(format, params)).toBe(expected);
  });

  it.each([
    ['$0', [], 'index 0 from $0 is outside of the valid range 0 to -1'],
    ['hello $a', ['does not matter'], 'bad format in username mapping in '],
    ['trailing $', ['x'], 'bad format in username mapping in '],
    ['$99999999999', ['x'], 'bad format in username mapping in 99999999999'],
  ] as const)('refuses %s', (format, params, message) => {
    expect(() => replaceParameters(format, params)).toThrow(BadFormatStringError);
    expect(() => replaceParameters(format, params)).toThrow(message);
  });
});

describe('KerberosShortNamer', () => {
  it('DEFAULT maps a principal of the default realm to its first component, and nothing else', () => {
    const namer = KerberosShortNamer.fromRules('EXAMPLE.COM', ['DEFAULT']);
    expect(namer.shortName(KerberosName.parse('alice@EXAMPLE.COM'))).toBe('alice');
    expect(namer.shortName(KerberosName.parse('kafka/broker1@EXAMPLE.COM'))).toBe('kafka');
    expect(() => namer.shortName(KerberosName.parse('alice@OTHER.COM'))).toThrow(NoMatchingRuleError);
    expect(() => namer.shortName(KerberosName.parse('alice@OTHER.COM'))).toThrow(
      'No rules apply to alice@OTHER.COM, rules [DEFAULT]',
    );
    // The realm is compared exactly.
    expect(() => namer.shortName(KerberosName.parse('alice@example.com'))).toThrow(NoMatchingRuleError);
  });

  it('returns a name without realm as it is, whatever the rules', () => {
    expect(KerberosShortNamer.fromRules('EXAMPLE.COM', []).shortName(KerberosName.parse('bob'))).toBe('bob');
    expect(shortName('X', ['RULE:[1:$1]/U'], 'a/b')).toBe('a/b');
  });

  it('applies the rule of the brief, then DEFAULT', () => {
    const rules = ['RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//', 'DEFAULT'];
    expect(shortName('OTHER.COM', rules, 'alice@EXAMPLE.COM')).toBe('alice');
    expect(shortName('OTHER.COM', rules, 'bob@OTHER.COM')).toBe('bob');
    // One component only: a service principal of EXAMPLE.COM is left to DEFAULT, which does not apply.
    expect(() => shortName('OTHER.COM', rules, 'kafka/h@EXAMPLE.COM')).toThrow(NoMatchingRuleError);
  });

  it('matches the whole formatted string, substitutes sed-style, first or every match', () => {
    expect(shortName('R', ['RULE:[2:$1@$0]([nd]n@.*EXAMPLE.COM)s/.*/hdfs/'], 'nn/host@EXAMPLE.COM')).toBe(
      'hdfs',
    );
    expect(shortName('R', ['RULE:[2:$1@$0]([nd]n@.*EXAMPLE.COM)s/.*/hdfs/'], 'dn/host@EXAMPLE.COM')).toBe(
      'hdfs',
    );
    // 'n@EXAMPLE.COM' alone would be found, but the whole string must match.
    expect(() => shortName('R', ['RULE:[2:$1@$0](n@EXAMPLE.COM)s/.*/x/'], 'nn/host@EXAMPLE.COM')).toThrow(
      NoMatchingRuleError,
    );
    expect(shortName('R', ['RULE:[1:$1]s/a/b/'], 'banana@X')).toBe('bbnana');
    expect(shortName('R', ['RULE:[1:$1]s/a/b/g'], 'banana@X')).toBe('bbnbnb');
    expect(shortName('R', ['RULE:[2:$2-$1]'], 'svc/host@X')).toBe('host-svc');
    // No match of the substitution: the formatted string as it is.
    expect(shortName('R', ['RULE:[1:$1]s/z/y/'], 'abc@X')).toBe('abc');
    // Empty match and empty pattern, as Java's replaceAll.
    expect(shortName('R', ['RULE:[1:$1]s/a*/-/g'], 'baaac@X')).toBe('-b--c-');
    expect(shortName('R', ['RULE:[1:$1]s//-/'], 'ab@X')).toBe('-ab');
    // An empty match pattern matches only an empty string.
    expect(() => shortName('R', ['RULE:[1:$1]()'], 'ab@X')).toThrow(NoMatchingRuleError);
    expect(shortName('R', ['RULE:[1:]()s//x/'], 'ab@X')).toBe('x');
  });

  it('applies a rule only to principals of its number of components', () => {
    const rules = ['RULE:[2:$1]', 'RULE:[1:one-$1]', 'RULE:[0:zero]', 'RULE:[3:three]'];
    expect(shortName('R', rules, 'a/b@X')).toBe('a');
    expect(shortName('R', rules, 'a@X')).toBe('one-a');
    expect(shortName('R', ['RULE:[01:$1]'], 'a@X')).toBe('a');
  });

  it("fails on a name with '/' or '@', without trying the next rules", () => {
    const rules = ['RULE:[2:$1@$0](.*)', 'DEFAULT'];
    expect(() => shortName('EXAMPLE.COM', rules, 'a/b@EXAMPLE.COM')).toThrow(
      'Non-simple name a@EXAMPLE.COM after auth_to_local rule RULE:[2:$1@$0](.*)',
    );
    expect(() => shortName('EXAMPLE.COM', ['RULE:[2:$1/$2]/L', 'DEFAULT'], 'a/b@EXAMPLE.COM')).toThrow(
      NoMatchingRuleError,
    );
    // Checked before the case change, on the rewritten name.
    expect(shortName('EXAMPLE.COM', ['RULE:[2:$1/$2]s/[^a-z].*//U'], 'a/b@EXAMPLE.COM')).toBe('A');
  });

  it('fails on a $n the principal does not have when applying, not when parsing', () => {
    const namer = KerberosShortNamer.fromRules('R', ['RULE:[1:$2]', 'DEFAULT']);
    expect(() => namer.shortName(KerberosName.parse('a@R'))).toThrow(BadFormatStringError);
    // A NoMatchingRuleError too: both are Kafka's IOException, failing the authentication.
    expect(() => namer.shortName(KerberosName.parse('a@R'))).toThrow(NoMatchingRuleError);
    expect(namer.shortName(KerberosName.parse('a/b@R'))).toBe('a');
  });

  it("expands the replacement as Java's Matcher does", () => {
    expect(shortName('R', ['RULE:[1:$1]s/(a)(b)/$2$1/'], 'ab@X')).toBe('ba');
    // $10 with one group is $1 then '0'.
    expect(shortName('R', ['RULE:[1:$1]s/(a)/$10/'], 'a@X')).toBe('a0');
    expect(shortName('R', [`RULE:[1:$1]s/(?<first>a)/$\{first}$\{first}/`], 'a@X')).toBe('aa');
    expect(shortName('R', ['RULE:[1:$1]s/a/\\$1\\\\/'], 'a@X')).toBe('$1\\');
    expect(shortName('R', ['RULE:[1:$1]s/a(x)?/[$1]/'], 'a@X')).toBe('[]');
    // A bad reference fails when a match is replaced, with a plain Error (Java's runtime exceptions).
    expect(shortName('R', ['RULE:[1:$1]s/(a)/$5/'], 'b@X')).toBe('b');
    for (const [to, message] of [
      ['$5', 'No group 5'],
      ['$x', 'Illegal group reference'],
      ['$', 'group index is missing'],
      ['\\', 'character to be escaped is missing'],
      [`$\{y}`, 'No group with name {y}'],
    ]) {
      let error: unknown;
      try {
        shortName('R', [`RULE:[1:$1]s/(a)/${to}/`], 'a@X');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(NoMatchingRuleError);
      expect((error as Error).message).toContain(message);
    }
  });

  it('prints its rules as Kafka does', () => {
    const rules = [
      'RULE:[1:$1@$0](.*@EXAMPLE.COM)s/@.*//',
      'RULE:[2:$1]/L',
      'RULE:[2:$1](x)s/a/b/g/U',
      'DEFAULT',
    ];
    expect(KerberosShortNamer.fromRules('R', rules).toString()).toBe(
      `KerberosShortNamer(principalToLocalRules = [${rules.join(', ')}])`,
    );
  });

  it.each([
    ['RULE:[:$1]', 'bad number of components'],
    ['RULE:[99999999999:$1]', 'bad number of components'],
    ['RULE:[1:$1](a(b))', 'unmatched substring: `)`'],
    ['RULE:[1:$1]s/a/b', 'unmatched substring: `s/a/b`'],
    ['RULE:[1:$1]([)', 'Unclosed character class'],
    ['RULE:[1:$1](a{)', 'Illegal repetition'],
    ['RULE:[1:$1](*a)', 'Invalid rule'],
    ['RULE:[1:$1](\\y)', 'Illegal/unsupported escape sequence'],
    ['RULE:[1:$1](a++)', 'possessive quantifier is not supported'],
    ['RULE:[1:$1]s/(?>a)//', 'atomic group'],
    ['RULE:[1:$1]s/a(?i)b//', 'inline flag group'],
    ['RULE:[1:$1]([a-z&&[^e]])', 'intersection'],
    ['RULE:[1:$1]([z-a])', 'Illegal character range'],
    ['RULE:[1:$1](\\p{InGreek})', 'not supported'],
    ['RULE:[1:$1](\\p{NoSuchThing})', 'Unknown character property'],
    ['DEFAULT ', 'unmatched substring: ` `'],
    ['', 'Invalid rule'],
  ])('refuses the bad rule %s', (rule, message) => {
    expect(() => KerberosShortNamer.fromRules('R', ['DEFAULT', rule])).toThrow(message);
    expect(() => KerberosShortNamer.fromRules('R', ['DEFAULT', rule])).toThrow(`Invalid rule: `);
  });
});

describe('Java regular expressions in rules', () => {
  // As a whole-string substitution, as the match part of a rule cannot hold ')'.
  const matches = (regex: string, name: string): boolean =>
    shortName('R', [`RULE:[1:$1]s/\\A(?:${regex})\\z/MATCHED/`], `${name}@X`) === 'MATCHED';

  it('matches the whole formatted string with the match part', () => {
    expect(shortName('R', ['RULE:[1:$1](App\\..*)'], 'App.x@R')).toBe('App.x');
    expect(() => shortName('R', ['RULE:[1:$1](App\\..*)'], 'Appx@R')).toThrow(NoMatchingRuleError);
    expect(() => shortName('R', ['RULE:[1:$1](b)'], 'abc@R')).toThrow(NoMatchingRuleError);
  });

  it.each([
    ['App\\..*', 'App.x', true],
    ['App\\..*', 'Appx', false],
    ['[^@]+', 'abc', true],
    ['[a-c]+|x', 'x', true],
    ['[a-c]+|x', 'cx', false],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['\\Q1\\E\\Q2\\E', '12', true],
    ['\\p{Lower}+', 'abc', true],
    ['\\p{Lower}+', 'aBc', false],
    ['\\P{Upper}+', 'abc', true],
    ['\\p{Punct}-', '!-', true],
    ['\\p{Alnum}+', 'a1Z', true],
    ['\\pL+', 'éa', true],
    ['\\p{IsLatin}+', 'ab', true],
    ['\\s', ' ', true],
    // Java's \s is ASCII only.
    ['\\s', '\u00a0', false],
    ['\\S', '\u00a0', true],
    ['[\\S]', '\u00a0', true],
    ['\\h', '\u00a0', true],
    ['\\w+\\d', 'ab1', true],
    ['[]a]+', ']a', true],
    ['[^]a]+', 'bc', true],
    ['[a-]+', '-a', true],
    ['[^[ab]c]+', 'xyz', true],
    ['[^[ab]c]+', 'xaz', false],
    ['[\\p{Digit}x]+', '1x', true],
    ['a.b', 'a\u0085b', false],
    ['a.b', 'a\u00a0b', true],
    ['\\x41\\u0042\\x{43}\\0104\\cE', 'ABCD\u0005', true],
    ['\\uD83D\\uDE00', '\u{1F600}', true],
    ['.', '\u{1F600}', true],
    ['(.)\\1', 'aa', true],
    ['(.)\\1', 'ab', false],
    // \11 with one group is \1 then '1'.
    ['(a)\\11', 'aa1', true],
    // A group that does not exist never matches.
    ['a\\2?', 'a', true],
    ['(?<x>a)\\k<x>', 'aa', true],
    ['a{2,3}', 'aaa', true],
    ['a{2,3}', 'aaaa', false],
    ['a{2}?', 'aa', true],
    ['a}', 'a}', true],
    ['a]', 'a]', true],
    ['\\Aab\\z', 'ab', true],
    ['a-b#c d', 'a-b#c d', true],
    ['\\-\\:\\%', '-:%', true],
    ['(?:a|b)(?=c)c', 'bc', true],
  ])('%s on %j: %s', (regex, name, expected) => {
    expect(matches(regex, name)).toBe(expected);
  });

  it('treats $ as Java does: the end, or before a final line terminator', () => {
    const namer = KerberosShortNamer.fromRules('R', ['RULE:[1:$1]s/a$/b/']);
    const short = (s: string) => namer.shortName(new KerberosName(s, null, 'R'));
    expect(short('a')).toBe('b');
    expect(short('a\n')).toBe('b\n');
    expect(short('a\r\n')).toBe('b\r\n');
    expect(short('a\n\n')).toBe('a\n\n');
    expect(short('aa')).toBe('ab');
  });

  it('takes a leading (?i) as the i flag', () => {
    expect(shortName('R', ['RULE:[1:$1]s/(?i)X/y/g'], 'aXbx@R')).toBe('ayby');
    expect(shortName('R', ['RULE:[1:$1]s/X/y/g'], 'aXbx@R')).toBe('aybx');
  });
});

describe('defaultRealmOf', () => {
  const krb5conf = `# /etc/krb5.conf
includedir /etc/krb5.conf.d/
include /etc/krb5.extra

[logging]
    default = FILE:/var/log/krb5libs.log
    kdc = FILE:/var/log/krb5kdc.log

  ; the defaults
[libdefaults]
    dns_lookup_realm = false
    ticket_lifetime = 24h
    # default_realm = COMMENTED.OUT
    default_realm = EXAMPLE.COM
    default_ccache_name = KEYRING:persistent:%{uid}
    EXAMPLE.ORG = {
        default_realm = NESTED.ORG
    }

[realms]
    EXAMPLE.COM =
    {
        kdc = kdc.example.com
        admin_server = kdc.example.com
        default_realm = IN.REALMS
    }

[domain_realm]
    .example.com = EXAMPLE.COM
    example.com = EXAMPLE.COM
`;

  it('finds default_realm in [libdefaults], skipping comments, directives, subsections and other sections', () => {
    expect(defaultRealmOf(krb5conf)).toBe('EXAMPLE.COM');
    expect(defaultRealmOf(krb5conf.replaceAll('\n', '\r\n'))).toBe('EXAMPLE.COM');
  });

  it('reads values and sections as the JDK does', () => {
    expect(defaultRealmOf('[libdefaults]\ndefault_realm=A.COM')).toBe('A.COM');
    expect(defaultRealmOf('[libdefaults]\n\tdefault_realm =  "QUOTED.COM" \n')).toBe('QUOTED.COM');
    expect(defaultRealmOf("[libdefaults]\ndefault_realm = 'Q.COM'")).toBe('Q.COM');
    expect(defaultRealmOf('[ LIBDEFAULTS ]\ndefault_realm = UPPER.COM')).toBe('UPPER.COM');
    // The first value wins, across repeated sections.
    expect(
      defaultRealmOf('[libdefaults]\ndefault_realm = FIRST\n[realms]\n[libdefaults]\ndefault_realm = SECOND'),
    ).toBe('FIRST');
    expect(defaultRealmOf('[realms]\nX = {\n}\n[libdefaults]\ndefault_realm = LATE.COM')).toBe('LATE.COM');
  });

  it('is null without a default_realm', () => {
    expect(defaultRealmOf('')).toBeNull();
    expect(defaultRealmOf('# nothing\n')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\n  dns_lookup_kdc = true\n')).toBeNull();
    expect(defaultRealmOf('[realms]\ndefault_realm = WRONG.SECTION')).toBeNull();
    expect(defaultRealmOf('default_realm = BEFORE.ANY.SECTION\n[libdefaults]')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\ndefault_realm =\n')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\ndefault_realm = {\n}\n')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\nDefault_Realm = CASE.MATTERS')).toBeNull();
  });

  it('is null for a file the JDK refuses', () => {
    expect(defaultRealmOf('[libdefaults\ndefault_realm = A')).toBeNull();
    expect(defaultRealmOf('[]\n[libdefaults]\ndefault_realm = A')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\ndefault_realm = A\njunk')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\ndefault_realm = A\nX = {\n')).toBeNull();
    expect(defaultRealmOf('[libdefaults]\ndefault_realm = A\n}\n}')).toBeNull();
  });
});
