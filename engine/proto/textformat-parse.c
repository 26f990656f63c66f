/* Text format reader: a tokenizer and a recursive-descent parser that
 * fill a protobuf-c message through its descriptor, accepting what C++
 * TextFormat::Parse accepts in the files TensorFlow writes.
 *
 * Memory.  The result must be freeable by protobuf_c_message_free_unpacked
 * (msg, NULL), so every part of the message comes from libc malloc; but
 * tests fail the Nth sl_malloc to prove that no allocation failure leaks,
 * so tf_alloc() asks the sl_malloc fault hook first (an sl_malloc(0) that
 * is freed at once) and fails when the hook says so.  The invariant that
 * makes every error path leak-free: each block is linked into the message
 * tree the moment it exists (a sub-message is attached before its body is
 * parsed, a string is stored as soon as it is decoded), so on any error
 * the root alone is freed with protobuf_c_message_free_unpacked().
 * Repeated arrays grow to the next power of two, so their capacity follows
 * from the count and needs no bookkeeping.
 *
 * Positions.  Errors name the 1-based line and byte column of the token at
 * fault.  The tokenizer keeps one token of lookahead and validates string
 * literals as it reads them, so decoding later cannot fail.
 */
#include "config.h"

#include "textformat.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/alloc.h"
#include "textformat-private.h"

/* C++ TextFormat's default recursion limit. */
#define MAX_DEPTH 100

/* Longest field or enum name looked up; longer ones cannot match. */
#define MAX_NAME 256

enum tok_kind {
    TOK_END,     /* end of input */
    TOK_IDENT,   /* [A-Za-z_][A-Za-z0-9_]* */
    TOK_INT,     /* decimal, 0x hex or 0 octal, no sign */
    TOK_FLOAT,   /* digits with '.', exponent or an f suffix */
    TOK_STRING,  /* one quoted literal, quotes included, already validated */
    TOK_SYMBOL,  /* one of { } < > [ ] : , ; - */
};

struct token {
    enum tok_kind kind;
    const char *text;  /* into the input, not NUL-terminated */
    size_t len;
    size_t line;       /* 1-based */
    size_t col;        /* 1-based, in bytes */
};

struct parser {
    const char *pos;         /* next byte the tokenizer reads */
    const char *end;
    const char *line_start;  /* first byte of pos's line */
    size_t line;
    struct token tok;        /* lookahead */
    const char *source_name;
    sl_status *status;
    int depth;               /* messages open around the current field */
};

/* --- errors --- */

static sl_code fail_at(struct parser *p, size_t line, size_t col, const char *fmt, ...)
    SL_PRINTF(4, 5);

static sl_code fail_at(struct parser *p, size_t line, size_t col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sl_status_set(p->status, SL_INVALID_ARGUMENT, "%s:%zu:%zu: %s", p->source_name,
                         line, col, msg);
}

#define fail_tok(p, t, ...) fail_at((p), (t)->line, (t)->col, __VA_ARGS__)

static sl_code fail_oom(struct parser *p)
{
    return sl_status_set(p->status, SL_RESOURCE_EXHAUSTED,
                         "cannot parse '%s' as text format: out of memory", p->source_name);
}

/* Describes a token for an error message: 'text' (truncated), a string
 * literal as written, or "end of input".  Control bytes come out as \ooo. */
static const char *describe(const struct token *t, char *buf, size_t size)
{
    if (t->kind == TOK_END)
        return "end of input";
    size_t limit = 40;
    size_t n = 0;
    bool quote = t->kind != TOK_STRING;
    if (quote)
        buf[n++] = '\'';
    for (size_t i = 0; i < t->len && i < limit && n + 8 < size; i++) {
        unsigned char c = (unsigned char)t->text[i];
        if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(buf + n, size - n, "\\%03o", c);
        else
            buf[n++] = (char)c;
    }
    if (t->len > limit)
        n += (size_t)snprintf(buf + n, size - n, "...");
    if (quote)
        buf[n++] = '\'';
    buf[n] = '\0';
    return buf;
}

/* --- allocation --- */

/* libc malloc that honours the sl_malloc fault hook (see the file top). */
static void *tf_alloc(size_t size)
{
    void *probe = sl_malloc(0);
    if (!probe)
        return NULL;
    sl_free(probe);
    return malloc(size ? size : 1);
}

static void *tf_realloc(void *ptr, size_t size)
{
    void *probe = sl_malloc(0);
    if (!probe)
        return NULL;
    sl_free(probe);
    return realloc(ptr, size ? size : 1);
}

