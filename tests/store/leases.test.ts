// LeaseStore on both engines: one owner at a time per name across replicas, extended by its holder, free at expiry.
import { describeEachStore } from '../support/stores';
import { minutes } from './records';

describeEachStore('lease store', (engine) => {
  it('have one holder per name; the holder extends it, a lapsed lease goes to whoever asks', async () => {
    const a = await engine.fresh();
    const b = await engine.another();
    const claims = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claimLease('alert-forwarding:INC-1', `replica-${i}`, minutes(0), minutes(1))),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    const holder = `replica-${claims.indexOf(true)}`;
    expect(await a.claimLease('alert-forwarding:INC-1', holder, minutes(0.5), minutes(2))).toBe(true);
    expect(await b.claimLease('alert-forwarding:INC-1', 'other', minutes(1.5), minutes(3))).toBe(false);
    // Another name is another lease.
    expect(await b.claimLease('alert-forwarding:INC-2', 'other', minutes(1.5), minutes(3))).toBe(true);
    // The holder died: at its expiry the lease is free.
    expect(await b.claimLease('alert-forwarding:INC-1', 'other', minutes(2), minutes(4))).toBe(true);
    // Releasing someone else's lease changes nothing; releasing one's own frees it at once.
    await a.releaseLease('alert-forwarding:INC-1', holder);
    expect(await a.claimLease('alert-forwarding:INC-1', holder, minutes(2.5), minutes(5))).toBe(false);
    await b.releaseLease('alert-forwarding:INC-1', 'other');
    expect(await a.claimLease('alert-forwarding:INC-1', holder, minutes(2.5), minutes(5))).toBe(true);
  });
});
