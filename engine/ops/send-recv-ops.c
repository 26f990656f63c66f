/* Send/Recv op definitions (paper 3.2.2): the pair that replaces every
 * edge cut by partitioning.  TF writes them into partitioned graphs, so
 * graphs saved from a running TF session contain them too. */
#include "config.h"

#include "op-registry-private.h"
#include "shape-fns.h"

#define RENDEZVOUS_ATTRS                                                                  \
    "tensor_name: string", "send_device: string", "send_device_incarnation: int",        \
        "recv_device: string", "client_terminated: bool = false"

static const sl_op_spec send_recv_ops[] = {
    {.name = "_Send", .inputs = {"tensor: T"}, .attrs = {"T: type", RENDEZVOUS_ATTRS},
     .flags = SL_OP_STATEFUL, .summary = "sends a tensor to the matching _Recv"},
    {.name = "_Recv", .outputs = {"tensor: tensor_type"}, .attrs = {"tensor_type: type", RENDEZVOUS_ATTRS},
     .flags = SL_OP_STATEFUL, .summary = "receives the tensor of the matching _Send"},
    {.name = "_HostSend", .inputs = {"tensor: T"}, .attrs = {"T: type", RENDEZVOUS_ATTRS},
     .flags = SL_OP_STATEFUL, .summary = "_Send from host memory"},
    {.name = "_HostRecv", .outputs = {"tensor: tensor_type"}, .attrs = {"tensor_type: type", RENDEZVOUS_ATTRS},
     .flags = SL_OP_STATEFUL, .summary = "_Recv into host memory"},
};

void sl__ops_register_send_recv(void);
void sl__ops_register_send_recv(void)
{
    sl__op_register_table(send_recv_ops, SL_COUNTOF(send_recv_ops));
}
