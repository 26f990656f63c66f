/* The training setup dialog: binds the graph's placeholders to a dataset
 * (an MNIST folder, a TFRecord or a CSV file), names the loss and a
 * metric, the optimizer and its learning rate, steps, batch size, and
 * summary and checkpoint intervals, and where to train ("Train on":
 * this computer, a local cluster, SSH hosts or a Slurm allocation, with
 * the workers N, parameter servers M, synchronous or asynchronous updates,
 * and the hosts and first port where they are needed: setup->target).
 * Start hands the filled setup to `done`; Cancel or closing drops it.
 * The data path has the focus and Enter in any field starts; every
 * field's label has a mnemonic (Alt+P the path, Alt+T the steps, Alt+L
 * the loss, ...; Alt+S starts, Alt+C cancels).
 *
 * Thread-safety: main thread.
 */
#pragma once

#include <gtk/gtk.h>

#include "studio-runspec.h"

G_BEGIN_DECLS

/* done gets the setup (the dialog keeps ownership) when the user starts;
 * it returns FALSE + a message to keep the dialog open showing it. */
typedef gboolean (*StudioSetupDone) (StudioRunSetup *setup, char **message, gpointer data);

/* Takes ownership of setup. */
GtkWidget *studio_setup_dialog_show (GtkWindow *parent, StudioRunSetup *setup, StudioSetupDone done,
                                     gpointer data);

/* For SLUICE_STUDIO_TRACE: appends "setupfocus FIELD" (the field that has
 * the keyboard focus, "-" for none), "setupfield FIELD TEXT" per text
 * field (path, input:PLACEHOLDER, flag, loss, metric, lr, steps, batch,
 * summary, checkpoint, trace) and "setupmessage TEXT" when it shows one. */
void studio_setup_dialog_describe (GtkWidget *dialog, GString *out);

G_END_DECLS
