/* MaxPool, AvgPool and their gradients (NHWC). */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_pool(void);
SL_END_DECLS
