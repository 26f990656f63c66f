/* Device names, placement and partitioning (paper 3.2).
 *
 * Device names have TF's form /job:J/replica:R/task:T/device:TYPE:N; any
 * part may be left out in a constraint ("/device:GPU:0", "/job:ps",
 * "/cpu:1"), and the legacy lower-case form "/cpu:0" is accepted.
 *
 * Placement assigns every node of a graph a device from a list: it honours
 * each node's device constraint (full or partial), colocation (a node that
 * takes a reference input sits with the variable; "_class" attrs
 * "loc:@name"), and kernel availability; unconstrained nodes are placed
 * greedily with a cost model (estimated from shapes, or measured costs when
 * given), as the paper's 3.2.1 describes.
 *
 * Partitioning then splits the graph into one graph per device, replacing
 * every cut edge with a _Send/_Recv pair, one _Recv per tensor per
 * destination device however many consumers (paper Figure 4).
 *
 * Thread-safety: pure functions over graphs that are not being modified.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "sluice/graph.h"
#include "sluice/macros.h"
#include "sluice/status.h"

SL_BEGIN_DECLS

#define SL_DEVICE_NAME_MAX 128
#define SL_DEVICE_PART_MAX 32

/* A parsed device name.  has_* say which parts were given. */
typedef struct sl_device_name {
    bool has_job, has_replica, has_task, has_type, has_id;
    char job[SL_DEVICE_PART_MAX];
    int replica;
    int task;
    char type[SL_DEVICE_PART_MAX];  /* upper case: "CPU", "GPU" */
    int id;
} sl_device_name;

/* Parses a full or partial name; "" parses to nothing given.  Returns
 * SL_INVALID_ARGUMENT naming the string and the bad part. */
SL_API sl_code sl_device_name_parse(const char *s, sl_device_name *out, sl_status *status);

/* Canonical form of the parts given ("/job:w/replica:0/task:1/device:GPU:0"). */
SL_API char *sl_device_name_format(const sl_device_name *name, char *buf, size_t size);

/* Whether a full device name satisfies a (partial) constraint. */
SL_API bool sl_device_name_matches(const sl_device_name *full, const sl_device_name *constraint);

/* Merges two constraints into one that satisfies both; SL_INVALID_ARGUMENT
 * when they conflict (different jobs, types, ids ...). */
SL_API sl_code sl_device_name_merge(const sl_device_name *a, const sl_device_name *b,
                                    sl_device_name *out, sl_status *status);

/* ---- Placement -------------------------------------------------------- */

typedef struct sl_placement_options {
    /* Measured cost of a node in microseconds, or < 0 when unknown (then
     * estimated from output sizes).  May be NULL. */
    double (*measured_cost)(const sl_node *node, void *arg);
    void *measured_cost_arg;
    /* Bytes per microsecond assumed for a transfer between devices. */
    double transfer_bytes_per_us;
    /* Place unconstrained nodes on the first feasible device instead of
     * by cost (the simple policy, and deterministic for tests). */
    bool simple;
} sl_placement_options;

/* Assigns each node of graph an index into devices[0..num_devices) (full
 * names).  assignment has sl_graph_num_nodes() entries.  Errors
 * (INVALID_ARGUMENT) name the nodes whose constraints cannot all hold:
 * no such device, a colocation group with conflicting constraints, or no
 * kernel for the op on any allowed device. */
SL_API sl_code sl_place(const sl_graph *graph, const char *const *devices, int num_devices,
                        const sl_placement_options *opts, int *assignment, sl_status *status);

/* ---- Partitioning ----------------------------------------------------- */

typedef struct sl_partition_options {
    /* Convert float32 tensors to half before a cross-device send and back
     * after the receive (paper 5.5); off by default. */
    bool compress_float32;
    /* Incarnation number written into the Send/Recv attrs. */
    int64_t incarnation;
} sl_partition_options;

typedef struct sl_partition {
    char *device;          /* full device name */
    sl_graph *graph;       /* owned */
    int num_sends;
    int num_recvs;
} sl_partition;

/* Splits graph by assignment (from sl_place) into one graph per device
 * that has nodes.  Node names stay the same; each cut edge src:k ->
 * consumers on device D becomes one _Send on src's device and one _Recv
 * on D ("<src>/_send_<k>_to_<d>", "<src>/_recv_<k>_on_<d>", d the device
 * index), with tensor_name "edge_<k>_<src>", send_device, recv_device and
 * send_device_incarnation set as TF sets them; the runtime builds the
 * rendezvous key "<send_device>;<incarnation hex>;<recv_device>;<tensor_name>;0:0".
 * A cross-device control edge becomes a send of a small Const.
 * Returns the partitions (caller frees with sl_partitions_free) and their
 * count, or NULL with the status set. */
SL_API sl_partition *sl_partition_graph(const sl_graph *graph, const char *const *devices,
                                        int num_devices, const int *assignment,
                                        const sl_partition_options *opts, int *num_partitions,
                                        sl_status *status);

SL_API void sl_partitions_free(sl_partition *partitions, int n);

SL_END_DECLS
