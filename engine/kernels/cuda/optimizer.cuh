/* The optimizer updates: ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyAdagrad, ApplyRMSProp. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_optimizer(void);
SL_END_DECLS
