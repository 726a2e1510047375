import type { Server } from 'node:http';
import type { Server as NetServer } from 'node:net';

/** Listens on an ephemeral loopback port and gives the port. */
export async function listenOnLoopback(server: NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return address.port;
}

/** Closes a server and its open connections; nothing to do when it is not listening. */
export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server?.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
