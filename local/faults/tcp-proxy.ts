// A loopback TCP proxy for fault injection: put it between a client and a database and make it
// cut connections (TCP reset, at once or after some bytes), swallow them (a black hole: the
// client's own timeout must fire), delay them, or refuse them (the listener goes away, as when
// the server is down). Used by the reliability tests and the chaos run.

import net from 'node:net';

export type ConnectionFault =
  /** Relay until `afterBytes` bytes (both directions together) have passed, then reset both sides. 0: reset on accept. */
  | { kind: 'reset'; afterBytes?: number }
  /** Accept and never answer nor forward: the client sees a connect timeout. */
  | { kind: 'blackhole' }
  /** Wait `ms` before connecting upstream. */
  | { kind: 'delay'; ms: number };

export interface TcpProxyOptions {
  target: { host: string; port: number };
  /** Address to listen on; '127.0.0.1' by default (the test certificates cover it and 'localhost'). */
  listenHost?: string;
  /** Port to listen on; a free one when 0 or absent. */
  port?: number;
}

export interface TcpProxyStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections a fault was applied to (reset, black hole, delay). */
  faulted: number;
  /** Connection attempts that found the proxy down (counted by the clients' failures, not here). */
  downPeriods: number;
  /** Bytes relayed (both directions) by each of the last 200 connections that ended. */
  recentConnectionBytes: number[];
  /** The first chunk each of the last 200 connections sent (e.g. to tell a TLS request from plaintext). */
  firstClientChunks: Buffer[];
}

export class TcpProxy {
  readonly stats: TcpProxyStats = { accepted: 0, faulted: 0, downPeriods: 0, recentConnectionBytes: [], firstClientChunks: [] };
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly queue: ConnectionFault[] = [];
  private standing: ConnectionFault | undefined;
  private boundPort = 0;

  private constructor(private readonly options: TcpProxyOptions) {}

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const proxy = new TcpProxy(options);
    await proxy.listen(options.port ?? 0);
    return proxy;
  }

  get host(): string {
    return this.options.listenHost ?? '127.0.0.1';
  }

  get port(): number {
    return this.boundPort;
  }

  get isUp(): boolean {
    return this.server !== undefined;
  }

  /** Apply `fault` to the next `count` connections (before any standing fault). */
  faultNext(fault: ConnectionFault, count = 1): void {
    for (let i = 0; i < count; i++) this.queue.push(fault);
  }

  /** Apply `fault` to every new connection until cleared (undefined: relay normally). */
  setStanding(fault: ConnectionFault | undefined): void {
    this.standing = fault;
  }

  /** Back to a clean relay: no queued or standing fault (live connections are left alone). */
  clearFaults(): void {
    this.queue.length = 0;
    this.standing = undefined;
  }

  /** Reset every live connection now. */
  cutAll(): void {
    for (const socket of this.sockets) resetSocket(socket);
  }

  /** The server goes away: stop listening (new connections are refused) and reset live ones. */
  async down(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.stats.downPeriods++;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.cutAll();
    await closed;
  }

  /** Listen again, on the same port. */
  async up(): Promise<void> {
    if (this.server) return;
    await this.listen(this.boundPort);
  }

  async close(): Promise<void> {
    this.clearFaults();
    await this.down();
  }

  private async listen(port: number): Promise<void> {
    const server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('TcpProxy: no TCP address');
    this.boundPort = address.port;
    this.server = server;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }

  private accept(client: net.Socket): void {
    this.stats.accepted++;
    this.track(client);
    client.once('data', (chunk: Buffer) => {
      this.stats.firstClientChunks.push(Buffer.from(chunk));
      if (this.stats.firstClientChunks.length > 200) this.stats.firstClientChunks.shift();
    });
    client.pause(); // nothing is read until the relay is in place (resumed below)
    const fault = this.queue.shift() ?? this.standing;
    if (fault) this.stats.faulted++;
    if (fault?.kind === 'blackhole') {
      client.pause();
      return;
    }
    if (fault?.kind === 'reset' && (fault.afterBytes ?? 0) <= 0) {
      resetSocket(client);
      return;
    }
    const connectUpstream = (): void => {
      if (client.destroyed) return;
      const upstream = net.connect(this.options.target.port, this.options.target.host);
      this.track(upstream);
      const budget = fault?.kind === 'reset' ? (fault.afterBytes ?? 0) : Infinity;
      let relayed = 0;
      const relay = (from: net.Socket, to: net.Socket) => {
        from.on('data', (chunk: Buffer) => {
          relayed += chunk.length;
          if (relayed >= budget) {
            // The chunk that crosses the budget is dropped: whether the statement or its answer was lost depends on the budget.
            resetSocket(client);
            resetSocket(upstream);
            return;
          }
          to.write(chunk);
        });
        from.on('end', () => to.end());
        from.on('close', () => {
          if (!to.destroyed) to.destroy();
        });
      };
      relay(client, upstream);
      relay(upstream, client);
      client.resume();
      client.once('close', () => {
        this.stats.recentConnectionBytes.push(relayed);
        if (this.stats.recentConnectionBytes.length > 200) this.stats.recentConnectionBytes.shift();
      });
    };
    if (fault?.kind === 'delay') setTimeout(connectUpstream, fault.ms);
    else connectUpstream();
  }
}

function resetSocket(socket: net.Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
