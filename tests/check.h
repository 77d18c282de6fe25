/* A tiny test harness.  Each test is a function run by RUN(); it passes when
 * no CHECK inside it failed.  main() ends with check_summary(), which prints
 * the closing line "N passed, N failed" that tests/run-tests.sh adds up.
 *
 *	static void test_abc(void) { CHECK(f(1) == 2); CHECK_MEM(a, b, 32); }
 *	int main(void) { RUN(test_abc); return check_summary(); }
 */
#ifndef WG_CHECK_H
#define WG_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_tests_passed, check_tests_failed, check_current_failed;
static const char *check_current_name;

#define CHECK(cond) do { \
	if (!(cond)) { \
		check_current_failed++; \
		fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, \
		    __LINE__, check_current_name, #cond); \
	} \
} while (0)

#define CHECK_MEM(a, b, n) do { \
	if (memcmp((a), (b), (n)) != 0) { \
		check_current_failed++; \
		fprintf(stderr, "%s:%d: %s: %s differs from %s\n", __FILE__, \
		    __LINE__, check_current_name, #a, #b); \
	} \
} while (0)

/* Fails the current test with a message (printf-style). */
#define CHECK_FAIL(...) do { \
	check_current_failed++; \
	fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, check_current_name); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
} while (0)

#define RUN(fn) check_run(#fn, fn)

static inline void check_run(const char *name, void (*fn)(void))
{
	check_current_name = name;
	check_current_failed = 0;
	fn();
	if (check_current_failed == 0) {
		check_tests_passed++;
		printf("ok   %s\n", name);
	} else {
		check_tests_failed++;
		printf("FAIL %s (%d checks failed)\n", name, check_current_failed);
	}
	fflush(stdout);
}

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_tests_passed, check_tests_failed);
	return check_tests_failed ? 1 : 0;
}

/* Where the known-answer vector files are: $WGU_VECTORS, else the source
 * tree's tests/vectors as configured at build time. */
static inline const char *check_vector_dir(void)
{
	const char *dir = getenv("WGU_VECTORS");
#ifdef TEST_VECTOR_DIR
	if (dir == NULL || *dir == '\0')
		dir = TEST_VECTOR_DIR;
#endif
	return dir ? dir : "tests/vectors";
}

/* Reads a whole file into a NUL-terminated heap buffer (caller frees), or
 * returns NULL and fails the current test. */
static inline char *check_read_file(const char *path, size_t *lenp)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (buf = malloc((size_t)len + 1)) == NULL ||
	    fread(buf, 1, (size_t)len, f) != (size_t)len) {
		check_current_failed++;
		fprintf(stderr, "%s: cannot read %s\n", check_current_name, path);
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (lenp)
		*lenp = (size_t)len;
	return buf;
}

/* Decodes hex into out (at most cap bytes); returns the length or -1. */
static inline long check_unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex), i;
	if (n % 2 || n / 2 > cap)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (long)(n / 2);
}

#endif