/* --- tokenizer --- */

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || is_digit(c);
}

static bool is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    return (c | 0x20) - 'a' + 10;
}

/* Appends the UTF-8 form of code point cp (<= 0x10FFFF) to out, if out is
 * not NULL; returns its length. */
static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
    unsigned char tmp[4];
    unsigned char *d = out ? out : tmp;
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Reads `n` hex digits at s (bounded by end) into *v; false if fewer. */
static bool read_hex(const char *s, const char *end, int n, uint32_t *v)
{
    if (end - s < n)
        return false;
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_hex((unsigned char)s[i]))
            return false;
        *v = *v * 16 + (uint32_t)hex_value((unsigned char)s[i]);
    }
    return true;
}

/* Decodes the escape sequence whose backslash is at *ps: advances *ps past
 * it, writes its bytes to out (when not NULL) and returns how many, or
 * returns -1 (leaving *ps) when the escape is invalid.  One function for
 * validation and decoding keeps the two from disagreeing. */
static int decode_escape(const char **ps, const char *end, unsigned char *out)
{
    const char *s = *ps + 1;
    unsigned char tmp[4];
    unsigned char *d = out ? out : tmp;
    if (s >= end)
        return -1;
    int c = (unsigned char)*s++;
    switch (c) {
    case 'a': d[0] = '\a'; break;
    case 'b': d[0] = '\b'; break;
    case 'f': d[0] = '\f'; break;
    case 'n': d[0] = '\n'; break;
    case 'r': d[0] = '\r'; break;
    case 't': d[0] = '\t'; break;
    case 'v': d[0] = '\v'; break;
    case '\\': case '\'': case '"': case '?':
        d[0] = (unsigned char)c;
        break;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        unsigned v = (unsigned)(c - '0');
        for (int i = 0; i < 2 && s < end && *s >= '0' && *s <= '7'; i++)
            v = v * 8 + (unsigned)(*s++ - '0');
        if (v > 0xff)
            return -1;
        d[0] = (unsigned char)v;
        break;
    }
    case 'x': case 'X': {
        if (s >= end || !is_hex((unsigned char)*s))
            return -1;
        unsigned v = (unsigned)hex_value((unsigned char)*s++);
        if (s < end && is_hex((unsigned char)*s))
            v = v * 16 + (unsigned)hex_value((unsigned char)*s++);
        d[0] = (unsigned char)v;
        break;
    }
    case 'u': case 'U': {
        uint32_t cp;
        int n = c == 'u' ? 4 : 8;
        if (!read_hex(s, end, n, &cp))
            return -1;
        s += n;
        if (cp >= 0xd800 && cp <= 0xdbff) {
            /* a high surrogate must be followed by \u and a low one */
            uint32_t lo;
            if (end - s < 6 || s[0] != '\\' || s[1] != 'u' || !read_hex(s + 2, end, 4, &lo) ||
                lo < 0xdc00 || lo > 0xdfff)
                return -1;
            s += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp > 0x10ffff) {
            return -1;
        }
        *ps = s;
        return (int)utf8_encode(cp, out);
    }
    default:
        return -1;
    }
    *ps = s;
    return 1;
}

static void set_token(struct parser *p, enum tok_kind kind, const char *start)
{
    p->tok.kind = kind;
    p->tok.text = start;
    p->tok.len = (size_t)(p->pos - start);
    p->tok.line = p->line;
    p->tok.col = (size_t)(start - p->line_start) + 1;
}

/* Reads a quoted literal starting at p->pos, checking every escape. */
static sl_code lex_string(struct parser *p)
{
    const char *start = p->pos;
    char quote = *p->pos++;
    while (p->pos < p->end && *p->pos != quote) {
        if (*p->pos == '\n')
            break;
        if (*p->pos == '\\') {
            const char *esc = p->pos;
            if (esc + 1 >= p->end || esc[1] == '\n')
                break;  /* unterminated: reported below */
            if (decode_escape(&p->pos, p->end, NULL) < 0) {
                int n = 2;  /* the backslash and the letter, or up to 3 octal digits */
                if (esc[1] >= '0' && esc[1] <= '7')
                    while (n < 4 && esc + n < p->end && esc[n] >= '0' && esc[n] <= '7')
                        n++;
                return fail_at(p, p->line, (size_t)(esc - p->line_start) + 1,
                               "invalid escape sequence '%.*s' in string literal", n, esc);
            }
            continue;
        }
        p->pos++;
    }
    if (p->pos >= p->end || *p->pos != quote)
        return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                       "unterminated string literal");
    p->pos++;
    set_token(p, TOK_STRING, start);
    return SL_OK;
}

