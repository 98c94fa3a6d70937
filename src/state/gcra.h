/*
 * A rate limit without a lock (the generic cell rate algorithm, as ATM and many rate
 * limiters use it): one 64-bit "theoretical arrival time" per limited thing. Allowing
 * `rate` events per second with bursts of up to `burst` events. Any thread; one atomic
 * compare-and-swap per decision. The caller owns the storage (zeroed = full burst).
 */
#ifndef SW_STATE_GCRA_H
#define SW_STATE_GCRA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct gcra {
    _Atomic uint64_t tat_us; /* when the limiter is back to empty, in the caller's clock */
};

/*
 * Takes one event at `now_us` (a monotonic clock in microseconds): true when it fits in
 * `rate` per second with bursts of `burst` (both at least 1; rate 0 = no limit).
 */
bool gcra_take(struct gcra *limit, uint64_t now_us, uint32_t rate, uint32_t burst);

#endif
