/* Datasets of `sluice train` (train-data.c): examples loaded into memory
 * as one column per input feature. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "run_spec.pb-c.h"
#include "sluice/status.h"

typedef struct sl_column {
    bool is_float;   /* float values, else int64 */
    int64_t per;     /* values per example */
    void *data;      /* n * per values */
} sl_column;

typedef struct sl_dataset {
    int64_t n;       /* examples */
    int ncols;
    sl_column *cols; /* one per requested feature, in order */
} sl_dataset;

/* Loads the features[0..nf) of the dataset `spec` (paths relative to
 * base); scales[i] != 0 multiplies float values.  NULL + status naming
 * the file (and record, feature) on failure. */
sl_dataset *sl_dataset_load(const Sluice__Dataset *spec, const char *base, const char *const *features,
                            const float *scales, int nf, sl_status *st);
void sl_dataset_free(sl_dataset *d);

/* p relative to base ("~/" is the home folder); malloc'd. */
char *sl_train_path(const char *base, const char *p);
