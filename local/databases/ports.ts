// Free TCP ports on the loopback interface for throwaway servers.

import { createServer } from 'node:net';

/**
 * Ports this process has handed out already. The kernel may offer a port again as soon as the
 * probe socket closes; two servers started in parallel must not both be told to use it.
 */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now. Another process can still take it
 * before the server binds it, so launchers retry with a new port when the bind fails.
 */
export async function freeLoopbackPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await portTheKernelPicks();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('freeLoopbackPort: the kernel kept offering ports this process already uses');
}

/** Binds port 0 on 127.0.0.1, reads the port the kernel chose and releases it. */
function portTheKernelPicks(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (error) =>
      reject(new Error(`freeLoopbackPort: cannot listen on 127.0.0.1: ${error.message}`)),
    );
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() =>
        port === undefined
          ? reject(new Error('freeLoopbackPort: the probe socket reported no port'))
          : resolve(port),
      );
    });
  });
}
