/* A plain main() for fuzz targets built without libFuzzer: replays inputs
 * through LLVMFuzzerTestOneInput once each, which is how `make check` runs
 * the seed corpora (tmux's layout).
 *
 *	fuzz_packet FILE|DIR...
 *
 * A directory stands for the regular files directly in it, in sorted order.
 * Each input is one test; it passes when the target returns, so the
 * failure is a crash (a sanitizer report or abort()).  Each input is copied
 * into a heap block of exactly its size, so ASan catches reads past its end.
 * Arguments starting with '-' are libFuzzer flags and are ignored. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int passed, failed;

/* Reads a whole file into a block of exactly its size (caller frees).
 * Returns 0 or a negative errno. */
static int read_input(const char *path, uint8_t **datap, size_t *sizep)
{
	FILE *f;
	uint8_t *data = NULL;
	struct stat st;
	size_t size;
	int ret = 0;

	f = fopen(path, "rb");
	if (f == NULL)
		return -errno;
	if (fstat(fileno(f), &st) != 0) {
		ret = -errno;
		goto out;
	}
	size = (size_t)st.st_size;
	/* glibc's malloc(0) is a valid zero-sized block for empty inputs. */
	data = malloc(size);
	if (data == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	/* One byte more than expected proves the file did not grow. */
	if (fread(data, 1, size, f) != size || fgetc(f) != EOF ||
	    ferror(f)) {
		ret = -EIO;
		goto out;
	}
	*datap = data;
	*sizep = size;
	data = NULL;
out:
	free(data);
	fclose(f);
	return ret;
}

static void replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t size = 0;
	int ret;

	ret = read_input(path, &data, &size);
	if (ret < 0) {
		printf("FAIL %s: %s\n", path, strerror(-ret));
		failed++;
		return;
	}
	/* Name the input before running it: a crash ends the process. */
	printf("%s (%zu bytes): ", path, size);
	fflush(stdout);
	LLVMFuzzerTestOneInput(data, size);
	printf("ok\n");
	passed++;
	free(data);
}

static int regular_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void replay_dir(const char *dir)
{
	struct dirent **names;
	size_t dirlen = strlen(dir);
	const char *sep = dirlen > 0 && dir[dirlen - 1] == '/' ? "" : "/";
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		printf("FAIL %s: %s\n", dir, strerror(errno));
		failed++;
		return;
	}
	for (i = 0; i < n; i++) {
		char *path;

		if (asprintf(&path, "%s%s%s", dir, sep, names[i]->d_name) < 0) {
			fprintf(stderr, "out of memory\n");
			exit(1);
		}
		if (regular_file(path))
			replay_file(path);
		free(path);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	struct stat st;
	int i;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			replay_dir(argv[i]);
		else
			replay_file(argv[i]);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
