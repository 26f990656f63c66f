/* Reductions: Sum, Mean, Prod, Max, Min, All, Any, ArgMax, ArgMin. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_reduce(void);
SL_END_DECLS
