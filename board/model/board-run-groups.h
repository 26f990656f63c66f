/* Grouping runs (seeds of one configuration, say) and drawing a group as
 * one line: the mean across its runs with a min-max or a ±std band.
 *
 * TensorBoard cannot do this (its issues 376, 1503, 1450); Aim and W&B
 * can.  The group of a run comes from its name:
 *   - PREFIX: the name without its last path component ("lr0.1/seed3" ->
 *     "lr0.1"); a name without '/' loses a trailing number and the
 *     separator and word before it ("run_seed-3" -> "run", "exp_2" ->
 *     "exp");
 *   - REGEX: the text of the capture groups joined by '/', or the whole
 *     match when the pattern has no groups; runs it does not match stay
 *     on their own.
 *
 * Aggregation aligns the runs by step: at every step any run has, each
 * run contributes its value there, or the linear interpolation between
 * its neighbouring points when the step lies inside its range; runs that
 * have not reached the step (or started after it) do not count.
 *
 * Thread-safety: pure functions; safe from any thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    BOARD_GROUP_NONE = 0,
    BOARD_GROUP_PREFIX = 1,
    BOARD_GROUP_REGEX = 2,
} BoardGroupMode;

typedef enum {
    BOARD_BAND_MINMAX = 0,
    BOARD_BAND_STD = 1,
} BoardBandMode;

/* The group of run `name`, newly allocated, or NULL when the run stays on
 * its own.  `regex` is used in REGEX mode only (may be NULL there too:
 * no groups). */
char *board_run_group_key (const char *name, BoardGroupMode mode, GRegex *regex);

/* One input series of an aggregate: n points with steps ascending. */
typedef struct {
    const double *steps;
    const double *values;   /* non-finite values are skipped */
    size_t n;
} BoardAggInput;

/* The aggregate of a group, every array of length n. */
typedef struct {
    size_t n;
    double *steps;
    double *mean;
    double *min;
    double *max;
    double *std;     /* population standard deviation */
    int *count;      /* runs that contributed */
} BoardAggregate;

/* Aggregates `n_inputs` series (see the header comment).  Caller frees
 * the result with board_aggregate_free().  Cost: O(S log S + S * runs)
 * where S is the number of distinct steps. */
BoardAggregate *board_aggregate (const BoardAggInput *inputs, size_t n_inputs);
void board_aggregate_free (BoardAggregate *a);

G_END_DECLS
