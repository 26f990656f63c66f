/* Queue op definitions (paper 4.6): FIFO and random-shuffle queues with
 * enqueue, dequeue, batching dequeue, close and size. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"

#define QUEUE_ATTRS                                                                             \
    "component_types: list(type) >= 1", "shapes: list(shape) >= 0 = []", "capacity: int = -1",  \
        "container: string = ''", "shared_name: string = ''"

static const sl_op_spec data_flow_ops[] = {
    {.name = "FIFOQueueV2", .outputs = {"handle: resource"}, .attrs = {QUEUE_ATTRS},
     .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL, .summary = "a first-in first-out queue"},
    {.name = "RandomShuffleQueueV2", .outputs = {"handle: resource"},
     .attrs = {QUEUE_ATTRS, "min_after_dequeue: int = 0", "seed: int = 0", "seed2: int = 0"},
     .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL,
     .summary = "a queue that dequeues in random order"},
    {.name = "QueueEnqueueV2", .inputs = {"handle: resource", "components: Tcomponents"},
     .attrs = {"Tcomponents: list(type) >= 1", "timeout_ms: int = -1"}, .flags = SL_OP_STATEFUL,
     .summary = "adds one element to a queue"},
    {.name = "QueueEnqueueManyV2", .inputs = {"handle: resource", "components: Tcomponents"},
     .attrs = {"Tcomponents: list(type) >= 1", "timeout_ms: int = -1"}, .flags = SL_OP_STATEFUL,
     .summary = "adds a batch of elements to a queue"},
    {.name = "QueueDequeueV2", .inputs = {"handle: resource"}, .outputs = {"components: component_types"},
     .attrs = {"component_types: list(type) >= 1", "timeout_ms: int = -1"}, .flags = SL_OP_STATEFUL,
     .summary = "takes one element from a queue"},
    {.name = "QueueDequeueManyV2", .inputs = {"handle: resource", "n: int32"},
     .outputs = {"components: component_types"},
     .attrs = {"component_types: list(type) >= 1", "timeout_ms: int = -1"}, .flags = SL_OP_STATEFUL,
     .summary = "takes n elements from a queue as a batch"},
    {.name = "QueueCloseV2", .inputs = {"handle: resource"},
     .attrs = {"cancel_pending_enqueues: bool = false"}, .flags = SL_OP_STATEFUL,
     .summary = "closes a queue"},
    {.name = "QueueSizeV2", .inputs = {"handle: resource"}, .outputs = {"size: int32"},
     .shape_fn = sl__shape_scalar, .flags = SL_OP_STATEFUL, .summary = "the number of elements in a queue"},
};

void sl__ops_register_data_flow(void);
void sl__ops_register_data_flow(void)
{
    sl__op_register_table(data_flow_ops, SL_COUNTOF(data_flow_ops));
}
