/* Elementwise kernels on the GPU: unary math, binary ops with NumPy
 * broadcasting, AddN, Select/SelectV2, the activation gradients and Cast. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_elementwise(void);
SL_END_DECLS
