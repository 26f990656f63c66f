/* sluice-board LOGDIR...: the viewer of training logs. */
#include "config.h"

#include "board-application.h"

int
main (int argc, char **argv)
{
    BoardApplication *app = board_application_new ();
    int status = g_application_run (G_APPLICATION (app), argc, argv);
    g_object_unref (app);
    return status;
}
