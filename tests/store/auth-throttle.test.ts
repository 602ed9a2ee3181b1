// AuthThrottleStore on both engines: failures add up per key and window across replicas; old windows are pruned.
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

describeEachStore('auth throttle store', (engine) => {
  it('adds failures per key and window, across replicas and concurrently, and prunes old windows', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    expect(await a.addAuthFailures('bearer|127.0.0.2', minutes(0), 3)).toBe(3);
    // Concurrent adds from two replicas lose nothing.
    const totals = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).addAuthFailures('bearer|127.0.0.2', minutes(0), 1)),
    );
    expect(Math.max(...totals)).toBe(13);
    expect(new Set(totals).size).toBe(10);
    // Another door, another address or another window is another count.
    expect(await b.addAuthFailures('integration|127.0.0.2', minutes(0), 1)).toBe(1);
    expect(await b.addAuthFailures('bearer|::1', minutes(0), 1)).toBe(1);
    expect(await a.addAuthFailures('bearer|127.0.0.2', minutes(5), 2)).toBe(2);

    expect(await b.pruneAuthFailures(minutes(5))).toBe(3);
    expect(await a.addAuthFailures('bearer|127.0.0.2', minutes(0), 1)).toBe(1);
    expect(await a.addAuthFailures('bearer|127.0.0.2', minutes(5), 1)).toBe(3);
  });
});
