/* Internal to engine/train: the CPU kernels the training library brings
 * (gradient-only ops and the optimizer updates), registered with the other
 * built-in kernels from engine/kernels/cpu/cpu-kernels.c. */
#pragma once

#include "sluice/kernel.h"
#include "sluice/status.h"

sl_code sl__train_register_grad_kernels(sl_status *status);
sl_code sl__train_register_training_kernels(sl_status *status);
sl_code sl__train_register_checkpoint_kernels(sl_status *status);

/* Registers both sets; a failure is a programmer error and aborts. */
void sl__train_kernels_register(void);
