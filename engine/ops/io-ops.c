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

/* ---- Summaries (TF1's summary ops and TF2's summary-writer resource) ---- */

#define REAL_TYPES "{float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64}"

static const sl_op_spec summary_ops[] = {
    {.name = "ScalarSummary", .inputs = {"tags: string", "values: T"}, .outputs = {"summary: string"},
     .attrs = {"T: " REAL_TYPES}, .shape_fn = sl__shape_scalar,
     .summary = "a Summary of simple_value scalars, one per tag"},
    {.name = "HistogramSummary", .inputs = {"tag: string", "values: T"}, .outputs = {"summary: string"},
     .attrs = {"T: " REAL_TYPES " = DT_FLOAT"}, .shape_fn = sl__shape_scalar,
     .summary = "a Summary with a histogram (TF1's exponential buckets) of values"},
    {.name = "ImageSummary", .inputs = {"tag: string", "tensor: T"}, .outputs = {"summary: string"},
     .attrs = {"max_images: int >= 1 = 3", "T: {uint8, float, half, double} = DT_FLOAT"},
     .shape_fn = sl__shape_scalar, .summary = "a Summary of up to max_images PNG images of [batch, h, w, c]"},
    {.name = "TensorSummaryV2", .inputs = {"tag: string", "tensor: T", "serialized_summary_metadata: string"},
     .outputs = {"summary: string"}, .attrs = {"T: type"}, .shape_fn = sl__shape_scalar,
     .summary = "a Summary holding a tensor with plugin metadata"},
    {.name = "TensorSummary", .inputs = {"tensor: T"}, .outputs = {"summary: string"},
     .attrs = {"T: type", "description: string = ''", "labels: list(string) = []", "display_name: string = ''"},
     .shape_fn = sl__shape_scalar, .summary = "a Summary holding a tensor"},
    {.name = "MergeSummary", .inputs = {"inputs: N * string"}, .outputs = {"summary: string"},
     .attrs = {"N: int >= 1"}, .shape_fn = sl__shape_scalar, .summary = "the union of serialized Summary protos"},
    {.name = "SummaryWriter", .outputs = {"writer: resource"},
     .attrs = {"shared_name: string = ''", "container: string = ''"}, .shape_fn = sl__shape_scalar,
     .flags = SL_OP_STATEFUL, .summary = "a handle to an event-file writer"},
    {.name = "CreateSummaryFileWriter",
     .inputs = {"writer: resource", "logdir: string", "max_queue: int32", "flush_millis: int32", "filename_suffix: string"},
     .flags = SL_OP_STATEFUL, .summary = "opens an event file in logdir for the writer"},
    {.name = "WriteSummary", .inputs = {"writer: resource", "step: int64", "tensor: T", "tag: string", "summary_metadata: string"},
     .attrs = {"T: type"}, .flags = SL_OP_STATEFUL, .summary = "writes a tensor summary"},
    {.name = "WriteScalarSummary", .inputs = {"writer: resource", "step: int64", "tag: string", "value: T"},
     .attrs = {"T: " REAL_TYPES}, .flags = SL_OP_STATEFUL, .summary = "writes a scalar (TF2 form)"},
    {.name = "WriteHistogramSummary", .inputs = {"writer: resource", "step: int64", "tag: string", "values: T"},
     .attrs = {"T: " REAL_TYPES " = DT_FLOAT"}, .flags = SL_OP_STATEFUL, .summary = "writes a histogram (TF2 form)"},
    {.name = "WriteRawProtoSummary", .inputs = {"writer: resource", "step: int64", "tensor: string"},
     .flags = SL_OP_STATEFUL, .summary = "writes serialized Summary protos (MergeSummary's output)"},
    {.name = "FlushSummaryWriter", .inputs = {"writer: resource"}, .flags = SL_OP_STATEFUL,
     .summary = "hands what the writer queued to the file"},
    {.name = "CloseSummaryWriter", .inputs = {"writer: resource"}, .flags = SL_OP_STATEFUL,
     .summary = "flushes and closes the writer's event file"},
};

void sl__ops_register_summary(void);
void sl__ops_register_summary(void)
{
    sl__op_register_table(summary_ops, SL_COUNTOF(summary_ops));
}
