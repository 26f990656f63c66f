/* Array kernels: Transpose, Slice, Tile, Pad, Concat(V2), Pack, Split(V), Unpack, Gather(V2), OneHot, Fill, ZerosLike, OnesLike. */
#pragma once

#include "gpu-device.h"

SL_BEGIN_DECLS
void sl__cuda_register_array(void);
SL_END_DECLS
