/* Registers the training library's CPU kernels with the built-in ones. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "train-private.h"

void sl__train_kernels_register(void)
{
    sl_status *st = sl_status_new();
    if (sl__train_register_grad_kernels(st) != SL_OK || sl__train_register_training_kernels(st) != SL_OK ||
        sl__train_register_checkpoint_kernels(st) != SL_OK) {
        fprintf(stderr, "sluice: bad built-in training kernel: %s\n", sl_status_message(st));
        abort();
    }
    sl_status_free(st);
}
