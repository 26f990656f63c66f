/* RandomUniform, RandomStandardNormal, TruncatedNormal on the CPU's Philox stream. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_random(void);
SL_END_DECLS
