/* The training library: symbolic gradients (sluice/gradients.h),
 * optimizers (sluice/optimizers.h), layers (sluice/layers.h) and
 * checkpoints (sluice/checkpoint.h).
 *
 * sl_train_init() registers the CPU kernels the library brings (those of
 * ops only gradients and checkpoints use: StridedSliceGrad,
 * UnsortedSegmentSum, SaveV2, RestoreV2).  The library's own entry points
 * call it, so a program needs to call it only to run, in a session, a
 * graph it loaded from a file without calling any of them.
 *
 * Thread-safety: safe from any thread; the work happens once.
 */
#pragma once

#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

/* Returns SL_OK, or the registration error (SL_RESOURCE_EXHAUSTED). */
SL_API sl_code sl_train_init(sl_status *status);

SL_END_DECLS