/* Reads a number starting at p->pos (a digit, or '.' and a digit), the
 * way C++'s tokenizer does: hex after 0x, octal after a leading 0,
 * otherwise decimal with an optional fraction, exponent and f suffix. */
static sl_code lex_number(struct parser *p)
{
    const char *start = p->pos;
    const char *s = p->pos;
    const char *e = p->end;
    bool is_float = false;

    if (s[0] == '0' && e - s >= 2 && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        if (s >= e || !is_hex((unsigned char)*s))
            return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                           "'0x' must be followed by hex digits");
        while (s < e && is_hex((unsigned char)*s))
            s++;
    } else if (s[0] == '0' && e - s >= 2 && is_digit((unsigned char)s[1])) {
        s++;
        while (s < e && *s >= '0' && *s <= '7')
            s++;
        if (s < e && is_digit((unsigned char)*s))
            return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                           "numbers starting with a leading zero must be in octal");
    } else {
        while (s < e && is_digit((unsigned char)*s))
            s++;
        if (s < e && *s == '.') {
            is_float = true;
            s++;
            while (s < e && is_digit((unsigned char)*s))
                s++;
        }
        if (s < e && (*s == 'e' || *s == 'E')) {
            is_float = true;
            s++;
            if (s < e && (*s == '+' || *s == '-'))
                s++;
            if (s >= e || !is_digit((unsigned char)*s))
                return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                               "'e' must be followed by an exponent");
            while (s < e && is_digit((unsigned char)*s))
                s++;
        }
        if (s < e && (*s == 'f' || *s == 'F')) {
            is_float = true;
            s++;
        }
    }
    if (s < e && (is_ident_char((unsigned char)*s) || *s == '.'))
        return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                       "invalid number '%.*s'", (int)(s - start + 1), start);
    p->pos = s;
    set_token(p, is_float ? TOK_FLOAT : TOK_INT, start);
    return SL_OK;
}

/* Advances to the next token.  Fails on a malformed number or string or a
 * byte that starts no token. */
static sl_code next(struct parser *p)
{
    for (;;) {
        while (p->pos < p->end) {
            char c = *p->pos;
            if (c == '\n') {
                p->pos++;
                p->line++;
                p->line_start = p->pos;
            } else if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
                p->pos++;
            } else {
                break;
            }
        }
        if (p->pos < p->end && *p->pos == '#') {
            while (p->pos < p->end && *p->pos != '\n')
                p->pos++;
            continue;
        }
        break;
    }
    if (p->pos >= p->end) {
        set_token(p, TOK_END, p->pos);
        return SL_OK;
    }
    const char *start = p->pos;
    unsigned char c = (unsigned char)*start;
    if (is_ident_start(c)) {
        while (p->pos < p->end && is_ident_char((unsigned char)*p->pos))
            p->pos++;
        set_token(p, TOK_IDENT, start);
        return SL_OK;
    }
    if (is_digit(c) || (c == '.' && p->end - p->pos >= 2 && is_digit((unsigned char)p->pos[1])))
        return lex_number(p);
    if (c == '"' || c == '\'')
        return lex_string(p);
    if (strchr("{}<>[]:,;-", c) && c != '\0') {
        p->pos++;
        set_token(p, TOK_SYMBOL, start);
        return SL_OK;
    }
    if (c < 0x20 || c >= 0x7f)
        return fail_at(p, p->line, (size_t)(start - p->line_start) + 1,
                       "invalid character '\\%03o'", c);
    return fail_at(p, p->line, (size_t)(start - p->line_start) + 1, "invalid character '%c'",
                   c);
}

static bool tok_is(const struct parser *p, char symbol)
{
    return p->tok.kind == TOK_SYMBOL && p->tok.text[0] == symbol;
}

/* Consumes `symbol` if it is next; reports whether it was. */
static bool try_consume(struct parser *p, char symbol, sl_code *err)
{
    *err = SL_OK;
    if (!tok_is(p, symbol))
        return false;
    *err = next(p);
    return true;
}

static sl_code expect(struct parser *p, char symbol)
{
    char buf[96];
    if (!tok_is(p, symbol))
        return fail_tok(p, &p->tok, "expected '%c' but found %s", symbol,
                        describe(&p->tok, buf, sizeof(buf)));
    return next(p);
}

