/* Internal to engine/train: the kernels the training library registers
 * itself (see sl_train_init in sluice/train.h). */
#pragma once

#include "sluice/kernel.h"
#include "sluice/status.h"

sl_code sl__train_register_grad_kernels(sl_status *status);
sl_code sl__train_register_checkpoint_kernels(sl_status *status);
sl_code sl__train_register_training_kernels(sl_status *status);
