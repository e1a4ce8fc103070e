import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/** What a stall stops: everything (a partition), or only what the server sends (a server that answers late). */
export type StallMode = 'both' | 'responses';

interface Link {
  client: Socket;
  server: Socket;
  toServer: boolean;
  toClient: boolean;
  clientClosed: boolean;
  serverClosed: boolean;
}

/**
 * A TCP proxy in front of a server whose links can be stalled the way a network partition stalls
 * them: bytes, and the ends of connections, stop moving without either side seeing the link close,
 * and move again on resume. New connections made during a stall stall too.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private stalled: StallMode | undefined;

  private constructor(
    private readonly listener: Server,
    private readonly target: { host: string; port: number },
  ) {
    listener.on('connection', (client) => this.open(client));
  }

  /** Listens on a free local port, forwarding to the host and port of `targetUrl`. */
  static async start(targetUrl: string): Promise<TcpProxy> {
    const url = new URL(targetUrl);
    const proxy = new TcpProxy(createServer(), { host: url.hostname, port: Number(url.port || 5432) });
    await new Promise<void>((resolve, reject) => {
      proxy.listener.once('error', reject);
      proxy.listener.listen(0, '127.0.0.1', resolve);
    });
    return proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  route(url: string): string {
    const routed = new URL(url);
    routed.hostname = '127.0.0.1';
    routed.port = String((this.listener.address() as AddressInfo).port);
    return routed.toString();
  }

  /**
   * The local ports of the proxy's connections to the server: how the server
   * (pg_stat_activity.client_port) sees this proxy's clients.
   */
  serverSidePorts(): number[] {
    return [...this.links].flatMap((link) => (link.server.localPort === undefined ? [] : [link.server.localPort]));
  }

  stall(mode: StallMode = 'both'): void {
    this.stalled = mode;
    for (const link of this.links) this.apply(link);
  }

  resume(): void {
    this.stalled = undefined;
    for (const link of this.links) this.apply(link);
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.server.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }

  private open(client: Socket): void {
    const server = connect(this.target.port, this.target.host);
    const link: Link = { client, server, toServer: false, toClient: false, clientClosed: false, serverClosed: false };
    this.links.add(link);
    client
      .on('error', () => undefined)
      .on('close', () => {
        link.clientClosed = true;
        this.apply(link);
      });
    server
      .on('error', () => undefined)
      .on('close', () => {
        link.serverClosed = true;
        this.apply(link);
      });
    this.apply(link);
  }

  /**
   * A stalled direction is unpiped and its source paused: a paused socket neither reads nor
   * reports the peer's end, so nothing reaches the other side until the pipe is restored.
   */
  private apply(link: Link): void {
    const toServer = this.stalled !== 'both';
    const toClient = this.stalled === undefined;
    if (toServer !== link.toServer) flow(link.client, link.server, toServer);
    if (toClient !== link.toClient) flow(link.server, link.client, toClient);
    link.toServer = toServer;
    link.toClient = toClient;
    // `pipe` passes on a clean end; an abrupt close (a reset) is passed on here, once that direction flows.
    if (link.clientClosed && toServer && !link.server.writableEnded) link.server.end();
    if (link.serverClosed && toClient && !link.client.writableEnded) link.client.end();
    if (link.clientClosed && link.serverClosed) this.links.delete(link);
  }
}

function flow(from: Socket, to: Socket, on: boolean): void {
  if (on) {
    from.pipe(to);
  } else {
    from.unpipe(to);
    from.pause();
  }
}
