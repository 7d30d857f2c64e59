// The fault tools themselves: the TCP proxy cuts, swallows, delays and refuses as told; the chaos
// draw is reproducible from its seed.

import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawFault, seededRandom } from '../../../local/faults/chaos';
import { TcpProxy } from '../../../local/faults/tcp-proxy';

let echo: net.Server;
let echoPort = 0;
beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

type Outcome = { data: string; error?: string };
function talk(port: number, message: string, timeoutMs = 300): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(message));
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ data, error: 'timeout' });
    }, timeoutMs);
    s.on('data', (chunk) => {
      data += chunk.toString();
      if (data.length >= message.length) {
        clearTimeout(timer);
        s.end();
        resolve({ data });
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ data, error: e.code ?? e.message });
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ data, ...(data.length < message.length ? { error: 'closed' } : {}) });
    });
  });
}

describe('TcpProxy', () => {
  it('relays, resets, swallows, delays, and refuses while down', async () => {
    const proxy = await TcpProxy.start({ target: { host: '127.0.0.1', port: echoPort } });
    try {
      expect(await talk(proxy.port, 'hello')).toEqual({ data: 'hello' });

      proxy.faultNext({ kind: 'reset', afterBytes: 0 });
      expect((await talk(proxy.port, 'hello')).error).toMatch(/ECONNRESET|closed/);

      proxy.faultNext({ kind: 'reset', afterBytes: 6 }); // 5 bytes out, then the echo crosses the budget
      const cut = await talk(proxy.port, 'hello');
      expect(cut.data).toBe('');
      expect(cut.error).toMatch(/ECONNRESET|closed/);

      proxy.faultNext({ kind: 'blackhole' });
      expect(await talk(proxy.port, 'hello', 200)).toEqual({ data: '', error: 'timeout' });

      proxy.faultNext({ kind: 'delay', ms: 150 });
      const started = Date.now();
      expect(await talk(proxy.port, 'hello', 1000)).toEqual({ data: 'hello' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);

      await proxy.down();
      expect((await talk(proxy.port, 'hello')).error).toBe('ECONNREFUSED');
      await proxy.up();
      expect(await talk(proxy.port, 'hello')).toEqual({ data: 'hello' });

      proxy.setStanding({ kind: 'reset', afterBytes: 0 });
      expect((await talk(proxy.port, 'a')).error).toBeDefined();
      expect((await talk(proxy.port, 'b')).error).toBeDefined();
      proxy.clearFaults();
      expect(await talk(proxy.port, 'ok')).toEqual({ data: 'ok' });
      expect(proxy.stats.faulted).toBe(6);
    } finally {
      await proxy.close();
    }
  });
});

describe('chaos draw', () => {
  it('is reproducible from the seed and varies with it', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 200 }, () => drawFault(random));
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    const types = new Set(draw(1).map((f) => f.type));
    expect([...types].sort()).toEqual(['concurrent', 'crash-after', 'crash-before', 'db-down', 'db-reset', 'db-timeout', 'race', 'sm-5xx', 'sm-throttle', 'twice']);
  });
});
