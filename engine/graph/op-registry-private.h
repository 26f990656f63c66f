/* Internal interface of the op registry, shared by graph/ and ops/. */
#pragma once

#include "sluice/op.h"

/* Registers every spec of a static table; a malformed spec is a programmer
 * error and aborts with its message (tables are checked by the tests). */
void sl__op_register_table(const sl_op_spec *specs, int n);

/* Defined in engine/ops/ops.c: registers all built-in ops. */
void sl__ops_register_builtin(void);

#define SL_COUNTOF(a) ((int)(sizeof(a) / sizeof((a)[0])))
