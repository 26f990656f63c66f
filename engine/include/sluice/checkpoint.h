/* Checkpoints in TensorFlow's checkpoint V2 format (TensorBundle): a
 * "<prefix>.index" file (a LevelDB-style sorted table mapping each tensor
 * name to a BundleEntryProto, with the BundleHeaderProto under the empty
 * key) and "<prefix>.data-00000-of-00001" (the tensors' bytes laid end to
 * end).  Files written here read with tf.train.load_checkpoint; TF's files
 * read here, strings included (see ../shared/FORMATS.md section 4).
 *
 *     sl_checkpoint_reader *r = sl_checkpoint_open("run/model.ckpt-100", status);
 *     for (int i = 0; i < sl_checkpoint_num_entries(r); i++)
 *         puts(sl_checkpoint_entry_name(r, i));
 *     sl_tensor *w = sl_checkpoint_read(r, "dense/kernel", status);
 *     sl_checkpoint_close(r);
 *
 * Every block and tensor checksum (masked CRC-32C) is verified; a
 * mismatch, a bad magic number or a truncated file is SL_DATA_LOSS naming
 * the file and what is wrong.  Partitioned variables (slices) are not
 * supported (SL_UNIMPLEMENTED naming the tensor).
 *
 * Thread-safety: a reader may be used from one thread at a time; the
 * writer function is reentrant.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "sluice/macros.h"
#include "sluice/shape.h"
#include "sluice/status.h"
#include "sluice/summaries/crc32c.h"  /* sl_crc32c_extend, sl_crc32c_mask */
#include "sluice/tensor.h"

SL_BEGIN_DECLS

typedef struct sl_checkpoint_reader sl_checkpoint_reader;

/* Opens the checkpoint `prefix` (the path without ".index"), reading and
 * verifying its index.  NULL + status: SL_NOT_FOUND when the index file is
 * missing, SL_DATA_LOSS for a corrupt one, SL_UNIMPLEMENTED for a
 * big-endian or multi-shard bundle whose shards are missing.  Caller owns
 * the reader. */
SL_API sl_checkpoint_reader *sl_checkpoint_open(const char *prefix, sl_status *status);
SL_API void sl_checkpoint_close(sl_checkpoint_reader *reader);  /* NULL-safe */

/* Tensor entries in name order (the header entry is not one of them). */
SL_API int sl_checkpoint_num_entries(const sl_checkpoint_reader *reader);
SL_API const char *sl_checkpoint_entry_name(const sl_checkpoint_reader *reader, int i);  /* borrowed */
SL_API sl_dtype sl_checkpoint_entry_dtype(const sl_checkpoint_reader *reader, int i);
SL_API const sl_shape *sl_checkpoint_entry_shape(const sl_checkpoint_reader *reader, int i);  /* borrowed */
/* Index of the entry named `name`, or -1. */
SL_API int sl_checkpoint_find(const sl_checkpoint_reader *reader, const char *name);

/* Reads one tensor (caller owns it), checking its checksum.  NULL +
 * status: SL_NOT_FOUND for an unknown name, SL_DATA_LOSS for bad bytes. */
SL_API sl_tensor *sl_checkpoint_read(sl_checkpoint_reader *reader, const char *name, sl_status *status);

/* Writes the n tensors under their names (distinct, non-empty) as the
 * checkpoint `prefix`: to temporary names first, renamed into place only
 * when both files are complete and synced, so a crash leaves any previous
 * checkpoint of that prefix intact.  Tensors are borrowed.  Errors:
 * SL_INVALID_ARGUMENT (duplicate or empty name, a dtype without a byte
 * layout), SL_PERMISSION_DENIED / SL_INTERNAL for I/O (naming the file). */
SL_API sl_code sl_checkpoint_write(const char *prefix, const char *const *names,
                                   const sl_tensor *const *tensors, int n, sl_status *status);


SL_END_DECLS
