/* wgu-query's output: rows of cells in one of three formats.
 *
 * - table: aligned columns under a header, numbers to the right (the
 *   widths come from the first OUTPUT_TABLE_ROWS rows, which are held
 *   back until then; a wider cell later just pushes its row);
 * - csv: a header line, then RFC 4180 rows (a cell holding a comma, a
 *   quote or a line break is quoted, its quotes doubled);
 * - json: one object per row (JSON lines), numbers as numbers, an empty
 *   cell as null.
 *
 * Usage: output_begin(), output_row() per row, output_end(). */
#ifndef WGU_QUERY_OUTPUT_H
#define WGU_QUERY_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum output_format { OUTPUT_TABLE, OUTPUT_CSV, OUTPUT_JSON };

enum {
	OUTPUT_COLS_MAX = 24,
	OUTPUT_CELL_MAX = 512,
	OUTPUT_TABLE_ROWS = 1000,
	OUTPUT_NAME_MAX = 48,
};

struct output_column {
	const char *name;
	bool number;		/* right-aligned, unquoted in JSON */
};

struct output {
	enum output_format format;
	FILE *f;
	struct output_column cols[OUTPUT_COLS_MAX];	/* names below */
	char names[OUTPUT_COLS_MAX][OUTPUT_NAME_MAX];
	size_t ncols;
	size_t width[OUTPUT_COLS_MAX];
	char *held;		/* table: rows held back, cells NUL-separated */
	size_t held_len, held_cap, held_rows;
	bool flushed;		/* table: header printed */
	size_t rows;
	int error;		/* ENOMEM seen */
	/* Set before output_begin, kept by it: a first column "plant"
	 * (several plants of PostgreSQL), each row's from plant. */
	bool plant_column;
	const char *plant;
};

/* The column names are copied (cut at OUTPUT_NAME_MAX - 1 bytes). */
void output_begin(struct output *o, enum output_format format, FILE *f,
    const struct output_column *cols, size_t ncols);

/* One row: ncols cells (without the plant), "" for none.  A cell is cut at OUTPUT_CELL_MAX. */
void output_row(struct output *o, const char *const *cells);

/* Prints what is held back; 0 or -errno (ENOMEM, or a write error). */
int output_end(struct output *o);

#endif
