/* sl_train_init(): registers, once per process, the CPU kernels that the
 * training library brings (gradient-only ops, SaveV2/RestoreV2). */
#include "config.h"

#include <pthread.h>

#include "sluice/train.h"
#include "train-private.h"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static sl_code g_code = SL_OK;

static void init_once(void)
{
    sl_status *st = sl_status_new();
    g_code = sl__train_register_grad_kernels(st);
    if (g_code == SL_OK)
        g_code = sl__train_register_checkpoint_kernels(st);
    if (g_code == SL_OK)
        g_code = sl__train_register_training_kernels(st);
    sl_status_free(st);
}

sl_code sl_train_init(sl_status *status)
{
    pthread_once(&g_once, init_once);
    if (g_code != SL_OK)
        return sl_status_set(status, g_code, "cannot register the training kernels");
    sl_status_clear(status);
    return SL_OK;
}
