/* Internal to engine/io: byte-order help shared by the IDX loader and the
 * reader kernels, and the registration of the input kernels (called with
 * the other built-in kernels). */
#pragma once

#include <stddef.h>

#include "sluice/kernel.h"
#include "sluice/status.h"

/* Big-endian elements of `elem` bytes to host order, n of them, in place. */
void sl__io_to_host(void *data, size_t elem, size_t n);

sl_code sl__io_register_reader_kernels(sl_status *status);
sl_code sl__io_register_decode_kernels(sl_status *status);
sl_code sl__io_register_summary_kernels(sl_status *status);

/* Registers both sets; a failure is a programmer error and aborts. */
void sl__io_kernels_register(void);
