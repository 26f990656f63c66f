/* A string-keyed hash map (open addressing, linear probing) for names:
 * node names in graphs, op names in the registry.  Keys are borrowed: the
 * caller keeps each key alive while it is in the map.  Internal to the
 * engine.
 *
 * Thread-safety: none; concurrent reads of an unchanging map are fine.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_strmap {
    const char **keys;  /* NULL: empty slot; TOMBSTONE: deleted */
    void **values;
    size_t cap;         /* power of two, or 0 */
    size_t count;       /* live entries */
    size_t used;        /* live + deleted slots */
} sl_strmap;

#define SL_STRMAP_INIT {0}

/* Inserts or replaces.  Returns false when memory runs out (map unchanged). */
bool sl_strmap_put(sl_strmap *map, const char *key, void *value);
/* The value for key, or NULL. */
void *sl_strmap_get(const sl_strmap *map, const char *key);
/* Removes key if present; returns whether it was. */
bool sl_strmap_remove(sl_strmap *map, const char *key);
/* Frees the table (not the keys or values) and resets to empty. */
void sl_strmap_release(sl_strmap *map);
