/**
 * The broker's listeners, Kafka's way: every entry of `listeners` is bound (`NAME://host:port`),
 * with the security protocol `listener.security.protocol.map` gives its name — PLAINTEXT,
 * SSL (node:tls), SASL_PLAINTEXT or SASL_SSL — and its `ssl.*` / `sasl.*` settings as the listener
 * sees them (`listener.name.<name>.` overrides first). A listener's settings are checked when the
 * broker starts, so a bad keystore or mechanism fails the start with a message naming the key.
 */
import { createRequire } from 'node:module';
import { createServer, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../common/logger.js';
import type { Time } from '../common/time.js';
import type { BrokerConfig, ListenerEndpoint } from '../config/broker-config.js';
import { ANONYMOUS, type KafkaPrincipal } from '../security/authorizer.js';
import { SaslServerFactory } from '../security/sasl/mechanisms.js';
import {
  SCRAM_MECHANISMS,
  type ScramMechanismName,
  type TokenCredentialLookup,
} from '../security/sasl/scram.js';
import type { SecurityStore } from '../security/security-store.js';
import { rfc2253Subject, serverTlsSettings } from '../security/ssl.js';
import { SslPrincipalMapper } from '../security/ssl-principal-mapper.js';
import type { ConnectionSecurity } from './connection.js';

// node:tls is loaded by the first SSL or SASL_SSL listener only: loading it (and OpenSSL's TLS
// state behind it) costs a broker with plaintext listeners about 0.9 MB of resident memory.
const require = createRequire(import.meta.url);

export interface ListenerDeps {
  config: BrokerConfig;
  log: Logger;
  time: Time;
  store: SecurityStore;
  /** Delegation tokens for SCRAM (`tokenauth=true`). */
  tokens?: TokenCredentialLookup;
  /** Counted and logged: failed TLS handshakes and SASL authentications (`reauthentication`: a KIP-368 one). */
  onAuthenticationFailure(listener: string, remote: string, why: string, reauthentication?: boolean): void;
  /**
   * Counted: a completed TLS handshake on an SSL listener, a completed SASL exchange (SASL_SSL counts
   * once, when SASL completes), as Kafka's Selector counts a channel becoming ready after its
   * authenticator ran; PLAINTEXT connections authenticate nothing and are not counted.
   */
  onAuthenticationSuccess?(listener: string, reauthentication: boolean, clientSupportsReauth: boolean): void;
}

/** A listener ready to bind: its server hands each connection over with how it authenticates. */
export interface ListenerServer {
  endpoint: ListenerEndpoint;
  server: Server;
}

/** How the broker meets a listener's connections. */
export interface ListenerHandlers {
  /**
   * A TCP connection was accepted: the acceptor's checks (connection quotas, counts) come first, as
   * at Kafka's acceptor, then `start()` begins the TLS handshake of an SSL listener (none is spent
   * on a connection the quotas turn away) or serves a plaintext one at once.
   */
  accept(socket: Socket, endpoint: ListenerEndpoint, start: () => void): void;
  /** The connection is ready for requests (after its TLS handshake), with how it authenticates. */
  serve(socket: Socket, endpoint: ListenerEndpoint, security: ConnectionSecurity): void;
}

export function createListenerServer(
  endpoint: ListenerEndpoint,
  deps: ListenerDeps,
  { accept, serve }: ListenerHandlers,
): ListenerServer {
  const { config } = deps;
  const get = (name: string) => config.listenerValue(endpoint.name, name);
  const idleMs = config.int('connections.max.idle.ms');
  const sasl = endpoint.securityProtocol === 'SASL_PLAINTEXT' || endpoint.securityProtocol === 'SASL_SSL';
  let security: ConnectionSecurity = {};
  if (sasl) {
    const factory = new SaslServerFactory({
      listenerName: endpoint.name,
      enabledMechanisms: get('sasl.enabled.mechanisms') ?? '',
      jaasConfig: (mechanism) => config.jaasConfig(endpoint.name, mechanism),
      scram: (user, mechanism: ScramMechanismName) =>
        deps.store.scramCredential(user, SCRAM_MECHANISMS[mechanism].type),
      ...(deps.tokens ? { tokens: deps.tokens } : {}),
      now: () => deps.time.now(),
      setting: get,
    });
    security = {
      sasl: {
        factory,
        maxReauthMs: (mechanism) =>
          Number(config.listenerMechanismValue(endpoint.name, mechanism, 'connections.max.reauth.ms') ?? '0'),
        failedAuthenticationDelayMs: config.int('connection.failed.authentication.delay.ms'),
        now: () => deps.time.now(),
        onFailure: () => {},
        onSuccess: (reauthentication, supportsReauth) =>
          deps.onAuthenticationSuccess?.(endpoint.name, reauthentication, supportsReauth),
      },
      maxReceiveBeforeAuth: Number(get('sasl.server.max.receive.size') ?? '524288'),
      ...(idleMs > 0 ? { authTimeoutMs: idleMs } : {}),
    };
  }
  const withFailureLog = (remote: string): ConnectionSecurity =>
    security.sasl
      ? {
          ...security,
          sasl: {
            ...security.sasl,
            onFailure: (mechanism, why, reauthentication) =>
              deps.onAuthenticationFailure(
                endpoint.name,
                remote,
                `SASL ${mechanism ?? ''}${reauthentication ? ' re-authentication' : ''}: ${why}`,
                reauthentication,
              ),
          },
        }
      : security;
  if (endpoint.securityProtocol === 'PLAINTEXT' || endpoint.securityProtocol === 'SASL_PLAINTEXT') {
    const server = createServer((socket) =>
      accept(socket, endpoint, () =>
        serve(socket, endpoint, withFailureLog(`${socket.remoteAddress}:${socket.remotePort}`)),
      ),
    );
    return { endpoint, server };
  }
  const tls = serverTlsSettings(endpoint.name, get);
  const mapper = new SslPrincipalMapper(get('ssl.principal.mapping.rules'));
  const { createServer: createTlsServer } = require('node:tls') as typeof import('node:tls');
  // The TLS server never listens: the plain server below accepts, and a connection the acceptor
  // takes is handed to it (its 'connection' event) for the handshake.
  const tlsServer = createTlsServer(
    { ...tls.options, ...(idleMs > 0 ? { handshakeTimeout: Math.min(idleMs, 2_147_483_647) } : {}) },
    (socket: TLSSocket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      let principal: KafkaPrincipal = ANONYMOUS;
      if (tls.clientAuth !== 'none') {
        const cert = socket.getPeerX509Certificate();
        if (cert) {
          if (!socket.authorized) {
            deps.onAuthenticationFailure(
              endpoint.name,
              remote,
              `TLS client certificate rejected: ${String(socket.authorizationError)}`,
            );
            socket.destroy();
            return;
          }
          if (!sasl) {
            try {
              principal = { principalType: 'User', name: mapper.getName(rfc2253Subject(cert.subject)) };
            } catch (err) {
              deps.onAuthenticationFailure(endpoint.name, remote, (err as Error).message);
              socket.destroy();
              return;
            }
          }
        }
      }
      if (!sasl) deps.onAuthenticationSuccess?.(endpoint.name, false, false); // a TLS client cannot re-authenticate, as Kafka counts it
      serve(socket, endpoint, { ...withFailureLog(remote), principal });
    },
  );
  tlsServer.on('tlsClientError', (err, socket) => {
    deps.onAuthenticationFailure(
      endpoint.name,
      `${socket.remoteAddress}:${socket.remotePort}`,
      `TLS handshake failed: ${err.message}`,
    );
    socket.destroy();
  });
  const server = createServer((socket) =>
    accept(socket, endpoint, () => tlsServer.emit('connection', socket)),
  );
  return { endpoint, server };
}

/** Where clients reach a listener: advertised.listeners (or listeners), with a bound port for 0. */
export function advertisedAddress(
  config: BrokerConfig,
  listenerName: string,
  boundPort: number,
): { host: string; port: number } | undefined {
  const explicit = config.get('advertised.listeners') != null;
  const adv = config.advertisedListeners.find((l) => l.name === listenerName);
  if (!adv) return undefined;
  const host = adv.host === '' || adv.host === '0.0.0.0' || adv.host === '::' ? '127.0.0.1' : adv.host;
  return { host, port: explicit && adv.port !== 0 ? adv.port : boundPort };
}
