/* Internal accessors of variables: the name used in error messages
 * ("attempting to use uninitialized value w"). */
#pragma once

#include "sluice/kernel.h"

/* Sets the variable's name (copied); false on OOM.  Call before sharing. */
bool sl__var_set_name(sl_var *var, const char *name);
/* The name, or "(unnamed variable)"; borrowed. */
const char *sl__var_name(const sl_var *var);
