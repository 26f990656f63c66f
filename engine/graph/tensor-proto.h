/* Conversion between tensorflow.TensorProto and sl_tensor: Const values,
 * tensor attrs, and later checkpoints and the wire. */
#pragma once

#include "sluice/tensor.h"
#include "tensor.pb-c.h"

/* Builds a tensor from a TensorProto, accepting both representations
 * (tensor_content, or the *_val field of the dtype, where fewer values than
 * elements repeat the last one, as TF does).  NULL + INVALID_ARGUMENT for a
 * bad dtype, shape or a size mismatch (the message gives both sizes). */
sl_tensor *sl__tensor_from_proto(const Tensorflow__TensorProto *proto, sl_status *status);

/* A TensorProto holding t (tensor_content for numbers, string_val for
 * strings), allocated for protobuf_c_message_free_unpacked(p, NULL).
 * NULL + RESOURCE_EXHAUSTED on OOM. */
Tensorflow__TensorProto *sl__tensor_to_proto(const sl_tensor *t, sl_status *status);
