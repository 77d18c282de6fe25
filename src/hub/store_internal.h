/* What the store's two pieces share and no caller needs: store.c (the
 * SQLite backend) owns struct store, store_catchup.c (the catch-up from
 * the log) reaches it only through store.h and these two. */
#ifndef WGU_HUB_STORE_INTERNAL_H
#define WGU_HUB_STORE_INTERNAL_H

#include <stdbool.h>

struct store;

/* The page cache: large while catching up, small while live.  An SQLite
 * result code (0 when done). */
int store_set_cache(struct store *s, bool large);

/* Whether a bulk load (store_bulk) is under way. */
bool store_in_bulk(const struct store *s);

#endif
