/* BoardCards: what the histogram, distribution, image and text dashboards
 * share.  Each shows one card per (run, tag) series of one kind, in a
 * scrolled container under a "Reading the logs…" label that turns into
 * "No … in these logs." once the first read is done and nothing was
 * found.  BoardCards walks the dataset's runs for new series of its kind
 * on every "changed", asks the view to make their cards, and forwards
 * "series-changed" of a series that has a card to the view's update.
 *
 * Ownership: the view owns the BoardCards (free it in dispose); the cards
 * are widgets of the container, which the view's box owns.
 * Thread-safety: main thread only.
 */
#pragma once

#include <gtk/gtk.h>

#include "board-dataset.h"

G_BEGIN_DECLS

typedef struct _BoardCards BoardCards;

/* Makes the card of a new series; it is appended to the container. */
typedef GtkWidget *(*BoardCardsMake) (gpointer view, BoardRun *run, const char *tag,
                                      BoardSeries *series);
/* Brings a card up to date after its series changed; may be NULL. */
typedef void (*BoardCardsUpdate) (gpointer view, GtkWidget *card);

/* Appends the empty label and a scrolled window holding `container` (a
 * GtkFlowBox or a vertical GtkBox) to `view`, connects to ds and makes
 * the cards of what ds holds already.  none_text is shown when the read
 * is complete and there is no series of `kind`. */
BoardCards *board_cards_new (GtkBox *view, BoardDataset *ds, BoardKind kind,
                             const char *none_text, GtkWidget *container, BoardCardsMake make,
                             BoardCardsUpdate update);

/* Disconnects from the dataset and frees; NULL is a no-op. */
void board_cards_free (BoardCards *c);

guint board_cards_get_count (BoardCards *c);

/* Calls fn on every card. */
void board_cards_foreach (BoardCards *c, GFunc fn, gpointer data);

/* A flow box laid out the way the dashboards show cards: up to 4 per
 * line, 8 px apart, at the top. */
GtkWidget *board_cards_flow_new (gboolean homogeneous);

/* The card's title, "tag — run" (free it), and a bold label of it. */
char *board_cards_title (BoardRun *run, const char *tag);
GtkWidget *board_cards_title_new (BoardRun *run, const char *tag);

G_END_DECLS
