/* sluice-studio [GRAPH]: the graph editor and run launcher. */
#include "config.h"

#include "studio-application.h"

int
main (int argc, char **argv)
{
    StudioApplication *app = studio_application_new ();
    int status = g_application_run (G_APPLICATION (app), argc, argv);
    g_object_unref (app);
    return status;
}
