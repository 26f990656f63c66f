/* Live validation: what the engine says of each node of a document.
 *
 * The nodes are created, in dependency order, in a scratch sl_graph
 * through the engine's own GraphDef import, one node at a time, so each
 * node passes exactly the checks `sluice run` would apply (op signature,
 * dtypes, attrs, shape functions) and gets the dtypes and shapes the
 * engine infers.  A node the engine refuses gets STUDIO_NODE_ERROR and
 * the engine's message; when only its shape function failed the node is
 * created again with shape errors skipped, so nodes downstream are still
 * checked, and the message names the nodes that feed it with their
 * shapes.  A node whose input comes from a node that could not be created
 * is UNCHECKED; an op the registry lacks is UNKNOWN_OP with ports read
 * off the NodeDef.
 *
 * A whole graph that imports cleanly takes the fast path: one import of
 * the packed GraphDef (which also handles loops), then ports are read off.
 *
 * Cost: linear in the graph (one scratch import); no allocation is kept.
 * Thread-safety: reentrant; the inputs are only read.
 */
#pragma once

#include "studio-document.h"

G_BEGIN_DECLS

/* Fills state, message and ports of nodes[0..n) whose `def` fields are
 * set, releasing what they held. */
void studio_validate_run (StudioNode *nodes, int n);

/* Frees what a StudioNode owns (message, ports) and zeroes those fields. */
void studio_node_release (StudioNode *n);

/* Splits a NodeDef input ("^a", "a:2", "a", "") into its node name
 * (newly allocated; "" for an unconnected input) and output index (-1
 * for a control input). */
char *studio_parse_input (const char *input, int *index);

G_END_DECLS