/* --- values --- */

/* Parses an integer token's text (decimal, 0x hex, 0 octal) into *out;
 * false when it does not fit in 64 bits. */
static bool parse_uint64(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    size_t i = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (len >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    uint64_t v = 0;
    for (; i < len; i++) {
        unsigned d = (unsigned)hex_value((unsigned char)s[i]);
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

static const char *type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32: return "int32";
    case PROTOBUF_C_TYPE_SINT32: return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32: return "sfixed32";
    case PROTOBUF_C_TYPE_INT64: return "int64";
    case PROTOBUF_C_TYPE_SINT64: return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64: return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32: return "uint32";
    case PROTOBUF_C_TYPE_FIXED32: return "fixed32";
    case PROTOBUF_C_TYPE_UINT64: return "uint64";
    case PROTOBUF_C_TYPE_FIXED64: return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT: return "float";
    case PROTOBUF_C_TYPE_DOUBLE: return "double";
    case PROTOBUF_C_TYPE_BOOL: return "bool";
    case PROTOBUF_C_TYPE_ENUM: return "enum";
    case PROTOBUF_C_TYPE_STRING: return "string";
    case PROTOBUF_C_TYPE_BYTES: return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE: return "message";
    }
    return "?";
}

static sl_code fail_type(struct parser *p, const struct token *at,
                         const ProtobufCFieldDescriptor *field, const char *what)
{
    char buf[96];
    return fail_tok(p, at, "expected %s for %s field '%s' but found %s", what,
                    type_name(field->type), field->name, describe(&p->tok, buf, sizeof(buf)));
}

/* Reads an optionally negated integer into *mag / *neg; `at` is where the
 * value starts (the '-' when there is one). */
static sl_code read_integer(struct parser *p, const ProtobufCFieldDescriptor *field,
                            const struct token *at, bool neg, uint64_t *mag)
{
    if (p->tok.kind != TOK_INT)
        return fail_type(p, at, field, "integer");
    if (!parse_uint64(p->tok.text, p->tok.len, mag))
        return fail_tok(p, at, "integer out of range for %s field '%s': %s%.*s",
                        type_name(field->type), field->name, neg ? "-" : "",
                        (int)p->tok.len, p->tok.text);
    return SL_OK;
}

/* Converts a float or integer token to double or float in the "C"
 * locale (the caller switched to it).  Decimal text goes through
 * strtod/strtof so each is rounded once, from the digits. */
static sl_code read_floating(struct parser *p, const ProtobufCFieldDescriptor *field,
                             const struct token *at, bool neg, double *d, float *f)
{
    const struct token *t = &p->tok;
    bool is_f = field->type == PROTOBUF_C_TYPE_FLOAT;

    if (t->kind == TOK_IDENT) {
        char low[16];
        size_t n = t->len < sizeof(low) - 1 ? t->len : sizeof(low) - 1;
        for (size_t i = 0; i < n; i++)
            low[i] = (char)(t->text[i] | 0x20);
        low[n] = '\0';
        if (t->len == n && (strcmp(low, "inf") == 0 || strcmp(low, "infinity") == 0)) {
            *d = neg ? -INFINITY : INFINITY;
        } else if (t->len == n && strcmp(low, "nan") == 0) {
            *d = neg ? -NAN : NAN;
        } else {
            return fail_type(p, at, field, "number");
        }
        *f = (float)*d;
        return SL_OK;
    }
    if (t->kind == TOK_INT && t->len >= 2 && t->text[0] == '0') {
        /* hex or octal: exact as an integer, then converted */
        uint64_t v;
        if (!parse_uint64(t->text, t->len, &v))
            return fail_tok(p, at, "integer out of range for %s field '%s': %.*s",
                            type_name(field->type), field->name, (int)t->len, t->text);
        *d = neg ? -(double)v : (double)v;
        *f = neg ? -(float)v : (float)v;
        return SL_OK;
    }
    if (t->kind != TOK_INT && t->kind != TOK_FLOAT)
        return fail_type(p, at, field, "number");

    char small[128];
    char *buf = small;
    size_t n = t->len;
    if (n > 0 && (t->text[n - 1] == 'f' || t->text[n - 1] == 'F'))
        n--;  /* the f suffix */
    if (n + 2 > sizeof(small)) {
        buf = sl_malloc(n + 2);
        if (!buf)
            return fail_oom(p);
    }
    buf[0] = neg ? '-' : '+';
    memcpy(buf + 1, t->text, n);
    buf[n + 1] = '\0';
    /* overflow gives +-inf and underflow a denormal or zero, as in C++ */
    if (is_f) {
        *f = strtof(buf, NULL);
        *d = *f;
    } else {
        *d = strtod(buf, NULL);
        *f = (float)*d;
    }
    if (buf != small)
        sl_free(buf);
    return SL_OK;
}

/* Counts (out == NULL) or decodes the run of adjacent string literals
 * that starts at the current token, which must be a string; returns the
 * decoded length.  Literals were validated when tokenized.  With out, the
 * tokenizer advances past the run. */
static size_t decode_strings(const struct token *first, const char *end, unsigned char *out)
{
    /* the run is contiguous text: literals, whitespace, comments */
    size_t n = 0;
    const char *s = first->text;
    for (;;) {
        char quote = *s++;
        while (*s != quote) {
            if (*s == '\\') {
                n += (size_t)decode_escape(&s, end, out ? out + n : NULL);
            } else {
                if (out)
                    out[n] = (unsigned char)*s;
                n++;
                s++;
            }
        }
        s++;
        /* skip to the next token: is it another literal? */
        for (;;) {
            while (s < end && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
                               *s == '\v' || *s == '\f'))
                s++;
            if (s < end && *s == '#') {
                while (s < end && *s != '\n')
                    s++;
                continue;
            }
            break;
        }
        if (s >= end || (*s != '"' && *s != '\''))
            return n;
    }
}

