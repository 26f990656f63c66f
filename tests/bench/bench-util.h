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

/* Seconds per run of fn(arg): the better of two passes, each the median
 * of `reps` runs after a warm-up run (PEERS.md's method). */
static inline double bench_median(void (*fn)(void *), void *arg, int reps)
{
    double t[64], best = 0;
    if (reps > 64)
        reps = 64;
    fn(arg);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < reps; i++) {
            double t0 = bench_now();
            fn(arg);
            t[i] = bench_now() - t0;
        }
        qsort(t, (size_t)reps, sizeof(double), bench_cmp);
        if (pass == 0 || t[reps / 2] < best)
            best = t[reps / 2];
    }
    return best;
}

/* Two functions timed alternately (a, b, a, b, ...) so that both see the
 * same load on a shared machine: medians of `reps` runs each after a
 * warm-up, better of two passes, into *ta and *tb. */
static inline void bench_pair(void (*fa)(void *), void *aa, void (*fb)(void *), void *ab, int reps, double *ta,
                              double *tb)
{
    double t[2][64];
    if (reps > 64)
        reps = 64;
    fa(aa);
    fb(ab);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < reps; i++) {
            double t0 = bench_now();
            fa(aa);
            double t1 = bench_now();
            fb(ab);
            t[0][i] = t1 - t0;
            t[1][i] = bench_now() - t1;
        }
        qsort(t[0], (size_t)reps, sizeof(double), bench_cmp);
        qsort(t[1], (size_t)reps, sizeof(double), bench_cmp);
        if (pass == 0 || t[0][reps / 2] < *ta)
            *ta = t[0][reps / 2];
        if (pass == 0 || t[1][reps / 2] < *tb)
            *tb = t[1][reps / 2];
    }
}
