/* Tensors: a header (dtype, shape, refcount) over a refcounted buffer.
 *
 * The buffer is separate from the header so several tensors can view the
 * same elements with different shapes (Reshape, Identity) without copying.
 * String buffers own one heap block per element; they are freed with the
 * buffer.
 *
 * Element buffers come from the buffer cache (sl_buffer_alloc), so the
 * tensors of one step reuse the memory of the last.  sl_tensor_new()
 * zero-fills; sl_tensor_new_uninit() does not, for outputs a kernel
 * overwrites whole (a 256x256 float MatMul would otherwise memset 256 KiB
 * per call).  With SLUICE_POISON_UNINIT=1 in the environment uninitialized
 * buffers are filled with 0xff bytes (NaN, -1) instead, so a kernel that
 * relies on zeros shows in the test suites.
 */
#include "config.h"

#include "sluice/tensor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"

typedef struct tensor_buffer {
    atomic_int refs;
    void *data;
    size_t size;        /* bytes */
    int64_t num_strings;  /* > 0 for string buffers */
    bool external;
    sl_tensor_deallocator dealloc;
    void *dealloc_arg;
} tensor_buffer;

struct sl_tensor {
    atomic_int refs;
    sl_dtype dtype;
    sl_shape shape;
    int64_t num_elements;
    tensor_buffer *buf;
};

static void buffer_unref(tensor_buffer *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
        return;
    if (b->external) {
        if (b->dealloc)
            b->dealloc(b->data, b->size, b->dealloc_arg);
    } else {
        sl_tstring *s = b->data;
        for (int64_t i = 0; i < b->num_strings; i++)
            sl_free(s[i].data);
        sl_buffer_free(b->data);
    }
    sl_free(b);
}

static sl_code check_shape(sl_dtype dtype, const sl_shape *shape, int64_t *n, sl_status *status)
{
    char s[SL_SHAPE_STRING_MAX];
    if (!sl_dtype_is_valid((int)dtype) || sl_dtype_is_ref(dtype) || dtype == SL_DTYPE_VARIANT)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "cannot make a tensor of dtype %s (%d)",
                             sl_dtype_name(dtype), (int)dtype);
    if (!sl_shape_is_fully_defined(shape))
        return sl_status_set(status, SL_INVALID_ARGUMENT,
                             "tensor shape %s is not fully defined",
                             sl_shape_to_string(shape, s, sizeof(s)));
    *n = sl_shape_num_elements(shape);
    if (*n < 0)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "tensor shape %s overflows int64",
                             sl_shape_to_string(shape, s, sizeof(s)));
    return SL_OK;
}

static size_t element_bytes(sl_dtype dtype)
{
    if (dtype == SL_DTYPE_STRING)
        return sizeof(sl_tstring);
    if (dtype == SL_DTYPE_RESOURCE)
        return sizeof(void *);  /* a handle: pointer to the resource */
    return sl_dtype_size(dtype);
}

static sl_tensor *header_new(sl_dtype dtype, const sl_shape *shape, int64_t n, tensor_buffer *buf,
                             sl_status *status)
{
    sl_tensor *t = sl_malloc(sizeof(*t));
    if (!t) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory for a tensor header");
        return NULL;
    }
    atomic_init(&t->refs, 1);
    t->dtype = dtype;
    t->shape = *shape;
    t->num_elements = n;
    t->buf = buf;
    sl_status_clear(status);
    return t;
}

/* Whether SLUICE_POISON_UNINIT asks to fill uninitialized buffers (read
 * once; the race on first use is benign, every thread computes the same). */
