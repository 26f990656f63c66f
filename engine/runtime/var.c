/* Variables: a refcounted tensor slot guarded by a mutex, shared by TF1
 * reference variables (VariableV2) and resource variables (VarHandleOp). */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>

#include "sluice/alloc.h"
#include "sluice/kernel.h"
#include "var-private.h"

struct sl_var {
    atomic_int refs;
    pthread_mutex_t mu;
    sl_tensor *value;
    char *name;   /* for error messages */
};

sl_var *sl_var_new(void)
{
    sl_var *v = sl_calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    pthread_mutex_init(&v->mu, NULL);
    return v;
}

sl_var *sl_var_ref(sl_var *var)
{
    if (var)
        atomic_fetch_add(&var->refs, 1);
    return var;
}

void sl_var_unref(sl_var *var)
{
    if (!var || atomic_fetch_sub(&var->refs, 1) != 1)
        return;
    sl_tensor_unref(var->value);
    sl_free(var->name);
    pthread_mutex_destroy(&var->mu);
    sl_free(var);
}

void sl_var_lock(sl_var *var) { pthread_mutex_lock(&var->mu); }
void sl_var_unlock(sl_var *var) { pthread_mutex_unlock(&var->mu); }
sl_tensor *sl_var_value(sl_var *var) { return var->value; }

void sl_var_set_value(sl_var *var, sl_tensor *t)
{
    sl_tensor_ref(t);
    sl_tensor_unref(var->value);
    var->value = t;
}

bool sl_var_is_initialized(sl_var *var)
{
    pthread_mutex_lock(&var->mu);
    bool init = var->value != NULL;
    pthread_mutex_unlock(&var->mu);
    return init;
}

bool sl__var_set_name(sl_var *var, const char *name)
{
    char *n = sl_strdup(name);
    if (!n)
        return false;
    sl_free(var->name);
    var->name = n;
    return true;
}

const char *sl__var_name(const sl_var *var)
{
    return var->name ? var->name : "(unnamed variable)";
}
