/* What the executor asks of the GPU device when it runs a partition that
 * was placed on a GPU.  Implemented by engine/kernels/cuda/gpu-runtime.c,
 * and by engine/kernels/gpu-none.c in a build without CUDA, where no
 * session ever lists a GPU, so these are never reached.
 *
 * GPU kernels take most arguments in device memory and a few (shapes,
 * axes, permutations) in host memory, as TF's HostMemory; a tensor may
 * reach a GPU node from either side (a _Recv gives device tensors, a folded
 * constant or a host-memory output gives host tensors).  The executor
 * therefore moves each value input to the memory its kernel wants just
 * before the kernel runs.
 *
 * Thread-safety: every function may be called from any executor thread;
 * they work on the device bound to the calling thread (GPU:0 by default). */
#pragma once

#include "kernel-ctx-private.h"
#include "sluice/kernel.h"
#include "sluice/status.h"

/* Moves the value inputs ins[i] (those with is_ref[i] == 0) of `node`'s
 * GPU kernel to host or device memory as the kernel takes them, replacing
 * the slot's tensor (the old reference is dropped).  SL_OK, or the copy's
 * error naming the input. */
sl_code sl__gpu_move_inputs(const sl_kernel_def *kernel, const sl_node *node, sl_kernel_value *ins,
                            const unsigned char *is_ref, int n, sl_status *st);

/* A host tensor with t's contents: a new reference to t itself when it is
 * already in host memory, else a copy made after the queued work.  NULL
 * with st set when the copy fails. */
sl_tensor *sl__gpu_fetch_to_host(sl_tensor *t, sl_status *st);

/* Waits for the work a step queued on the device and reports an
 * asynchronous kernel error (a step must not succeed with one pending). */
sl_code sl__gpu_step_end(sl_status *st);
