#include "state/gcra.h"

bool gcra_take(struct gcra *limit, uint64_t now_us, uint32_t rate, uint32_t burst)
{
    if (rate == 0) {
        return true;
    }
    uint64_t interval = 1000000u / rate;
    uint64_t tolerance = (uint64_t)(burst == 0 ? 1 : burst) * interval;
    uint64_t tat = atomic_load(&limit->tat_us);
    for (;;) {
        uint64_t start = tat > now_us ? tat : now_us;
        if (start + interval - now_us > tolerance) {
            return false; /* the burst is used up: wait for the next interval */
        }
        if (atomic_compare_exchange_weak(&limit->tat_us, &tat, start + interval)) {
            return true;
        }
    }
}
