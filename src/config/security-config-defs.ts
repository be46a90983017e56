/**
 * Broker configs of listeners, TLS, SASL and authorization, under Kafka's names and defaults
 * (SocketServerConfigs, SslConfigs, BrokerSecurityConfigs, SaslConfigs, ServerConfigs). Part of the
 * one config registry (definitions.ts spreads them into brokerConfigDefs). Every `ssl.*` and
 * `sasl.*` key may also be given per listener as `listener.name.<listener>.<key>` (lower-case
 * listener name), and `sasl.jaas.config` per listener and mechanism as
 * `listener.name.<listener>.<mechanism>.sasl.jaas.config`, as in Kafka.
 */
import type { ConfigDef } from './config-def.js';

export const securityConfigDefs: readonly ConfigDef[] = [
  {
    name: 'listener.security.protocol.map',
    type: 'list',
    default:
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
    doc: 'Listener name to security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), e.g. INTERNAL:SSL.',
  },
  {
    name: 'inter.broker.listener.name',
    type: 'string',
    default: null,
    doc: 'Listener brokers use to talk to each other (replication); defaults to the first listener.',
  },
  {
    name: 'connections.max.reauth.ms',
    type: 'long',
    default: '0',
    min: 0,
    doc: 'KIP-368: the longest SASL session before the client must re-authenticate (0 = no limit).',
  },
  {
    name: 'connection.failed.authentication.delay.ms',
    type: 'int',
    default: '100',
    min: 0,
    doc: 'Delay before the answer to a failed authentication (and the close that follows).',
  },
  // Delegation tokens (KIP-48), Kafka's DelegationTokenManagerConfigs names and defaults.
  {
    name: 'delegation.token.secret.key',
    type: 'password',
    default: null,
    doc: 'The secret the HMAC of every delegation token is made with (the same on every broker); unset, delegation tokens are disabled.',
  },
  {
    name: 'delegation.token.max.lifetime.ms',
    type: 'long',
    default: '604800000',
    min: 1,
    doc: 'The longest a delegation token may live, renewals included.',
  },
  {
    name: 'delegation.token.expiry.time.ms',
    type: 'long',
    default: '86400000',
    min: 1,
    doc: 'How long a delegation token lives until it is renewed (and the longest renewal).',
  },
  {
    name: 'delegation.token.expiry.check.interval.ms',
    type: 'long',
    default: '3600000',
    min: 1,
    doc: 'How often expired delegation tokens are removed.',
  },
  {
    name: 'sasl.enabled.mechanisms',
    type: 'list',
    default: 'GSSAPI',
    doc: 'SASL mechanisms of SASL listeners: GSSAPI (Kerberos 5, with a keytab), PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER.',
  },
  {
    name: 'sasl.kerberos.service.name',
    type: 'string',
    default: null,
    doc: "The Kerberos service name of the broker's principal (kafka in kafka/host@REALM); required with GSSAPI, here or as the JAAS config's serviceName (clients ask for <service name>/<broker host>).",
  },
  ...(
    [
      ['sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit'],
      ['sasl.kerberos.min.time.before.relogin', 'long', '60000'],
      ['sasl.kerberos.ticket.renew.jitter', 'double', '0.05'],
      ['sasl.kerberos.ticket.renew.window.factor', 'double', '0.8'],
    ] as const
  ).map(([name, type, dflt]) => ({
    name,
    type,
    default: dflt,
    doc: "Accepted for compatibility: Kafka's broker uses it to renew its own ticket; kbroker accepts GSSAPI with the keytab's keys alone and never logs in to a KDC.",
  })),
  {
    name: 'sasl.kerberos.principal.to.local.rules',
    type: 'list',
    default: 'DEFAULT',
    doc: "Rules mapping a Kerberos principal to its short name, the KafkaPrincipal User:<short name>: RULE:[n:string](regexp)s/pattern/replacement/g[/L|/U], DEFAULT (the first component of a principal of the default realm: default_realm of KRB5_CONFIG or /etc/krb5.conf, else the broker principal's realm).",
  },
  {
    name: 'sasl.mechanism.inter.broker.protocol',
    type: 'string',
    default: 'GSSAPI',
    doc: 'SASL mechanism between brokers (replication).',
  },
  {
    name: 'sasl.jaas.config',
    type: 'password',
    default: null,
    doc: 'JAAS login module line; on a broker given per listener and mechanism, e.g. listener.name.sasl_ssl.plain.sasl.jaas.config.',
  },
  {
    name: 'sasl.server.max.receive.size',
    type: 'int',
    default: '524288',
    min: 1,
    doc: 'Largest SASL frame accepted before authentication.',
  },
  {
    name: 'ssl.keystore.type',
    type: 'string',
    default: 'JKS',
    doc: 'Keystore format; kbroker reads PEM only (JKS and PKCS12 are refused).',
  },
  {
    name: 'ssl.keystore.location',
    type: 'string',
    default: null,
    doc: 'PEM file with the private key and the certificate chain.',
  },
  { name: 'ssl.keystore.password', type: 'password', default: null, doc: 'Not used with PEM keystores.' },
  { name: 'ssl.key.password', type: 'password', default: null, doc: 'Password of an encrypted PEM key.' },
  {
    name: 'ssl.keystore.certificate.chain',
    type: 'password',
    default: null,
    doc: 'Inline PEM certificate chain (with ssl.keystore.key).',
  },
  { name: 'ssl.keystore.key', type: 'password', default: null, doc: 'Inline PEM private key.' },
  {
    name: 'ssl.truststore.type',
    type: 'string',
    default: 'JKS',
    doc: 'Truststore format; kbroker reads PEM only (JKS and PKCS12 are refused).',
  },
  {
    name: 'ssl.truststore.location',
    type: 'string',
    default: null,
    doc: 'PEM file of trusted certificates.',
  },
  { name: 'ssl.truststore.password', type: 'password', default: null, doc: 'Not used with PEM truststores.' },
  {
    name: 'ssl.truststore.certificates',
    type: 'password',
    default: null,
    doc: 'Inline PEM trusted certificates.',
  },
  {
    name: 'ssl.client.auth',
    type: 'string',
    default: 'none',
    validValues: ['required', 'requested', 'none'],
    doc: 'Whether TLS clients must (required) or may (requested) present a certificate.',
  },
  {
    name: 'ssl.enabled.protocols',
    type: 'list',
    default: 'TLSv1.2,TLSv1.3',
    validValues: ['TLSv1.2', 'TLSv1.3'],
    doc: 'TLS versions accepted.',
  },
  { name: 'ssl.protocol', type: 'string', default: 'TLSv1.3', doc: 'Accepted for compatibility.' },
  {
    name: 'ssl.cipher.suites',
    type: 'list',
    default: null,
    doc: 'Cipher suites by their IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256); empty = defaults.',
  },
  {
    name: 'ssl.principal.mapping.rules',
    type: 'string',
    default: 'DEFAULT',
    doc: 'Rules mapping a client certificate subject to a principal name: RULE:pattern/replacement/[LU], DEFAULT.',
  },
  {
    name: 'ssl.endpoint.identification.algorithm',
    type: 'string',
    default: 'https',
    doc: 'Client-side setting; accepted on a broker.',
  },
  {
    name: 'authorizer.class.name',
    type: 'string',
    default: '',
    doc: 'org.apache.kafka.metadata.authorizer.StandardAuthorizer enables ACLs; empty allows everything.',
  },
  {
    name: 'super.users',
    type: 'string',
    default: null,
    doc: 'Principals allowed every operation, separated by semicolons: User:admin;User:ops.',
  },
  {
    name: 'allow.everyone.if.no.acl.found',
    type: 'boolean',
    default: 'false',
    doc: 'With an authorizer: allow an operation on a resource that has no ACL at all.',
  },
];
