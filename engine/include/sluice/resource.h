/* Resource manager: named containers of stateful resources (paper 4.7).
 *
 * Variables, queues and readers outlive steps: a session keeps them in a
 * resource manager, grouped in named containers ("" is the default
 * container).  A container can be reset, which drops every resource in it
 * (TF's Session::Reset(containers)): variables become uninitialized the next
 * time their op runs, queues are closed and recreated.
 *
 * A resource is a refcounted box around an object with a type name
 * ("var", "queue") and a destructor.  Lookups return a new reference, so a
 * kernel may keep using a resource that another thread deletes; the object
 * is destroyed when the last reference goes.
 *
 * Resource tensors (dtype resource, scalar) carry an sl_resource_handle:
 * (container, name, type) interned by the manager, valid as long as the
 * manager.  Kernels resolve a handle with sl_resource_mgr_lookup_handle(),
 * so a destroyed resource gives NOT_FOUND instead of a dangling pointer.
 *
 * Thread-safety: every function may be called from any thread.
 */
#pragma once

#include <stdbool.h>

#include "sluice/macros.h"
#include "sluice/status.h"
#include "sluice/tensor.h"

SL_BEGIN_DECLS

typedef struct sl_resource_mgr sl_resource_mgr;
typedef struct sl_resource sl_resource;

/* What a resource tensor holds: borrowed from the manager. */
typedef struct sl_resource_handle {
    const char *container;
    const char *name;
    const char *type;   /* "var", "queue", ... */
} sl_resource_handle;

/* Builds a resource's object on first use; returns NULL with the status set
 * on failure.  `arg` is the caller's. */
typedef void *(*sl_resource_create_fn)(void *arg, sl_status *status);

/* New empty manager; NULL on OOM.  Caller owns it. */
SL_API sl_resource_mgr *sl_resource_mgr_new(void);

/* Drops every container (resources still referenced live on until their
 * last reference goes).  NULL-safe.  No step may be running. */
SL_API void sl_resource_mgr_free(sl_resource_mgr *rm);

/* The resource (container, name) of `type`, created with create(arg) and
 * destroyed with `destroy` when absent.  Returns a new reference (caller
 * unrefs) or NULL with: INVALID_ARGUMENT when a resource of that name has
 * another type, the create function's error, RESOURCE_EXHAUSTED on OOM.
 * A NULL container means "". */
SL_API sl_resource *sl_resource_mgr_lookup_or_create(sl_resource_mgr *rm, const char *container,
                                                     const char *name, const char *type,
                                                     sl_resource_create_fn create, void *arg,
                                                     void (*destroy)(void *obj),
                                                     sl_status *status);

/* The existing resource, a new reference, or NULL with NOT_FOUND
 * ("resource 'c/n' of type var does not exist") or INVALID_ARGUMENT for a
 * type mismatch. */
SL_API sl_resource *sl_resource_mgr_lookup(sl_resource_mgr *rm, const char *container,
                                           const char *name, const char *type, sl_status *status);

/* Removes the resource from its container; NOT_FOUND if absent. */
SL_API sl_code sl_resource_mgr_delete(sl_resource_mgr *rm, const char *container, const char *name,
                                      sl_status *status);

/* Drops every resource of `container` (NULL: every container).  Returns the
 * number of resources dropped. */
SL_API int sl_resource_mgr_reset(sl_resource_mgr *rm, const char *container);

/* Number of resources in `container` (NULL: in all). */
SL_API int sl_resource_mgr_count(sl_resource_mgr *rm, const char *container);

/* The interned handle of (container, name, type): valid until the manager
 * is freed, whether or not the resource exists.  NULL on OOM. */
SL_API const sl_resource_handle *sl_resource_mgr_handle(sl_resource_mgr *rm, const char *container,
                                                        const char *name, const char *type);

/* A new scalar resource tensor holding `handle` (caller owns it). */
SL_API sl_tensor *sl_resource_handle_tensor(const sl_resource_handle *handle, sl_status *status);

/* The handle in a scalar resource tensor, or NULL when t is not one. */
SL_API const sl_resource_handle *sl_resource_handle_from_tensor(const sl_tensor *t);

/* Resolves a handle: like sl_resource_mgr_lookup(). */
SL_API sl_resource *sl_resource_mgr_lookup_handle(sl_resource_mgr *rm, const sl_resource_handle *h,
                                                  sl_status *status);

SL_API sl_resource *sl_resource_ref(sl_resource *r);
SL_API void sl_resource_unref(sl_resource *r);  /* NULL-safe */
/* The object made by create() (borrowed while a reference is held). */
SL_API void *sl_resource_object(const sl_resource *r);
SL_API const char *sl_resource_type(const sl_resource *r);

SL_END_DECLS
