/* output.h: rendering structured results for people (tables) or as JSON. */
#ifndef MLSH_OUTPUT_H
#define MLSH_OUTPUT_H

#include <stdio.h>
#include <cjson/cJSON.h>

/*
 * A string prints as it is; a number or boolean as a word; an array of
 * objects as an aligned table (columns in order of first appearance, headers
 * upper-cased); an array of scalars one per line; an object as aligned
 * "key  value" lines. Nested values inside a cell print as compact JSON.
 * Control characters in values are shown escaped so a value can never move
 * the cursor or break the table. With color, headers are bold.
 */
void output_render(FILE *, const cJSON *, int color);
void output_json(FILE *, const cJSON *);
/* A cell's text (caller frees). */
char *output_cell(const cJSON *);
/* Display width of a UTF-8 string (invalid bytes count as one column). */
size_t output_width(const char *);

#endif
