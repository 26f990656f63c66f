/* Settings remembered between sessions (see the header). */
#include "board-prefs.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

static const char *const axis_names[] = { "step", "relative", "wall" };

char *
board_prefs_default_path (void)
{
    return g_build_filename (g_get_user_config_dir (), "sluice", "board.ini", NULL);
}

static gboolean
get_bool (GKeyFile *kf, const char *key, gboolean *out)
{
    GError *e = NULL;
    gboolean v = g_key_file_get_boolean (kf, "scalars", key, &e);
    if (e) {
        g_error_free (e);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
parse_color (const char *s, guint32 *rgb)
{
    if (!s || s[0] != '#' || strlen (s) != 7)
        return FALSE;
    char *end = NULL;
    guint64 v = g_ascii_strtoull (s + 1, &end, 16);
    if (!end || *end)
        return FALSE;
    *rgb = (guint32) v;
    return TRUE;
}

gboolean
board_prefs_load (const char *path, BoardChartSettings *s, BoardDataset *ds, GError **error)
{
    GKeyFile *kf = g_key_file_new ();
    GError *e = NULL;
    if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &e)) {
        g_key_file_free (kf);
        if (g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_error_free (e);
            return TRUE;
        }
        g_propagate_prefixed_error (error, e, "%s: ", path);
        return FALSE;
    }
    char *str = g_key_file_get_string (kf, "scalars", "smoothing", NULL);
    if (str) {
        char *end = NULL;
        double w = g_ascii_strtod (str, &end);
        if (end && end != str && !*end && w >= 0 && w < 1)
            board_chart_settings_set_smoothing (s, w);
        g_free (str);
    }
    str = g_key_file_get_string (kf, "scalars", "x-axis", NULL);
    for (guint i = 0; str && i < G_N_ELEMENTS (axis_names); i++)
        if (g_str_equal (str, axis_names[i]))
            board_chart_settings_set_x_axis (s, (BoardXAxis) i);
    g_free (str);
    gboolean b;
    if (get_bool (kf, "log-x", &b))
        board_chart_settings_set_log_x (s, b);
    if (get_bool (kf, "log-y", &b))
        board_chart_settings_set_log_y (s, b);
    if (get_bool (kf, "ignore-outliers", &b))
        board_chart_settings_set_ignore_outliers (s, b);
    if (ds) {
        char **keys = g_key_file_get_keys (kf, "colors", NULL, NULL);
        for (char **k = keys; k && *k; k++) {
            char *v = g_key_file_get_string (kf, "colors", *k, NULL);
            guint32 rgb;
            if (parse_color (v, &rgb))
                board_dataset_set_run_color (ds, *k, rgb);
            g_free (v);
        }
        g_strfreev (keys);
    }
    g_key_file_free (kf);
    return TRUE;
}

gboolean
board_prefs_save (const char *path, BoardChartSettings *s, BoardDataset *ds, GError **error)
{
    GKeyFile *kf = g_key_file_new ();
    /* keep what this version does not know about (other sections, keys) */
    g_key_file_load_from_file (kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL);
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    g_key_file_set_string (kf, "scalars", "smoothing",
                           g_ascii_formatd (buf, sizeof buf, "%.3g",
                                            board_chart_settings_get_smoothing (s)));
    guint axis = (guint) board_chart_settings_get_x_axis (s);
    g_key_file_set_string (kf, "scalars", "x-axis",
                           axis_names[MIN (axis, G_N_ELEMENTS (axis_names) - 1)]);
    g_key_file_set_boolean (kf, "scalars", "log-x", board_chart_settings_get_log_x (s));
    g_key_file_set_boolean (kf, "scalars", "log-y", board_chart_settings_get_log_y (s));
    g_key_file_set_boolean (kf, "scalars", "ignore-outliers",
                            board_chart_settings_get_ignore_outliers (s));
    if (ds) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init (&it, board_dataset_get_run_colors (ds));
        while (g_hash_table_iter_next (&it, &k, &v)) {
            char hex[8];
            g_snprintf (hex, sizeof hex, "#%06x", GPOINTER_TO_UINT (v) & 0xffffff);
            g_key_file_set_string (kf, "colors", k, hex);
        }
    }
    char *dir = g_path_get_dirname (path);
    gboolean ok = TRUE;
    if (g_mkdir_with_parents (dir, 0700) != 0) {
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno), "%s: %s", dir,
                     g_strerror (errno));
        ok = FALSE;
    }
    g_free (dir);
    if (ok)
        ok = g_key_file_save_to_file (kf, path, error);
    g_key_file_free (kf);
    return ok;
}
