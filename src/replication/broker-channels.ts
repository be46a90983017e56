/**
 * Requests from this broker to the others that are not replica fetches (Kafka's inter-broker
 * NetworkClient as the transaction marker channel and AddPartitionsToTxnManager use it): one
 * BrokerClient per destination broker, connected on first use to the broker's endpoint in the
 * metadata image, replaced when it failed or the broker's address changed. A request that cannot be
 * sent or is not answered within `request.timeout.ms` rejects with a BrokerConnectionError, and the
 * caller retries as Kafka's senders do. At most one connection per broker of the cluster.
 */
import {
  BrokerClient,
  type BrokerClientOptions,
  BrokerConnectionError,
  type BrokerEndpoint,
} from './broker-client.js';

interface Channel {
  readonly endpoint: BrokerEndpoint;
  readonly client: Promise<BrokerClient>;
}

export class BrokerChannels {
  private readonly channels = new Map<number, Channel>();
  private closed = false;

  constructor(
    /** The broker's address on the inter-broker listener, from the current metadata image. */
    private readonly endpointOf: (brokerId: number) => BrokerEndpoint | undefined,
    private readonly opts: BrokerClientOptions,
  ) {}

  /** Sends one request to broker `brokerId` and resolves with its decoded response body. */
  async send<T>(brokerId: number, apiKey: number, version: number, body: unknown): Promise<T> {
    const client = await this.client(brokerId);
    return client.send<T>(apiKey, version, body);
  }

  private client(brokerId: number): Promise<BrokerClient> {
    if (this.closed) return Promise.reject(new BrokerConnectionError('inter-broker channels closed'));
    const endpoint = this.endpointOf(brokerId);
    if (!endpoint) return Promise.reject(new BrokerConnectionError(`broker ${brokerId} has no endpoint`));
    const existing = this.channels.get(brokerId);
    if (existing && existing.endpoint.host === endpoint.host && existing.endpoint.port === endpoint.port) {
      return existing.client.then((c) => (c.isOpen ? c : this.reconnect(brokerId, endpoint, existing)));
    }
    return this.reconnect(brokerId, endpoint, existing);
  }

  private reconnect(
    brokerId: number,
    endpoint: BrokerEndpoint,
    stale: Channel | undefined,
  ): Promise<BrokerClient> {
    const current = this.channels.get(brokerId);
    // Another request already replaced the stale channel: share its connection.
    if (current !== undefined && current !== stale) return current.client;
    if (stale)
      void stale.client.then(
        (c) => c.close(),
        () => {},
      );
    const client = BrokerClient.connect(endpoint, this.opts);
    const channel: Channel = { endpoint, client };
    this.channels.set(brokerId, channel);
    client.then(
      (c) => {
        if (this.closed) c.close();
      },
      () => {
        if (this.channels.get(brokerId) === channel) this.channels.delete(brokerId);
      },
    );
    return client;
  }

  /** Closes every connection; later sends reject. */
  close(): void {
    this.closed = true;
    for (const ch of this.channels.values())
      void ch.client.then(
        (c) => c.close(),
        () => {},
      );
    this.channels.clear();
  }
}
