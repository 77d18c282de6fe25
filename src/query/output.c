/* wgu-query's output formats: see output.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "query/output.h"

void output_begin(struct output *o, enum output_format format, FILE *f,
    const struct output_column *cols, size_t ncols)
{
	bool plant = o->plant_column;
	size_t i, k;

	*o = (struct output){ .format = format, .f = f,
	    .plant_column = plant };
	if (plant)
		ncols++;
	o->ncols = ncols < OUTPUT_COLS_MAX ? ncols : OUTPUT_COLS_MAX;
	for (i = 0; i < o->ncols; i++) {
		k = plant ? i - 1 : i;
		/* The caller's names may not outlive this call. */
		snprintf(o->names[i], OUTPUT_NAME_MAX, "%s", plant && i == 0 ?
		    "plant" : cols[k].name);
		o->cols[i] = (struct output_column){ o->names[i],
		    plant && i == 0 ? false : cols[k].number };
		o->width[i] = strlen(o->names[i]);
	}
	if (format == OUTPUT_CSV) {
		for (i = 0; i < o->ncols; i++)
			fprintf(f, "%s%s", i ? "," : "", o->names[i]);
		fputc('\n', f);
	}
}

static void csv_cell(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_row(struct output *o, const char *const *cells)
{
	size_t i;

	fputc('{', o->f);
	for (i = 0; i < o->ncols; i++) {
		fprintf(o->f, "%s", i ? "," : "");
		json_string(o->f, o->cols[i].name);
		fputc(':', o->f);
		if (cells[i][0] == '\0')
			fputs("null", o->f);
		else if (o->cols[i].number)
			fputs(cells[i], o->f);
		else
			json_string(o->f, cells[i]);
	}
	fputs("}\n", o->f);
}

static void table_line(struct output *o, const char *const *cells)
{
	size_t i;

	for (i = 0; i < o->ncols; i++) {
		int w = (int)o->width[i];
		const char *sep = i + 1 < o->ncols ? "  " : "";

		if (o->cols[i].number)
			fprintf(o->f, "%*s%s", w, cells[i], sep);
		else if (*sep)
			fprintf(o->f, "%-*s%s", w, cells[i], sep);
		else
			fputs(cells[i], o->f);
	}
	fputc('\n', o->f);
}

static void table_flush(struct output *o)
{
	const char *names[OUTPUT_COLS_MAX], *cells[OUTPUT_COLS_MAX];
	size_t i, r, pos = 0;

	for (i = 0; i < o->ncols; i++)
		names[i] = o->cols[i].name;
	table_line(o, names);
	for (r = 0; r < o->held_rows; r++) {
		for (i = 0; i < o->ncols; i++) {
			cells[i] = o->held + pos;
			pos += strlen(cells[i]) + 1;
		}
		table_line(o, cells);
	}
	free(o->held);
	o->held = NULL;
	o->held_len = o->held_cap = o->held_rows = 0;
	o->flushed = true;
}

static int hold(struct output *o, const char *const *cells)
{
	size_t i;

	for (i = 0; i < o->ncols; i++) {
		size_t n = strlen(cells[i]) + 1;

		if (o->held_len + n > o->held_cap) {
			size_t cap = o->held_cap ? o->held_cap * 2 : 65536;
			char *p;

			while (cap < o->held_len + n)
				cap *= 2;
			if ((p = realloc(o->held, cap)) == NULL)
				return -ENOMEM;
			o->held = p;
			o->held_cap = cap;
		}
		memcpy(o->held + o->held_len, cells[i], n);
		o->held_len += n;
		if (n - 1 > o->width[i])
			o->width[i] = n - 1;
	}
	o->held_rows++;
	return 0;
}

void output_row(struct output *o, const char *const *cells)
{
	char cut[OUTPUT_COLS_MAX][OUTPUT_CELL_MAX + 1];
	const char *c[OUTPUT_COLS_MAX];
	size_t i;

	for (i = 0; i < o->ncols; i++) {
		if (o->plant_column)
			c[i] = i == 0 ? o->plant : cells[i - 1];
		else
			c[i] = cells[i];
		c[i] = c[i] ? c[i] : "";
		if (strlen(c[i]) > OUTPUT_CELL_MAX) {
			memcpy(cut[i], c[i], OUTPUT_CELL_MAX);
			cut[i][OUTPUT_CELL_MAX] = '\0';
			c[i] = cut[i];
		}
	}
	o->rows++;
	switch (o->format) {
	case OUTPUT_CSV:
		for (i = 0; i < o->ncols; i++) {
			if (i)
				fputc(',', o->f);
			csv_cell(o->f, c[i]);
		}
		fputc('\n', o->f);
		break;
	case OUTPUT_JSON:
		json_row(o, c);
		break;
	case OUTPUT_TABLE:
		if (o->flushed) {
			table_line(o, c);
		} else if (hold(o, c) < 0) {
			o->error = ENOMEM;
		} else if (o->held_rows == OUTPUT_TABLE_ROWS) {
			table_flush(o);
		}
		break;
	}
}

int output_end(struct output *o)
{
	if (o->format == OUTPUT_TABLE && !o->flushed)
		table_flush(o);
	free(o->held);
	o->held = NULL;
	if (fflush(o->f) != 0 || ferror(o->f))
		return -EIO;
	return o->error ? -o->error : 0;
}
