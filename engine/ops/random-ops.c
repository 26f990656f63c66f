/* Random op definitions: seeded uniform, normal and truncated normal. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"
#include "type-sets.h"

#define RANDOM(op, doc)                                                                         \
    {.name = op, .inputs = {"shape: T"}, .outputs = {"output: dtype"},                          \
     .attrs = {"seed: int = 0", "seed2: int = 0", "dtype: " SL_FLOAT_TYPES, "T: {int32, int64}"}, \
     .shape_fn = sl__shape_from_input0_value, .flags = SL_OP_STATEFUL, .summary = doc}

static const sl_op_spec random_ops[] = {
    RANDOM("RandomUniform", "uniform values in [0, 1)"),
    RANDOM("RandomStandardNormal", "normal values with mean 0 and deviation 1"),
    RANDOM("TruncatedNormal", "normal values, redrawn beyond two deviations"),
    {.name = "RandomShuffle", .inputs = {"value: T"}, .outputs = {"output: T"},
     .attrs = {"seed: int = 0", "seed2: int = 0", "T: type"}, .shape_fn = sl__shape_unchanged,
     .flags = SL_OP_STATEFUL, .summary = "shuffles along the first dimension"},
};

void sl__ops_register_random(void);
void sl__ops_register_random(void)
{
    sl__op_register_table(random_ops, SL_COUNTOF(random_ops));
}