/* Reads adjacent string literals into a fresh tf_alloc'd buffer with a
 * NUL after the *len bytes.  Every literal in the run is tokenized (and so
 * validated) before anything is decoded. */
static sl_code read_strings(struct parser *p, const ProtobufCFieldDescriptor *field,
                            unsigned char **data, size_t *len)
{
    if (p->tok.kind != TOK_STRING)
        return fail_type(p, &p->tok, field, "string");
    struct token first = p->tok;
    sl_code rc;
    while ((rc = next(p)) == SL_OK && p->tok.kind == TOK_STRING)
        ;
    if (rc != SL_OK)
        return rc;
    size_t n = decode_strings(&first, p->end, NULL);
    unsigned char *buf = tf_alloc(n + 1);
    if (!buf)
        return fail_oom(p);
    decode_strings(&first, p->end, buf);
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return SL_OK;
}

/* --- storing into the message --- */

/* Returns the slot for one more element of a repeated field, growing the
 * array to the next power of two when the count is one; the caller writes
 * the slot and then bumps the count. */
static void *repeated_slot(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    size_t *n = SL__TF_MEMBER(msg, field->quantifier_offset);
    void **arr = SL__TF_MEMBER(msg, field->offset);
    size_t elt = sl__textformat_element_size(field->type);
    if (*n == 0 || (*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 1;
        if (cap > SIZE_MAX / elt)
            return NULL;
        void *grown = tf_realloc(*n ? *arr : NULL, cap * elt);
        if (!grown)
            return NULL;
        *arr = grown;
    }
    return (char *)*arr + *n * elt;
}

/* Stores one value (elt bytes at `value`) into field: appended for a
 * repeated field, else written with its oneof case or has_ flag set.  On
 * failure the value is not stored and the caller still owns it. */
static sl_code store(struct parser *p, ProtobufCMessage *msg,
                     const ProtobufCFieldDescriptor *field, const void *value)
{
    size_t elt = sl__textformat_element_size(field->type);
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        void *slot = repeated_slot(msg, field);
        if (!slot)
            return fail_oom(p);
        memcpy(slot, value, elt);
        (*(size_t *)SL__TF_MEMBER(msg, field->quantifier_offset))++;
        return SL_OK;
    }
    memcpy(SL__TF_MEMBER(msg, field->offset), value, elt);
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        *(uint32_t *)SL__TF_MEMBER(msg, field->quantifier_offset) = field->id;
    } else if (field->label == PROTOBUF_C_LABEL_OPTIONAL &&
               field->type != PROTOBUF_C_TYPE_STRING &&
               field->type != PROTOBUF_C_TYPE_MESSAGE) {
        *(protobuf_c_boolean *)SL__TF_MEMBER(msg, field->quantifier_offset) = 1;
    }
    return SL_OK;
}

