/* MatMul and BatchMatMul(V2) on cuBLAS (float, double). */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_matmul(void);
SL_END_DECLS
