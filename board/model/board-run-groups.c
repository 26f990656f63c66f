/* Run groups and their mean/spread aggregates (see the header). */
#include "board-run-groups.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

char *
board_run_group_key (const char *name, BoardGroupMode mode, GRegex *regex)
{
    switch (mode) {
    case BOARD_GROUP_PREFIX: {
        const char *slash = strrchr (name, '/');
        if (slash)
            return g_strndup (name, (gsize) (slash - name));
        size_t len = strlen (name);
        size_t end = len;
        while (end > 0 && g_ascii_isdigit (name[end - 1]))
            end--;
        if (end == len || end == 0)
            return NULL;   /* no trailing number: a run of its own */
        while (end > 0 && strchr ("-_.= ", name[end - 1]))
            end--;
        /* "seed", "run", "trial" words before the number go too */
        static const char *const words[] = { "seed", "run", "trial", "rep", "s" };
        for (size_t w = 0; w < G_N_ELEMENTS (words); w++) {
            size_t wl = strlen (words[w]);
            if (end > wl && g_ascii_strncasecmp (name + end - wl, words[w], wl) == 0) {
                end -= wl;
                break;
            }
        }
        while (end > 0 && strchr ("-_.= ", name[end - 1]))
            end--;
        if (end == 0)
            return NULL;
        return g_strndup (name, end);
    }
    case BOARD_GROUP_REGEX: {
        if (!regex)
            return NULL;
        GMatchInfo *mi = NULL;
        char *key = NULL;
        if (g_regex_match (regex, name, 0, &mi)) {
            int n = g_match_info_get_match_count (mi);
            if (n <= 1) {
                key = g_match_info_fetch (mi, 0);
            } else {
                GString *s = g_string_new (NULL);
                for (int i = 1; i < n; i++) {
                    char *part = g_match_info_fetch (mi, i);
                    if (i > 1)
                        g_string_append_c (s, '/');
                    g_string_append (s, part ? part : "");
                    g_free (part);
                }
                key = g_string_free (s, FALSE);
            }
        }
        g_match_info_free (mi);
        return key;
    }
    case BOARD_GROUP_NONE:
    default:
        return NULL;
    }
}

static int
double_compare (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* The value of input `in` at step s, by exact match or interpolation
 * between its finite neighbours; FALSE outside its range.  *cursor is a
 * hint that only moves forward as s grows. */
static gboolean
value_at (const BoardAggInput *in, double s, size_t *cursor, double *out)
{
    size_t i = *cursor;
    while (i < in->n && in->steps[i] < s)
        i++;
    *cursor = i;
    /* exact: the last finite value at this step */
    gboolean found = FALSE;
    for (size_t j = i; j < in->n && in->steps[j] == s; j++) {
        if (isfinite (in->values[j])) {
            *out = in->values[j];
            found = TRUE;
        }
    }
    if (found)
        return TRUE;
    /* interpolate between the finite neighbours */
    size_t hi = i;
    while (hi < in->n && !isfinite (in->values[hi]))
        hi++;
    if (hi >= in->n || i == 0)
        return FALSE;
    size_t lo = i;
    while (lo > 0 && !isfinite (in->values[lo - 1]))
        lo--;
    if (lo == 0)
        return FALSE;
    lo--;
    double s0 = in->steps[lo], s1 = in->steps[hi];
    if (!(s1 > s0))
        return FALSE;
    double t = (s - s0) / (s1 - s0);
    *out = in->values[lo] + t * (in->values[hi] - in->values[lo]);
    return TRUE;
}

BoardAggregate *
board_aggregate (const BoardAggInput *inputs, size_t n_inputs)
{
    size_t total = 0;
    for (size_t r = 0; r < n_inputs; r++)
        total += inputs[r].n;
    double *all = g_new (double, total ? total : 1);
    size_t k = 0;
    for (size_t r = 0; r < n_inputs; r++)
        for (size_t i = 0; i < inputs[r].n; i++)
            if (isfinite (inputs[r].values[i]))
                all[k++] = inputs[r].steps[i];
    qsort (all, k, sizeof *all, double_compare);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || all[i] != all[u - 1])
            all[u++] = all[i];

    BoardAggregate *a = g_new0 (BoardAggregate, 1);
    a->steps = g_new (double, u ? u : 1);
    a->mean = g_new (double, u ? u : 1);
    a->min = g_new (double, u ? u : 1);
    a->max = g_new (double, u ? u : 1);
    a->std = g_new (double, u ? u : 1);
    a->count = g_new (int, u ? u : 1);
    size_t *cursor = g_new0 (size_t, n_inputs ? n_inputs : 1);
    size_t w = 0;
    for (size_t i = 0; i < u; i++) {
        double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
        int c = 0;
        for (size_t r = 0; r < n_inputs; r++) {
            double v;
            if (!value_at (&inputs[r], all[i], &cursor[r], &v))
                continue;
            sum += v;
            lo = MIN (lo, v);
            hi = MAX (hi, v);
            c++;
        }
        if (c == 0)
            continue;
        double mean = sum / c;
        /* second pass for a stable variance */
        for (size_t r = 0; r < n_inputs; r++) {
            double v;
            size_t cur = cursor[r];
            if (value_at (&inputs[r], all[i], &cur, &v))
                sum2 += (v - mean) * (v - mean);
        }
        a->steps[w] = all[i];
        a->mean[w] = mean;
        a->min[w] = lo;
        a->max[w] = hi;
        a->std[w] = sqrt (sum2 / c);
        a->count[w] = c;
        w++;
    }
    a->n = w;
    g_free (cursor);
    g_free (all);
    return a;
}

void
board_aggregate_free (BoardAggregate *a)
{
    if (!a)
        return;
    g_free (a->steps);
    g_free (a->mean);
    g_free (a->min);
    g_free (a->max);
    g_free (a->std);
    g_free (a->count);
    g_free (a);
}
