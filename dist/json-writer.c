/* Streaming JSON writer; see json-writer.h. */
#include "config.h"

#include "json-writer.h"

#include <math.h>

void sl_json_init(sl_json *j, FILE *out, bool pretty)
{
    j->out = out;
    j->depth = 0;
    j->pretty = pretty;
    j->need_comma[0] = 0;
}

static void newline(sl_json *j)
{
    if (!j->pretty)
        return;
    fputc('\n', j->out);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Separates a value from the previous one; keys already did. */
static void before_value(sl_json *j)
{
    if (j->need_comma[j->depth] == 2)  /* just after a key */
        ;
    else {
        if (j->need_comma[j->depth])
            fputc(',', j->out);
        if (j->depth > 0)
            newline(j);
    }
    j->need_comma[j->depth] = 1;
}

static void open(sl_json *j, char c)
{
    before_value(j);
    fputc(c, j->out);
    if (j->depth + 1 < SL_JSON_MAX_DEPTH)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

static void close_(sl_json *j, char c)
{
    bool had = j->need_comma[j->depth] != 0;
    if (j->depth > 0)
        j->depth--;
    if (had)
        newline(j);
    fputc(c, j->out);
}

void sl_json_begin_object(sl_json *j) { open(j, '{'); }
void sl_json_end_object(sl_json *j) { close_(j, '}'); }
void sl_json_begin_array(sl_json *j) { open(j, '['); }
void sl_json_end_array(sl_json *j) { close_(j, ']'); }

static void write_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

void sl_json_key(sl_json *j, const char *key)
{
    before_value(j);
    write_string(j->out, key);
    fputs(j->pretty ? ": " : ":", j->out);
    j->need_comma[j->depth] = 2;
}

static void after_value(sl_json *j)
{
    j->need_comma[j->depth] = 1;
}

void sl_json_string(sl_json *j, const char *s)
{
    before_value(j);
    write_string(j->out, s ? s : "");
    after_value(j);
}

void sl_json_int(sl_json *j, int64_t v)
{
    before_value(j);
    fprintf(j->out, "%lld", (long long)v);
    after_value(j);
}

void sl_json_double(sl_json *j, double v)
{
    before_value(j);
    if (isfinite(v))
        fprintf(j->out, "%.17g", v);
    else
        fputs("null", j->out);
    after_value(j);
}

void sl_json_bool(sl_json *j, bool v)
{
    before_value(j);
    fputs(v ? "true" : "false", j->out);
    after_value(j);
}

void sl_json_finish(sl_json *j)
{
    fputc('\n', j->out);
}
