import { describe, expect, it } from 'vitest';
import { SaslError } from './sasl-server.js';
import { credentialFromPassword, type ScramCredential, ScramSaslServer } from './scram.js';

// RFC 7677 section 3: user "user", password "pencil", SCRAM-SHA-256.
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

function rfcServer(
  credential: ScramCredential | undefined = credentialFromPassword('SCRAM-SHA-256', 'pencil', 4096, SALT),
) {
  return new ScramSaslServer(
    'SCRAM-SHA-256',
    (u) => (u === 'user' ? credential : undefined),
    () => SERVER_NONCE,
  );
}

describe('ScramSaslServer', () => {
  it("answers RFC 7677's example exchange byte for byte", () => {
    const s = rfcServer();
    const first = s.evaluateResponse(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(first?.toString()).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    const final = s.evaluateResponse(
      Buffer.from(
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      ),
    );
    expect(final?.toString()).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    expect(s.isComplete()).toBe(true);
    expect(s.authorizationId()).toBe('user');
  });

  it('refuses a wrong proof, an unknown user and a changed nonce with a SaslError (the generic message)', () => {
    const wrongProof = rfcServer();
    wrongProof.evaluateResponse(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(() =>
      wrongProof.evaluateResponse(
        Buffer.from(
          'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
        ),
      ),
    ).toThrow(SaslError);
    expect(() => rfcServer().evaluateResponse(Buffer.from('n,,n=nobody,r=abc'))).toThrow(
      'Authentication failed: Invalid user credentials',
    );
    const nonce = rfcServer();
    nonce.evaluateResponse(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(() => nonce.evaluateResponse(Buffer.from('c=biws,r=other,p=AAAA'))).toThrow(
      'Invalid client nonce in the final client message.',
    );
  });

  it('refuses malformed messages without throwing anything but a SaslError', () => {
    for (const bad of ['', 'garbage', 'n,,', 'n,,n=,r=', 'p=x,,n=user,r=a', 'n,,n=us=er,r=abc']) {
      expect(() => rfcServer().evaluateResponse(Buffer.from(bad))).toThrow(SaslError);
    }
  });
});
