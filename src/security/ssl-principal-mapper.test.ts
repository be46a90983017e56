import { describe, expect, it } from 'vitest';
import { rfc2253Subject } from './ssl.js';
import { SslPrincipalMapper } from './ssl-principal-mapper.js';

describe('SslPrincipalMapper', () => {
  it('applies the first rule that matches, with back-references and case', () => {
    const m = new SslPrincipalMapper(
      'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?)$/$1@$2/L, DEFAULT',
    );
    expect(m.getName('CN=kafka-svc,OU=ServiceUsers,O=Org')).toBe('kafka-svc');
    expect(m.getName('CN=Duke,OU=JavaSoft,O=Sun')).toBe('duke@javasoft');
    expect(m.getName('CN=x')).toBe('CN=x');
  });

  it('fails when no rule applies, and DEFAULT keeps the subject', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=(.*)$/$1/U').getName('O=x')).toThrow(
      'No rules apply to O=x',
    );
    expect(new SslPrincipalMapper('RULE:^CN=(.*)$/$1/U').getName('CN=abc')).toBe('ABC');
    expect(new SslPrincipalMapper(null).getName('CN=a,O=b')).toBe('CN=a,O=b');
  });

  it('refuses an invalid rule', () => {
    expect(() => new SslPrincipalMapper('RULE:^CN=(.*)$/$1/,garbage')).toThrow('Invalid rule');
  });
});

describe('rfc2253Subject', () => {
  it('prints the most specific RDN first, escaping special characters, as Java does', () => {
    expect(rfc2253Subject('C=US\nO=acme\nOU=eng\nCN=alice')).toBe('CN=alice,OU=eng,O=acme,C=US');
    expect(rfc2253Subject('O=a, b\nCN=c+d')).toBe('CN=c\\+d,O=a\\, b');
  });
});