/* Parses one scalar value of field (the ':' is consumed) and stores it. */
static sl_code parse_scalar(struct parser *p, ProtobufCMessage *msg,
                            const ProtobufCFieldDescriptor *field)
{
    const struct token at = p->tok;
    bool neg = false;
    sl_code rc;
    union {
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f;
        double d;
        protobuf_c_boolean b;
        int e;
        char *str;
        ProtobufCBinaryData bytes;
    } v;

    memset(&v, 0, sizeof(v));
    if (field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_BYTES) {
        unsigned char *data = NULL;
        size_t len = 0;
        if ((rc = read_strings(p, field, &data, &len)) != SL_OK)
            return rc;
        if (field->type == PROTOBUF_C_TYPE_STRING) {
            v.str = (char *)data;
        } else if (len == 0) {
            free(data);  /* protobuf-c's unpack keeps no buffer for "" */
            data = NULL;
        } else {
            v.bytes.len = len;
            v.bytes.data = data;
        }
        rc = store(p, msg, field, &v);
        if (rc != SL_OK)
            free(data);
        return rc;
    }

    if (tok_is(p, '-')) {
        neg = true;
        if ((rc = next(p)) != SL_OK)
            return rc;
    }
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        uint64_t mag = 0;
        bool is32 = field->type == PROTOBUF_C_TYPE_INT32 ||
                    field->type == PROTOBUF_C_TYPE_SINT32 ||
                    field->type == PROTOBUF_C_TYPE_SFIXED32;
        uint64_t limit = is32 ? (uint64_t)INT32_MAX : (uint64_t)INT64_MAX;
        if ((rc = read_integer(p, field, &at, neg, &mag)) != SL_OK)
            return rc;
        if (mag > limit + (neg ? 1 : 0))
            return fail_tok(p, &at, "integer out of range for %s field '%s': %s%.*s",
                            type_name(field->type), field->name, neg ? "-" : "",
                            (int)p->tok.len, p->tok.text);
        /* two's complement negation of the magnitude, without overflow */
        uint64_t bits = neg ? ~mag + 1 : mag;
        if (is32)
            v.i32 = (int32_t)(uint32_t)bits;
        else
            v.i64 = (int64_t)bits;
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t mag = 0;
        bool is32 = field->type == PROTOBUF_C_TYPE_UINT32 ||
                    field->type == PROTOBUF_C_TYPE_FIXED32;
        if ((rc = read_integer(p, field, &at, neg, &mag)) != SL_OK)
            return rc;
        if ((neg && mag != 0) || (is32 && mag > UINT32_MAX))
            return fail_tok(p, &at, "integer out of range for %s field '%s': %s%.*s",
                            type_name(field->type), field->name, neg ? "-" : "",
                            (int)p->tok.len, p->tok.text);
        if (is32)
            v.u32 = (uint32_t)mag;
        else
            v.u64 = mag;
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE: {
        double d = 0;
        float f = 0;
        if ((rc = read_floating(p, field, &at, neg, &d, &f)) != SL_OK)
            return rc;
        if (field->type == PROTOBUF_C_TYPE_FLOAT)
            v.f = f;
        else
            v.d = d;
        break;
    }
    case PROTOBUF_C_TYPE_BOOL: {
        const struct token *t = &p->tok;
        uint64_t mag = 0;
        if (!neg && t->kind == TOK_IDENT &&
            ((t->len == 4 && memcmp(t->text, "true", 4) == 0) ||
             (t->len == 4 && memcmp(t->text, "True", 4) == 0) ||
             (t->len == 1 && t->text[0] == 't'))) {
            v.b = 1;
        } else if (!neg && t->kind == TOK_IDENT &&
                   ((t->len == 5 && memcmp(t->text, "false", 5) == 0) ||
                    (t->len == 5 && memcmp(t->text, "False", 5) == 0) ||
                    (t->len == 1 && t->text[0] == 'f'))) {
            v.b = 0;
        } else if (!neg && t->kind == TOK_INT && parse_uint64(t->text, t->len, &mag) &&
                   mag <= 1) {
            v.b = (protobuf_c_boolean)mag;
        } else {
            return fail_type(p, &at, field, "true or false");
        }
        break;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *ed = field->descriptor;
        const struct token *t = &p->tok;
        if (!neg && t->kind == TOK_IDENT) {
            char name[MAX_NAME];
            const ProtobufCEnumValue *ev = NULL;
            if (t->len < sizeof(name)) {
                memcpy(name, t->text, t->len);
                name[t->len] = '\0';
                ev = protobuf_c_enum_descriptor_get_value_by_name(ed, name);
            }
            if (!ev)
                return fail_tok(p, t, "unknown value '%.*s' for enum field '%s' (%s)",
                                (int)t->len, t->text, field->name, ed->name);
            v.e = ev->value;
        } else if (t->kind == TOK_INT) {
            /* a number needs no name: proto3 enums are open */
            uint64_t mag = 0;
            if (!parse_uint64(t->text, t->len, &mag) ||
                mag > (uint64_t)INT32_MAX + (neg ? 1 : 0))
                return fail_tok(p, &at, "integer out of range for enum field '%s': %s%.*s",
                                field->name, neg ? "-" : "", (int)t->len, t->text);
            v.e = (int)(int32_t)(uint32_t)(neg ? ~mag + 1 : mag);
        } else {
            return fail_type(p, &at, field, "enum value name or number");
        }
        break;
    }
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE:
        return fail_type(p, &at, field, "value");  /* not reached */
    }
    if ((rc = store(p, msg, field, &v)) != SL_OK)
        return rc;
    return next(p);
}

