/* Internal helpers shared by the CPU kernels. */
#pragma once

#include "kernel-ctx-private.h"
#include "sluice/kernel.h"

#define SL_COUNTOF_K(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Registers a static table; a bad def is a programmer error and aborts. */
void sl__kernel_register_table(const sl_kernel_def *defs, int n);