static bool poison_uninit(void)
{
    static atomic_int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("SLUICE_POISON_UNINIT");
        v = e && *e && strcmp(e, "0") != 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

static sl_tensor *tensor_new(sl_dtype dtype, const sl_shape *shape, bool zero, sl_status *status)
{
    int64_t n;
    if (check_shape(dtype, shape, &n, status) != SL_OK)
        return NULL;
    size_t esz = element_bytes(dtype);
    if (esz && (uint64_t)n > SIZE_MAX / esz) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "tensor of %lld elements is too large",
                      (long long)n);
        return NULL;
    }
    size_t bytes = (size_t)n * esz;
    tensor_buffer *b = sl_calloc(1, sizeof(*b));
    void *data = b ? sl_buffer_alloc(bytes) : NULL;
    if (!b || !data) {
        sl_free(b);
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory allocating %zu bytes for a %s tensor",
                      bytes, sl_dtype_name(dtype));
        return NULL;
    }
    /* strings and resource handles are pointers: always NULL at first */
    if (zero || dtype == SL_DTYPE_STRING || dtype == SL_DTYPE_RESOURCE)
        memset(data, 0, bytes);
    else if (poison_uninit())
        memset(data, 0xff, bytes);
    atomic_init(&b->refs, 1);
    b->data = data;
    b->size = bytes;
    b->num_strings = dtype == SL_DTYPE_STRING ? n : 0;
    sl_tensor *t = header_new(dtype, shape, n, b, status);
    if (!t)
        buffer_unref(b);
    return t;
}

sl_tensor *sl_tensor_new(sl_dtype dtype, const sl_shape *shape, sl_status *status)
{
    return tensor_new(dtype, shape, true, status);
}

sl_tensor *sl_tensor_new_uninit(sl_dtype dtype, const sl_shape *shape, sl_status *status)
{
    return tensor_new(dtype, shape, false, status);
}

sl_tensor *sl_tensor_new_wrap(sl_dtype dtype, const sl_shape *shape, void *data, size_t size,
                              sl_tensor_deallocator dealloc, void *arg, sl_status *status)
{
    int64_t n;
    if (check_shape(dtype, shape, &n, status) != SL_OK)
        return NULL;
    if (dtype == SL_DTYPE_STRING) {
        sl_status_set(status, SL_INVALID_ARGUMENT, "cannot wrap external memory as a %s tensor",
                      sl_dtype_name(dtype));
        return NULL;
    }
    if ((uint64_t)n * element_bytes(dtype) != size) {
        sl_status_set(status, SL_INVALID_ARGUMENT,
                      "external buffer of %zu bytes does not hold %lld %s elements", size,
                      (long long)n, sl_dtype_name(dtype));
        return NULL;
    }
    tensor_buffer *b = sl_calloc(1, sizeof(*b));
    if (!b) {
        sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory for a tensor buffer");
        return NULL;
    }
    atomic_init(&b->refs, 1);
    b->data = data;
    b->size = size;
    b->external = true;
    b->dealloc = dealloc;
    b->dealloc_arg = arg;
    sl_tensor *t = header_new(dtype, shape, n, b, status);
    if (!t) {
        b->dealloc = NULL;  /* on failure the caller keeps ownership */
        buffer_unref(b);
    }
    return t;
}

#define SCALAR_CTOR(suffix, ctype, dt)                                         \
    sl_tensor *sl_tensor_new_scalar_##suffix(ctype v, sl_status *status)       \
    {                                                                          \
        sl_shape s = sl_shape_scalar();                                        \
        sl_tensor *t = sl_tensor_new_uninit(dt, &s, status);                   \
        if (t)                                                                 \
            *(ctype *)t->buf->data = v;                                        \
        return t;                                                              \
    }
SCALAR_CTOR(float, float, SL_DTYPE_FLOAT)
SCALAR_CTOR(int32, int32_t, SL_DTYPE_INT32)
SCALAR_CTOR(int64, int64_t, SL_DTYPE_INT64)

sl_tensor *sl_tensor_copy(const sl_tensor *t, sl_status *status)
{
    sl_tensor *c = sl_tensor_new_uninit(t->dtype, &t->shape, status);
    if (!c)
        return NULL;
    if (t->dtype != SL_DTYPE_STRING) {
        if (t->buf->size)
            memcpy(c->buf->data, t->buf->data, t->buf->size);
        return c;
    }
    const sl_tstring *src = t->buf->data;
    for (int64_t i = 0; i < t->num_elements; i++) {
        if (sl_tensor_set_string(c, i, src[i].data, src[i].size, status) != SL_OK) {
            sl_tensor_unref(c);
            return NULL;
        }
    }
    return c;
}

