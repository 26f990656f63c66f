/* Conv2D and its two gradients on cuDNN (NHWC in, NCHW inside). */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_conv(void);
SL_END_DECLS
