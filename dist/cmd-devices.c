/* `sluice devices`: the devices this machine offers, in TF's names: the
 * CPU, then each GPU with its name, compute capability and memory.  Where
 * there is no GPU (no CUDA in this build, no driver, no device) it says so
 * in one line and the CPU is still listed: that is not an error. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "sluice/gpu.h"
#include "sluice/threadpool.h"

#define DEVICE_PREFIX "/job:localhost/replica:0/task:0/device:"

int sl_cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: sluice devices\n\nLists the CPU and GPU devices of this machine.\n");
            return 0;
        }
        fprintf(stderr, "usage: sluice devices\n");
        return sl_cli_error("devices: unknown argument '%s'", argv[i]) + 1;
    }
    printf("%sCPU:0  CPU (%d cores)\n", DEVICE_PREFIX, sl_threadpool_online_cpus());
    int n = sl_gpu_count();
    for (int i = 0; i < n; i++) {
        sl_gpu_info info;
        sl_status *st = sl_status_new();
        if (sl_gpu_get_info(i, &info, st) == SL_OK)
            printf("%sGPU:%d  %s (sm_%d%d, %.1f GiB, %d SMs)\n", DEVICE_PREFIX, i, info.name, info.cc_major,
                   info.cc_minor, (double)info.total_memory / (1024.0 * 1024 * 1024), info.multiprocessors);
        sl_status_free(st);
    }
    if (n == 0)
        printf("%s\n", sl_gpu_message());
    return 0;
}