sl_tensor *sl_tensor_ref(sl_tensor *t)
{
    if (t)
        atomic_fetch_add(&t->refs, 1);
    return t;
}

void sl_tensor_unref(sl_tensor *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    buffer_unref(t->buf);
    sl_free(t);
}

int sl_tensor_refcount(const sl_tensor *t)
{
    return atomic_load(&((sl_tensor *)t)->refs);
}

sl_dtype sl_tensor_dtype(const sl_tensor *t) { return t->dtype; }
const sl_shape *sl_tensor_shape(const sl_tensor *t) { return &t->shape; }
int sl_tensor_rank(const sl_tensor *t) { return t->shape.rank; }
int64_t sl_tensor_num_elements(const sl_tensor *t) { return t->num_elements; }
void *sl_tensor_data(const sl_tensor *t) { return t->buf->data; }
size_t sl_tensor_byte_size(const sl_tensor *t) { return t->buf->size; }
bool sl_tensor_is_external(const sl_tensor *t) { return t->buf->external; }

int64_t sl_tensor_dim(const sl_tensor *t, int i)
{
    return i >= 0 && i < t->shape.rank ? t->shape.dims[i] : -1;
}

sl_code sl_tensor_set_string(sl_tensor *t, int64_t i, const void *bytes, size_t size,
                             sl_status *status)
{
    if (t->dtype != SL_DTYPE_STRING)
        return sl_status_set(status, SL_INVALID_ARGUMENT, "tensor of dtype %s is not a string tensor",
                             sl_dtype_name(t->dtype));
    if (i < 0 || i >= t->num_elements)
        return sl_status_set(status, SL_INVALID_ARGUMENT,
                             "string index %lld out of range [0, %lld)", (long long)i,
                             (long long)t->num_elements);
    char *copy = sl_malloc(size + 1);
    if (!copy)
        return sl_status_set(status, SL_RESOURCE_EXHAUSTED, "out of memory for a %zu-byte string",
                             size);
    if (size)
        memcpy(copy, bytes, size);
    copy[size] = '\0';
    sl_tstring *s = (sl_tstring *)t->buf->data + i;
    sl_free(s->data);
    s->data = copy;
    s->size = size;
    sl_status_clear(status);
    return SL_OK;
}

sl_tensor *sl_tensor_reshaped(sl_tensor *t, const sl_shape *shape, sl_status *status)
{
    char a[SL_SHAPE_STRING_MAX], b[SL_SHAPE_STRING_MAX];
    int64_t n;
    if (check_shape(t->dtype, shape, &n, status) != SL_OK)
        return NULL;
    if (n != t->num_elements) {
        sl_status_set(status, SL_INVALID_ARGUMENT,
                      "cannot reshape a tensor of shape %s (%lld elements) to %s (%lld elements)",
                      sl_shape_to_string(&t->shape, a, sizeof(a)), (long long)t->num_elements,
                      sl_shape_to_string(shape, b, sizeof(b)), (long long)n);
        return NULL;
    }
    sl_tensor *v = header_new(t->dtype, shape, n, t->buf, status);
    if (v)
        atomic_fetch_add(&t->buf->refs, 1);
    return v;
}

bool sl_tensor_equal(const sl_tensor *a, const sl_tensor *b)
{
    if (a->dtype != b->dtype || !sl_shape_equal(&a->shape, &b->shape))
        return false;
    if (a->dtype != SL_DTYPE_STRING)
        return a->buf->size == b->buf->size &&
               (a->buf->size == 0 || !memcmp(a->buf->data, b->buf->data, a->buf->size));
    const sl_tstring *x = a->buf->data, *y = b->buf->data;
    for (int64_t i = 0; i < a->num_elements; i++)
        if (x[i].size != y[i].size || (x[i].size && memcmp(x[i].data, y[i].data, x[i].size)))
            return false;
    return true;
}
