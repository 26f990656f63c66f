/* Op registry: what each operation is, independent of any kernel.
 *
 * An op is registered once with TensorFlow-style signature strings, which
 * keeps hundreds of definitions short and readable, as in TF's REGISTER_OP:
 *
 *     static const sl_op_spec matmul = {
 *         .name = "MatMul",
 *         .inputs = {"a: T", "b: T"},
 *         .outputs = {"product: T"},
 *         .attrs = {"transpose_a: bool = false", "transpose_b: bool = false",
 *                   "T: {half, bfloat16, float, double, int32, int64}"},
 *         .shape_fn = matmul_shape,
 *     };
 *
 * Argument specs: "name: float" (fixed type), "name: T" (type attr),
 * "name: N * T" (N tensors of type T; N an int attr), "name: Tlist" (a
 * list(type) attr gives one tensor per entry), "name: Ref(T)" (a reference,
 * for TF1 variables).  Attr specs: "name: TYPE [= DEFAULT]" where TYPE is
 * string, int, float, bool, type, shape, tensor, func, list(...) of those,
 * a type set "{float, int32}" (a type attr restricted to it), or a string
 * set "{'SAME', 'VALID'}"; "int >= 1" and "list(type) >= 1" set minimums.
 * Defaults are in text format ("false", "DT_FLOAT", "'VALID'", "[]", "1e-4").
 *
 * Thread-safety: registration happens once, before the first lookup (under
 * pthread_once); after that the registry is immutable and lookups are safe
 * from any thread.  Op definitions live for the whole process.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/dtype.h"
#include "sluice/macros.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

#define SL_OP_MAX_ARGS 16
#define SL_OP_MAX_ATTRS 24
#define SL_OP_MAX_TYPES 24

typedef struct sl_node sl_node;
typedef struct sl_shape_ctx sl_shape_ctx;

/* Computes output shapes from input shapes (and constant inputs and
 * attrs).  Returns SL_OK, or an error set through sl_shape_ctx_error(). */
typedef sl_code (*sl_shape_fn)(sl_shape_ctx *ctx);

enum sl_op_flags {
    SL_OP_STATEFUL = 1 << 0,       /* has side effects or hidden state: never folded or merged */
    SL_OP_COMMUTATIVE = 1 << 1,    /* binary op whose inputs may be swapped (for CSE) */
    SL_OP_CONTROL_FLOW = 1 << 2,   /* Switch, Merge, Enter, Exit, NextIteration, LoopCond */
    SL_OP_ALLOWS_UNINITIALIZED_INPUT = 1 << 3, /* Assign, IsVariableInitialized */
};

typedef struct sl_op_spec {
    const char *name;
    const char *inputs[SL_OP_MAX_ARGS];   /* NULL-terminated (unused slots are NULL) */
    const char *outputs[SL_OP_MAX_ARGS];
    const char *attrs[SL_OP_MAX_ATTRS];
    sl_shape_fn shape_fn;                 /* NULL: outputs get unknown shapes */
    unsigned flags;                       /* enum sl_op_flags */
    const char *summary;                  /* one line for palettes and --help */
} sl_op_spec;

typedef enum sl_attr_type {
    SL_ATTR_STRING, SL_ATTR_INT, SL_ATTR_FLOAT, SL_ATTR_BOOL, SL_ATTR_TYPE, SL_ATTR_SHAPE,
    SL_ATTR_TENSOR, SL_ATTR_FUNC,
    SL_ATTR_LIST_STRING, SL_ATTR_LIST_INT, SL_ATTR_LIST_FLOAT, SL_ATTR_LIST_BOOL,
    SL_ATTR_LIST_TYPE, SL_ATTR_LIST_SHAPE, SL_ATTR_LIST_TENSOR, SL_ATTR_LIST_FUNC,
} sl_attr_type;

