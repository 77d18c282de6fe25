/* What the unit tests share on top of check.h: the known-answer vector
 * files as cJSON trees, their string fields and Wycheproof flags, hex of a
 * fixed length, and a seeded random sequence.
 *
 * Static inline like check.h, whose counters are per program: a failure
 * here fails the current test of the program that includes it. */
#ifndef WG_TESTUTIL_H
#define WG_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "check.h"

/* Parses the vector file NAME (in check_vector_dir()); the caller frees
 * the tree with cJSON_Delete.  NULL, with the current test failed, when
 * the file cannot be read or parsed. */
static inline cJSON *load_json(const char *name)
{
	char path[1024], *text;
	cJSON *root;

	snprintf(path, sizeof(path), "%s/%s", check_vector_dir(), name);
	text = check_read_file(path, NULL);
	if (text == NULL)
		return NULL;
	root = cJSON_Parse(text);
	free(text);
	if (root == NULL)
		CHECK_FAIL("cannot parse %s", path);
	return root;
}

/* obj's string field NAME, or NULL when it is missing or no string. */
static inline const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Whether a Wycheproof test case's "flags" hold FLAG. */
static inline bool has_flag(const cJSON *test, const char *flag)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(test, "flags"))
		if (cJSON_IsString(f) && strcmp(f->valuestring, flag) == 0)
			return true;
	return false;
}

/* Decodes hex (NULL allowed, as json_str returns it) into exactly len
 * bytes of out; false, with the current test failed, otherwise. */
static inline bool unhex(const char *hex, uint8_t *out, size_t len)
{
	if (hex != NULL && check_unhex(hex, out, len) == (long)len)
		return true;
	CHECK_FAIL("not %zu bytes of hex: %.40s", len, hex ? hex : "(null)");
	return false;
}

/* splitmix64: the next number of the sequence *state seeds; a fixed seed
 * gives the same sequence on every run. */
static inline uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
