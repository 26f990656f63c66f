/* Helpers shared by the summaries tests: temporary directories, file
 * I/O, and the fixtures folder.  Each test executable links helpers.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SL_FIXTURES_DIR
#define SL_FIXTURES_DIR ""
#endif

/* A fresh directory under $TMPDIR (or /tmp); caller frees the string
 * (free) and removes the tree with th_rmtree(). */
char *th_mkdtemp(void);

/* rm -rf */
void th_rmtree(const char *path);

/* Reads a whole file into a malloc'd buffer; NULL on failure. */
uint8_t *th_read_file(const char *path, size_t *size);

/* Writes (or appends) bytes; false on failure. */
bool th_write_file(const char *path, const void *data, size_t size, bool append);

/* malloc'd "a/b" */
char *th_join(const char *a, const char *b);

/* Path of a fixture under SL_FIXTURES_DIR/events, malloc'd. */
char *th_fixture(const char *rel);

/* Whether the fixtures folder exists. */
bool th_have_fixtures(void);

/* The single file in `dir` whose name contains "tfevents"; malloc'd, NULL
 * if there is not exactly one. */
char *th_find_event_file(const char *dir);

double th_now(void);