/* A parsed argument of an op signature. */
typedef struct sl_op_arg {
    char *name;
    sl_dtype type;          /* fixed type, or SL_DTYPE_INVALID when given by an attr */
    char *type_attr;        /* "T" for "x: T" and "x: N * T"; NULL otherwise */
    char *number_attr;      /* "N" for "x: N * T"; NULL otherwise */
    char *type_list_attr;   /* "Tlist" for "x: Tlist"; NULL otherwise */
    bool is_ref;            /* Ref(...) */
} sl_op_arg;

/* A parsed attr of an op signature. */
typedef struct sl_op_attr {
    char *name;
    sl_attr_type type;
    bool has_default;
    void *default_value;     /* a Tensorflow__AttrValue (see sluice/graphdef.h); NULL if none */
    bool has_minimum;
    int64_t minimum;         /* for int (value) and list (length) attrs */
    int num_allowed_types;   /* > 0: type attr restricted to allowed_types */
    sl_dtype allowed_types[SL_OP_MAX_TYPES];
    int num_allowed_strings; /* > 0: string attr restricted to allowed_strings */
    char **allowed_strings;
} sl_op_attr;

/* A registered op.  Fields are read-only for everyone but the registry. */
typedef struct sl_op_def {
    char *name;
    int num_inputs;
    sl_op_arg *inputs;
    int num_outputs;
    sl_op_arg *outputs;
    int num_attrs;
    sl_op_attr *attrs;
    sl_shape_fn shape_fn;
    unsigned flags;
    const char *summary;
} sl_op_def;

/* Registers an op.  Fails with SL_ALREADY_EXISTS for a second registration
 * of the name and SL_INVALID_ARGUMENT for a malformed spec (the message
 * names the op and the bad spec string).  The spec's strings are parsed and
 * copied; the spec itself is not kept. */
SL_API sl_code sl_op_register(const sl_op_spec *spec, sl_status *status);

/* Looks up an op by name, registering the built-in ops on first use.
 * Returns NULL when there is no such op.  Borrowed, valid forever. */
SL_API const sl_op_def *sl_op_lookup(const char *name);

/* Number of registered ops and the i-th in name order (for palettes). */
SL_API int sl_op_count(void);
SL_API const sl_op_def *sl_op_at(int i);

/* The attr named `name` of op, or NULL. */
SL_API const sl_op_attr *sl_op_def_find_attr(const sl_op_def *op, const char *name);

SL_API const char *sl_attr_type_name(sl_attr_type type);  /* "list(int)" */

/* ---- Shape-function context ------------------------------------------ */

SL_API const sl_node *sl_shape_ctx_node(const sl_shape_ctx *ctx);
SL_API int sl_shape_ctx_num_inputs(const sl_shape_ctx *ctx);
SL_API int sl_shape_ctx_num_outputs(const sl_shape_ctx *ctx);
/* Shape of input i as known so far (possibly unknown).  Borrowed. */
SL_API const sl_shape *sl_shape_ctx_input(const sl_shape_ctx *ctx, int i);
SL_API sl_dtype sl_shape_ctx_input_dtype(const sl_shape_ctx *ctx, int i);
/* Value of input i when it is a constant known at graph construction (a
 * Const node, possibly through Identity), else NULL.  Borrowed. */
SL_API const sl_tensor *sl_shape_ctx_input_tensor(const sl_shape_ctx *ctx, int i);
/* Interprets input i, an int32/int64 vector that is a shape, as a shape:
 * known values where the input is constant, else unknown dims of the
 * known length (or unknown rank).  -1 entries are unknown dims. */
SL_API sl_code sl_shape_ctx_input_as_shape(sl_shape_ctx *ctx, int i, sl_shape *out);
SL_API void sl_shape_ctx_set_output(sl_shape_ctx *ctx, int i, const sl_shape *shape);
/* Sets SL_INVALID_ARGUMENT with the message; the caller adds the node name.
 * Returns SL_INVALID_ARGUMENT. */
SL_API sl_code sl_shape_ctx_error(sl_shape_ctx *ctx, const char *fmt, ...) SL_PRINTF(2, 3);

SL_END_DECLS
