import { describe, expect, it } from 'vitest';
import { isThrottling, Pacer, type PacerOptions } from '../../../shared/aws/pacer';

/** A pacer on a fake clock: sleeping moves the clock; `waits` records each sleep. */
function fake(options: PacerOptions): { pacer: Pacer; clock: { t: number }; waits: number[] } {
  const clock = { t: 0 };
  const waits: number[] = [];
  const pacer = new Pacer({
    now: () => clock.t,
    sleep: async (ms) => {
      waits.push(Math.round(ms));
      clock.t += ms;
    },
    ...options,
  });
  return { pacer, clock, waits };
}

/** The fake time at which each of `n` sequential calls was let through. */
async function sendTimes(pacer: Pacer, clock: { t: number }, n: number): Promise<number[]> {
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    await pacer.take();
    at.push(Math.round(clock.t));
  }
  return at;
}

describe('Pacer: a token bucket', () => {
  it('spaces calls 1/perSecond apart once the burst is spent', async () => {
    const { pacer, clock } = fake({ perSecond: 100, burst: 5 });
    const at = await sendTimes(pacer, clock, 10);
    expect(at).toEqual([0, 0, 0, 0, 0, 10, 20, 30, 40, 50]);
    // 1,000 calls take (1000 - burst) / 100 s: the quota's floor.
    const { pacer: p2, clock: c2 } = fake({ perSecond: 100, burst: 5 });
    const times = await sendTimes(p2, c2, 1000);
    expect(times.at(-1)).toBe(9950);
  });

  it('defaults: burst 1/20 s of calls (5 at 100/s, at least 1)', async () => {
    const { pacer, clock } = fake({ perSecond: 100 });
    expect((await sendTimes(pacer, clock, 7)).slice(0, 7)).toEqual([0, 0, 0, 0, 0, 10, 20]);
    const slow = fake({ perSecond: 10 });
    expect(await sendTimes(slow.pacer, slow.clock, 3)).toEqual([0, 100, 200]);
  });

  it('concurrent callers queue for successive slots', async () => {
    const { pacer, waits } = fake({ perSecond: 10, burst: 1, sleep: async (ms) => void waits.push(Math.round(ms)) });
    await Promise.all([pacer.take(), pacer.take(), pacer.take(), pacer.take()]);
    expect(waits).toEqual([100, 200, 300]);
  });

  it('a quiet spell refills at most `burst` slots', async () => {
    const { pacer, clock } = fake({ perSecond: 100, burst: 3 });
    await sendTimes(pacer, clock, 3);
    clock.t += 10_000;
    const at = await sendTimes(pacer, clock, 5);
    expect(at.map((t) => t - 10_000)).toEqual([0, 0, 0, 10, 20]);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new Pacer({ perSecond: 0 })).toThrow(/positive/);
  });
});

describe('Pacer: adaptive back-off', () => {
  it('a throttle halves the rate and empties the bucket', async () => {
    const { pacer, clock } = fake({ perSecond: 100, burst: 5 });
    await sendTimes(pacer, clock, 5);
    pacer.throttled();
    expect(pacer.perSecond).toBe(50);
    const at = await sendTimes(pacer, clock, 3);
    // 20 ms apart now (the rate climbs back by 10/s each second, too little to show over 60 ms).
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(19);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(19);
    expect(pacer.stats()).toMatchObject({ limitPerSecond: 100, lowestPerSecond: 50, throttles: 1, backoffs: 1 });
  });

  it('no bursts while backing off: a quiet spell (an SDK retry delay) refills one slot, not the bucket', async () => {
    const { pacer, clock } = fake({ perSecond: 100, burst: 5 });
    pacer.throttled();
    clock.t += 1000; // rate 60/s now
    const at = (await sendTimes(pacer, clock, 3)).map((t) => t - 1000);
    expect(at[0]).toBe(0);
    expect(at[1]).toBeGreaterThanOrEqual(16);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(16);
  });

  it('a burst of throttles within the cool-down halves once; later ones halve again, down to the floor', () => {
    const { pacer, clock } = fake({ perSecond: 100, cooldownMs: 500, recoveryPerSecond: 0 });
    pacer.throttled();
    clock.t += 100;
    pacer.throttled();
    pacer.throttled();
    expect(pacer.perSecond).toBe(50);
    for (let i = 0; i < 10; i++) {
      clock.t += 600;
      pacer.throttled();
    }
    expect(pacer.perSecond).toBe(100 / 32);
    expect(pacer.stats()).toMatchObject({ throttles: 13, backoffs: 5, lowestPerSecond: 3.13 }); // 100 → 50 → 25 → 12.5 → 6.25 → 3.125
  });

  it('recovers gradually: +perSecond/10 each second, back to the ceiling and no further', () => {
    const { pacer, clock } = fake({ perSecond: 100 });
    pacer.throttled();
    expect(pacer.perSecond).toBe(50);
    clock.t += 1000;
    expect(pacer.perSecond).toBeCloseTo(60);
    clock.t += 2000;
    expect(pacer.perSecond).toBeCloseTo(80);
    clock.t += 60_000;
    expect(pacer.perSecond).toBe(100);
    expect(pacer.stats().lowestPerSecond).toBe(50);
  });
});

describe('isThrottling', () => {
  it('knows the throttling errors, not the resource quota LimitExceededException', () => {
    expect(isThrottling(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { name: 'X', $metadata: { httpStatusCode: 429 } }))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { name: 'X', $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottling(Object.assign(new Error('too many versions'), { name: 'LimitExceededException' }))).toBe(false);
    expect(isThrottling(Object.assign(new Error('x'), { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }))).toBe(false);
    expect(isThrottling(undefined)).toBe(false);
  });
});
