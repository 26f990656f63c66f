/* Row kernels: Softmax, LogSoftmax, the softmax cross-entropies, BiasAdd, BiasAddGrad. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_softmax(void);
SL_END_DECLS