static sl_code parse_fields(struct parser *p, ProtobufCMessage *msg, char close);

/* Parses `{ ... }` or `< ... >` into a new sub-message of field. */
static sl_code parse_submessage(struct parser *p, ProtobufCMessage *msg,
                                const ProtobufCFieldDescriptor *field)
{
    char buf[96];
    char close;
    sl_code rc;

    if (tok_is(p, '{')) {
        close = '}';
    } else if (tok_is(p, '<')) {
        close = '>';
    } else {
        return fail_tok(p, &p->tok, "expected '{' or '<' for message field '%s' but found %s",
                        field->name, describe(&p->tok, buf, sizeof(buf)));
    }
    if (p->depth >= MAX_DEPTH)
        return fail_tok(p, &p->tok, "messages nested deeper than %d levels", MAX_DEPTH);

    const ProtobufCMessageDescriptor *sd = field->descriptor;
    ProtobufCMessage *sub = tf_alloc(sd->sizeof_message);
    if (!sub)
        return fail_oom(p);
    sd->message_init(sub);
    /* attach first: from here the root owns it (see the file top) */
    if ((rc = store(p, msg, field, &sub)) != SL_OK) {
        free(sub);
        return rc;
    }
    if ((rc = next(p)) != SL_OK)
        return rc;
    p->depth++;
    rc = parse_fields(p, sub, close);
    p->depth--;
    if (rc != SL_OK)
        return rc;
    return expect(p, close);
}

/* Parses `[ v, v, ... ]` (the '[' is current) with one_value per item. */
static sl_code parse_list(struct parser *p, ProtobufCMessage *msg,
                          const ProtobufCFieldDescriptor *field,
                          sl_code (*one_value)(struct parser *, ProtobufCMessage *,
                                               const ProtobufCFieldDescriptor *))
{
    sl_code rc;
    bool done;
    if ((rc = next(p)) != SL_OK)
        return rc;
    if ((done = try_consume(p, ']', &rc)) || rc != SL_OK)
        return rc;
    for (;;) {
        if ((rc = one_value(p, msg, field)) != SL_OK)
            return rc;
        if ((done = try_consume(p, ']', &rc)) || rc != SL_OK)
            return rc;
        if ((rc = expect(p, ',')) != SL_OK)
            return rc;
    }
}

/* Parses what follows a field name: `: value`, `: [list]`, `{ ... }`. */
static sl_code parse_field_value(struct parser *p, ProtobufCMessage *msg,
                                 const ProtobufCFieldDescriptor *field)
{
    char buf[96];
    sl_code rc;
    bool repeated = field->label == PROTOBUF_C_LABEL_REPEATED;

    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        try_consume(p, ':', &rc);  /* optional before a message */
        if (rc != SL_OK)
            return rc;
        if (repeated && tok_is(p, '['))
            return parse_list(p, msg, field, parse_submessage);
        return parse_submessage(p, msg, field);
    }
    if (!tok_is(p, ':'))
        return fail_tok(p, &p->tok, "expected ':' after field name '%s' but found %s",
                        field->name, describe(&p->tok, buf, sizeof(buf)));
    if ((rc = next(p)) != SL_OK)
        return rc;
    if (tok_is(p, '[')) {
        if (!repeated)
            return fail_tok(p, &p->tok, "field '%s' is not repeated but a list was given",
                            field->name);
        return parse_list(p, msg, field, parse_scalar);
    }
    return parse_scalar(p, msg, field);
}

/* Parses fields into msg until `close` (0: the end of input), which is
 * left as the current token. */
