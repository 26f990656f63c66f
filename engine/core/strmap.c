/* String hash map with FNV-1a hashing; see strmap.h. */
#include "config.h"

#include "strmap.h"

#include <stdint.h>
#include <string.h>

#include "sluice/alloc.h"

static const char TOMBSTONE_KEY[1];
#define TOMBSTONE (TOMBSTONE_KEY)

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static size_t find_slot(const sl_strmap *map, const char *key, bool *found)
{
    size_t mask = map->cap - 1, i = hash(key) & mask;
    size_t first_free = SIZE_MAX;
    for (;;) {
        const char *k = map->keys[i];
        if (!k) {
            *found = false;
            return first_free != SIZE_MAX ? first_free : i;
        }
        if (k == TOMBSTONE) {
            if (first_free == SIZE_MAX)
                first_free = i;
        } else if (!strcmp(k, key)) {
            *found = true;
            return i;
        }
        i = (i + 1) & mask;
    }
}

static bool grow(sl_strmap *map)
{
    size_t ncap = map->cap ? map->cap * 2 : 16;
    while (map->count * 2 >= ncap)
        ncap *= 2;
    sl_strmap n = {.cap = ncap};
    n.keys = sl_calloc(ncap, sizeof(*n.keys));
    n.values = sl_calloc(ncap, sizeof(*n.values));
    if (!n.keys || !n.values) {
        sl_free(n.keys);
        sl_free(n.values);
        return false;
    }
    for (size_t i = 0; i < map->cap; i++) {
        if (map->keys[i] && map->keys[i] != TOMBSTONE) {
            bool found;
            size_t s = find_slot(&n, map->keys[i], &found);
            n.keys[s] = map->keys[i];
            n.values[s] = map->values[i];
            n.count++;
            n.used++;
        }
    }
    sl_free(map->keys);
    sl_free(map->values);
    *map = n;
    return true;
}

bool sl_strmap_put(sl_strmap *map, const char *key, void *value)
{
    if ((map->used + 1) * 4 >= map->cap * 3 && !grow(map))
        return false;
    bool found;
    size_t s = find_slot(map, key, &found);
    if (!found) {
        if (!map->keys[s])
            map->used++;
        map->count++;
    }
    map->keys[s] = key;
    map->values[s] = value;
    return true;
}

void *sl_strmap_get(const sl_strmap *map, const char *key)
{
    if (!map->cap)
        return NULL;
    bool found;
    size_t s = find_slot(map, key, &found);
    return found ? map->values[s] : NULL;
}

bool sl_strmap_remove(sl_strmap *map, const char *key)
{
    if (!map->cap)
        return false;
    bool found;
    size_t s = find_slot(map, key, &found);
    if (!found)
        return false;
    map->keys[s] = TOMBSTONE;
    map->values[s] = NULL;
    map->count--;
    return true;
}

void sl_strmap_release(sl_strmap *map)
{
    sl_free(map->keys);
    sl_free(map->values);
    memset(map, 0, sizeof(*map));
}
