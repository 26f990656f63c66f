/* BoardPrefs: the settings remembered between sessions, in a GKeyFile at
 * $XDG_CONFIG_HOME/sluice/board.ini:
 *
 *   [scalars]  smoothing=0.6  x-axis=step|relative|wall  log-x, log-y,
 *              ignore-outliers=true|false
 *   [colors]   RUN NAME=#rrggbb   (colors the user picked, by run name)
 *
 * Loading applies what the file holds to the chart settings and the
 * dataset's remembered colors; a missing file is no error, a damaged
 * one or a bad value is skipped (the defaults stay).  Saving writes all
 * of them (atomically, creating the folder).
 *
 * Thread-safety: main thread only (like the objects it reads and sets).
 */
#pragma once
#include "board-chart-settings.h"
#include "board-dataset.h"

G_BEGIN_DECLS

/* $XDG_CONFIG_HOME/sluice/board.ini (free it). */
char *board_prefs_default_path (void);
/* FALSE (with error) only for a file that exists and cannot be parsed. */
gboolean board_prefs_load (const char *path, BoardChartSettings *s, BoardDataset *ds,
                           GError **error);
gboolean board_prefs_save (const char *path, BoardChartSettings *s, BoardDataset *ds,
                           GError **error);

G_END_DECLS