static sl_code parse_fields(struct parser *p, ProtobufCMessage *msg, char close)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    unsigned char seen_small[64];
    unsigned char *seen = seen_small;
    char buf[96];
    sl_code rc = SL_OK;

    if (desc->n_fields > sizeof(seen_small)) {
        seen = sl_calloc(desc->n_fields, 1);
        if (!seen)
            return fail_oom(p);
    } else {
        memset(seen_small, 0, sizeof(seen_small));
    }

    for (;;) {
        if (close ? tok_is(p, close) : p->tok.kind == TOK_END)
            break;
        if (p->tok.kind == TOK_END) {
            rc = fail_tok(p, &p->tok, "expected '%c' but found end of input", close);
            goto out_free_seen;
        }
        if (p->tok.kind != TOK_IDENT) {
            if (tok_is(p, '['))
                rc = fail_tok(p, &p->tok, "extension and Any fields ('[...]') are not "
                              "supported in %s", desc->name);
            else if (close)
                rc = fail_tok(p, &p->tok, "expected '%c' but found %s", close,
                              describe(&p->tok, buf, sizeof(buf)));
            else
                rc = fail_tok(p, &p->tok, "expected field name but found %s",
                              describe(&p->tok, buf, sizeof(buf)));
            goto out_free_seen;
        }

        struct token name_tok = p->tok;
        char name[MAX_NAME];
        const ProtobufCFieldDescriptor *field = NULL;
        if (name_tok.len < sizeof(name)) {
            memcpy(name, name_tok.text, name_tok.len);
            name[name_tok.len] = '\0';
            field = protobuf_c_message_descriptor_get_field_by_name(desc, name);
        }
        if (!field) {
            rc = fail_tok(p, &name_tok, "unknown field '%.*s' in %s", (int)name_tok.len,
                          name_tok.text, desc->name);
            goto out_free_seen;
        }
        size_t idx = (size_t)(field - desc->fields);
        if (field->label != PROTOBUF_C_LABEL_REPEATED) {
            if (seen[idx]) {
                rc = fail_tok(p, &name_tok, "non-repeated field '%s' is specified multiple "
                              "times", field->name);
                goto out_free_seen;
            }
            if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
                uint32_t set = *(uint32_t *)SL__TF_MEMBER(msg, field->quantifier_offset);
                const ProtobufCFieldDescriptor *other =
                    set ? protobuf_c_message_descriptor_get_field(desc, set) : NULL;
                if (other) {
                    rc = fail_tok(p, &name_tok, "field '%s' is specified along with field "
                                  "'%s', another member of the same oneof", field->name,
                                  other->name);
                    goto out_free_seen;
                }
            }
            seen[idx] = 1;
        }
        if ((rc = next(p)) != SL_OK || (rc = parse_field_value(p, msg, field)) != SL_OK)
            goto out_free_seen;
        if (tok_is(p, ',') || tok_is(p, ';')) {
            if ((rc = next(p)) != SL_OK)
                goto out_free_seen;
        }
    }

    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->label == PROTOBUF_C_LABEL_REQUIRED && !seen[i] && !f->default_value) {
            rc = fail_tok(p, &p->tok, "missing required field '%s' in %s", f->name,
                          desc->name);
            goto out_free_seen;
        }
    }

out_free_seen:
    if (seen != seen_small)
        sl_free(seen);
    return rc;
}

ProtobufCMessage *sl_textformat_parse(const ProtobufCMessageDescriptor *desc, const char *text,
                                      size_t len, const char *source_name, sl_status *status)
{
    struct parser p = {0};
    ProtobufCMessage *root;
    sl_code rc;

    if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || (!text && len)) {
        sl_status_set(status, SL_INVALID_ARGUMENT,
                      "cannot parse text format: no message descriptor or no text");
        return NULL;
    }
    p.pos = text ? text : "";
    p.end = p.pos + len;
    p.line_start = p.pos;
    p.line = 1;
    p.source_name = source_name ? source_name : "<input>";
    p.status = status;

    root = tf_alloc(desc->sizeof_message);
    if (!root) {
        fail_oom(&p);
        return NULL;
    }
    desc->message_init(root);

    locale_t saved = sl__textformat_enter_c_locale();
    rc = next(&p);
    if (rc == SL_OK)
        rc = parse_fields(&p, root, 0);
    sl__textformat_leave_c_locale(saved);
    if (rc != SL_OK)
        goto err_free_root;
    sl_status_clear(status);
    return root;

err_free_root:
    protobuf_c_message_free_unpacked(root, NULL);
    return NULL;
}
