/* Relu, Sigmoid, Tanh and Elu forward on cuDNN (float, double). */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_activation(void);
SL_END_DECLS
