/* Shared chart settings (see the header). */
#include "board-chart-settings.h"

#include "board-smoothing.h"

struct _BoardChartSettings {
    GObject parent_instance;
    double smoothing;
    BoardXAxis x_axis;
    gboolean log_x, log_y, ignore_outliers;
    BoardGroupMode group_mode;
    GRegex *group_regex;
    BoardBandMode band;
    guint version;
};

G_DEFINE_FINAL_TYPE (BoardChartSettings, board_chart_settings, G_TYPE_OBJECT)

static guint changed_signal;

static void
board_chart_settings_finalize (GObject *o)
{
    BoardChartSettings *s = BOARD_CHART_SETTINGS (o);
    if (s->group_regex)
        g_regex_unref (s->group_regex);
    G_OBJECT_CLASS (board_chart_settings_parent_class)->finalize (o);
}

static void
board_chart_settings_class_init (BoardChartSettingsClass *klass)
{
    G_OBJECT_CLASS (klass)->finalize = board_chart_settings_finalize;
    changed_signal = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
board_chart_settings_init (BoardChartSettings *s)
{
    s->smoothing = BOARD_SMOOTHING_DEFAULT;
    s->ignore_outliers = FALSE;
}

BoardChartSettings *
board_chart_settings_new (void)
{
    return g_object_new (BOARD_TYPE_CHART_SETTINGS, NULL);
}

static void
changed (BoardChartSettings *s)
{
    s->version++;
    g_signal_emit (s, changed_signal, 0);
}

#define ACCESSORS(type, field, name)                                            \
    type board_chart_settings_get_##name (BoardChartSettings *s) { return s->field; } \
    void board_chart_settings_set_##name (BoardChartSettings *s, type v)        \
    {                                                                           \
        if (s->field == v)                                                      \
            return;                                                             \
        s->field = v;                                                           \
        changed (s);                                                            \
    }

ACCESSORS (BoardXAxis, x_axis, x_axis)
ACCESSORS (gboolean, log_x, log_x)
ACCESSORS (gboolean, log_y, log_y)
ACCESSORS (gboolean, ignore_outliers, ignore_outliers)
ACCESSORS (BoardBandMode, band, band)

double
board_chart_settings_get_smoothing (BoardChartSettings *s)
{
    return s->smoothing;
}

void
board_chart_settings_set_smoothing (BoardChartSettings *s, double w)
{
    w = CLAMP (w, 0, 0.999);
    if (s->smoothing == w)
        return;
    s->smoothing = w;
    changed (s);
}

BoardGroupMode
board_chart_settings_get_group_mode (BoardChartSettings *s)
{
    return s->group_mode;
}

GRegex *
board_chart_settings_get_group_regex (BoardChartSettings *s)
{
    return s->group_regex;
}

gboolean
board_chart_settings_set_grouping (BoardChartSettings *s, BoardGroupMode mode,
                                   const char *pattern)
{
    gboolean ok = TRUE;
    if (s->group_regex)
        g_regex_unref (s->group_regex);
    s->group_regex = NULL;
    if (mode == BOARD_GROUP_REGEX && pattern && *pattern) {
        s->group_regex = g_regex_new (pattern, G_REGEX_OPTIMIZE, 0, NULL);
        ok = s->group_regex != NULL;
    }
    s->group_mode = mode;
    changed (s);
    return ok;
}

guint
board_chart_settings_get_version (BoardChartSettings *s)
{
    return s->version;
}
