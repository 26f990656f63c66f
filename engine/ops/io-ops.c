/* I/O op definitions: checkpoints (SaveV2, RestoreV2, as TF), record
 * readers over files (TFRecord, text lines, IDX), decoding (DecodeRaw,
 * DecodeCSV) and tf.train.Example parsing (ParseExample,
 * ParseSingleExample, dense features).
 *
 * TF's readers pull file names from a queue; Sluice's take them as an attr
 * and read them in order, num_epochs times (0: forever), which keeps the
 * input pipeline free of a second queue.  Their reads are
 * ReaderReadUpTo (TFRecord, text lines: keys and values as strings) and
 * IdxReaderReadUpTo (IDX files read in lockstep, so images and labels stay
 * paired whichever thread reads them).  Both fail with OUT_OF_RANGE once
 * every epoch is read, which stops a queue runner cleanly. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"

#define READER_ATTRS                                                                             \
    "filenames: list(string) >= 1", "num_epochs: int = 0", "container: string = ''",            \
        "shared_name: string = ''"

static const sl_op_spec io_ops[] = {
    {.name = "SaveV2", .inputs = {"prefix: string", "tensor_names: string", "shape_and_slices: string", "tensors: dtypes"},
     .attrs = {"dtypes: list(type) >= 1"}, .flags = SL_OP_STATEFUL,
     .summary = "writes tensors to a checkpoint (V2 format)"},
    {.name = "RestoreV2", .inputs = {"prefix: string", "tensor_names: string", "shape_and_slices: string"},
     .outputs = {"tensors: dtypes"}, .attrs = {"dtypes: list(type) >= 1"}, .flags = SL_OP_STATEFUL,
     .summary = "reads tensors from a checkpoint (V2 format)"},
    {.name = "TFRecordFileReader", .outputs = {"reader_handle: resource"},
     .attrs = {READER_ATTRS}, .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL,
     .summary = "a reader of the records of TFRecord files"},
    {.name = "TextLineFileReader", .outputs = {"reader_handle: resource"},
     .attrs = {READER_ATTRS, "skip_header_lines: int = 0"}, .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL,
     .summary = "a reader of the lines of text files"},
    {.name = "ReaderReadUpTo", .inputs = {"reader_handle: resource", "num_records: int64"},
     .outputs = {"keys: string", "values: string"}, .flags = SL_OP_STATEFUL,
     .summary = "up to num_records (key, value) pairs from a reader"},
    {.name = "IdxFileReader", .outputs = {"reader_handle: resource"},
     .attrs = {READER_ATTRS}, .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL,
     .summary = "a reader of IDX files (MNIST) read in lockstep"},
    {.name = "IdxReaderReadUpTo", .inputs = {"reader_handle: resource", "num_records: int64"},
     .outputs = {"components: dtypes"}, .attrs = {"dtypes: list(type) >= 1"}, .flags = SL_OP_STATEFUL,
     .summary = "up to num_records records of each IDX file, as [n, dims...] tensors"},
    {.name = "DecodeRaw", .inputs = {"bytes: string"}, .outputs = {"output: out_type"},
     .attrs = {"out_type: {half, float, double, int32, uint16, uint8, int16, int8, int64, bool}",
               "little_endian: bool = true"},
     .summary = "reinterprets the bytes of each string as a vector of out_type"},
    {.name = "DecodeCSV", .inputs = {"records: string", "record_defaults: OUT_TYPE"}, .outputs = {"output: OUT_TYPE"},
     .attrs = {"OUT_TYPE: list({float, double, int32, int64, string}) >= 1", "field_delim: string = ','",
               "use_quote_delim: bool = true", "na_value: string = ''", "select_cols: list(int) = []"},
     .shape_fn = sl__shape_all_like_input0, .summary = "splits CSV records into columns"},
    {.name = "ParseExample",
     .inputs = {"serialized: string", "names: string", "sparse_keys: Nsparse * string", "dense_keys: Ndense * string",
                "dense_defaults: Tdense"},
     .outputs = {"sparse_indices: Nsparse * int64", "sparse_values: sparse_types", "sparse_shapes: Nsparse * int64",
                 "dense_values: Tdense"},
     .attrs = {"Nsparse: int >= 0", "Ndense: int >= 0", "sparse_types: list({float, int64, string}) >= 0",
               "Tdense: list({float, int64, string}) >= 0", "dense_shapes: list(shape) >= 0"},
     .summary = "parses a batch of serialized tf.train.Example protos (dense features)"},
    {.name = "ParseSingleExample", .inputs = {"serialized: string", "dense_defaults: Tdense"},
     .outputs = {"sparse_indices: num_sparse * int64", "sparse_values: sparse_types",
                 "sparse_shapes: num_sparse * int64", "dense_values: Tdense"},
     .attrs = {"num_sparse: int >= 0", "sparse_keys: list(string) >= 0", "dense_keys: list(string) >= 0",
               "sparse_types: list({float, int64, string}) >= 0", "Tdense: list({float, int64, string}) >= 0",
               "dense_shapes: list(shape) >= 0"},
     .summary = "parses one serialized tf.train.Example proto (dense features)"},
};

void sl__ops_register_io(void);
void sl__ops_register_io(void)
{
    sl__op_register_table(io_ops, SL_COUNTOF(io_ops));
}
