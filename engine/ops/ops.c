/* The list of built-in op families, registered together on first lookup. */
#include "config.h"

#include "op-registry-private.h"

void sl__ops_register_array(void);
void sl__ops_register_control_flow(void);
void sl__ops_register_data_flow(void);
void sl__ops_register_io(void);
void sl__ops_register_summary(void);
void sl__ops_register_math(void);
void sl__ops_register_nn(void);
void sl__ops_register_random(void);
void sl__ops_register_send_recv(void);
void sl__ops_register_stack(void);
void sl__ops_register_state(void);
void sl__ops_register_training(void);

void sl__ops_register_builtin(void)
{
    sl__ops_register_array();
    sl__ops_register_control_flow();
    sl__ops_register_data_flow();
    sl__ops_register_io();
    sl__ops_register_summary();
    sl__ops_register_math();
    sl__ops_register_nn();
    sl__ops_register_random();
    sl__ops_register_send_recv();
    sl__ops_register_stack();
    sl__ops_register_state();
    sl__ops_register_training();
}
