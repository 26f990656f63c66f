/* Timing helpers for the benchmarks: a monotonic clock and the median of
 * repeated runs after a warm-up. */
#pragma once

#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median seconds of `reps` runs of fn(arg) after one warm-up run. */
static inline double bench_median(void (*fn)(void *), void *arg, int reps)
{
    double t[64];
    fn(arg);
    for (int i = 0; i < reps && i < 64; i++) {
        double t0 = bench_now();
        fn(arg);
        t[i] = bench_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof(double), bench_cmp);
    return t[reps / 2];
}
