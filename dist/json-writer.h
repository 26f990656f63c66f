/* A small streaming JSON writer for the command line's --json output:
 * it tracks nesting and commas so commands only say what to write. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define SL_JSON_MAX_DEPTH 32

typedef struct sl_json {
    FILE *out;
    int depth;
    unsigned char need_comma[SL_JSON_MAX_DEPTH]; /* 0: first, 1: after a value, 2: after a key */
    bool pretty;
} sl_json;

void sl_json_init(sl_json *j, FILE *out, bool pretty);
void sl_json_begin_object(sl_json *j);
void sl_json_end_object(sl_json *j);
void sl_json_begin_array(sl_json *j);
void sl_json_end_array(sl_json *j);
/* Writes `"key":`; the next call writes its value. */
void sl_json_key(sl_json *j, const char *key);
void sl_json_string(sl_json *j, const char *s);
void sl_json_int(sl_json *j, int64_t v);
void sl_json_double(sl_json *j, double v);  /* NaN and infinities become null */
void sl_json_bool(sl_json *j, bool v);
/* Ends the document with a newline. */
void sl_json_finish(sl_json *j);
