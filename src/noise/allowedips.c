/* Cryptokey routing table: a compressed binary (PATRICIA) trie per family.
 *
 * Every node is a prefix: the first cidr bits of key, the rest zero.  A child
 * hangs under child[b] of a node when it is longer, extends the node's
 * prefix, and has bit b at position node->cidr.  A node with an owner is a
 * configured prefix; a node without one is only a branch point and always
 * has two children, so the shape is canonical for the set of prefixes and
 * the node count is at most 2 * prefixes - 1.  Removal keeps that invariant
 * by pruning, so memory does not grow with add/remove churn.
 *
 * Addresses are held as two host-order 64-bit words, most significant bit
 * first (IPv4 in the top half of key[0]): a prefix compare is one XOR and a
 * count of leading zeros per word. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "allowedips.h"

struct wg_allowedips_node {
	struct wg_allowedips_node *child[2];
	struct wg_allowedips_node *parent;	/* NULL at the root */
	void *owner;				/* NULL: branch point only */
	uint64_t key[2];
	uint8_t cidr;
};

typedef struct wg_allowedips_node node_t;

static unsigned int family_bits(int family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

static node_t **root_slot(struct wg_allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

static void load_key(uint64_t key[2], const uint8_t *addr, unsigned int bits)
{
	unsigned int i;

	key[0] = key[1] = 0;
	for (i = 0; i < bits / 8; i++)
		key[i / 8] |= (uint64_t)addr[i] << (56 - 8 * (i % 8));
}

static void store_key(uint8_t *addr, const uint64_t key[2], unsigned int bits)
{
	unsigned int i;

	for (i = 0; i < bits / 8; i++)
		addr[i] = (uint8_t)(key[i / 8] >> (56 - 8 * (i % 8)));
}

/* Zeroes every bit after the first cidr. */
static void mask_key(uint64_t key[2], unsigned int cidr)
{
	if (cidr < 64) {
		key[0] &= cidr ? ~0ULL << (64 - cidr) : 0;
		key[1] = 0;
	} else if (cidr < 128) {
		key[1] &= cidr > 64 ? ~0ULL << (128 - cidr) : 0;
	}
}

/* Bit i (0 = most significant), i < 128. */
static unsigned int bit_at(const uint64_t key[2], unsigned int i)
{
	return (unsigned int)(key[i / 64] >> (63 - i % 64)) & 1;
}

/* How many leading bits a and b share, 0 to 128. */
static unsigned int common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x != 0)
		return (unsigned int)__builtin_clzll(x);
	x = a[1] ^ b[1];
	if (x != 0)
		return 64 + (unsigned int)__builtin_clzll(x);
	return 128;
}

static bool prefix_matches(const node_t *n, const uint64_t key[2])
{
	return common_bits(n->key, key) >= n->cidr;
}

static node_t *node_new(struct wg_allowedips *t, const uint64_t key[2],
    unsigned int cidr, void *owner, node_t *parent)
{
	node_t *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->key[0] = key[0];
	n->key[1] = key[1];
	mask_key(n->key, cidr);
	n->cidr = (uint8_t)cidr;
	n->owner = owner;
	n->parent = parent;
	t->nodes++;
	return n;
}

static void node_free(struct wg_allowedips *t, node_t *n)
{
	free(n);
	t->nodes--;
}

/* The pointer that holds n: its parent's child slot, or the root. */
static node_t **slot_of(node_t **root, const node_t *n)
{
	if (n->parent == NULL)
		return root;
	return &n->parent->child[bit_at(n->key, n->parent->cidr)];
}

/* Frees n when it has no owner and is not a branch point (fewer than two
 * children), splicing its only child, if any, into its place.  Returns
 * whether n was freed. */
static bool collapse(struct wg_allowedips *t, node_t **root, node_t *n)
{
	node_t *child;

	if (n->owner != NULL || (n->child[0] != NULL && n->child[1] != NULL))
		return false;
	child = n->child[0] != NULL ? n->child[0] : n->child[1];
	*slot_of(root, n) = child;
	if (child != NULL)
		child->parent = n->parent;
	node_free(t, n);
	return true;
}

/* After n lost its owner.  Freeing a leaf leaves its parent one child short,
 * so that parent may go too; splicing keeps the parent's child count, so the
 * walk stops there. */
static void prune(struct wg_allowedips *t, node_t **root, node_t *n)
{
	while (n != NULL) {
		node_t *parent = n->parent;
		bool was_leaf = n->child[0] == NULL && n->child[1] == NULL;

		if (!collapse(t, root, n) || !was_leaf)
			break;
		n = parent;
	}
}

/* Post-order walk through parent links: children before their parent, so a
 * visited node may be freed as long as its successor was taken first. */
static node_t *first_postorder(node_t *n)
{
	for (;;) {
		if (n->child[0] != NULL)
			n = n->child[0];
		else if (n->child[1] != NULL)
			n = n->child[1];
		else
			return n;
	}
}

static node_t *next_postorder(const node_t *n)
{
	node_t *p = n->parent;

	if (p == NULL)
		return NULL;
	if (p->child[0] == n && p->child[1] != NULL)
		return first_postorder(p->child[1]);
	return p;
}

/* Pre-order walk (node, child[0] subtree, child[1] subtree): ascending
 * address order, shorter prefix first. */
static const node_t *next_preorder(const node_t *n)
{
	const node_t *p;

	if (n->child[0] != NULL)
		return n->child[0];
	if (n->child[1] != NULL)
		return n->child[1];
	for (p = n->parent; p != NULL; n = p, p = p->parent)
		if (p->child[0] == n && p->child[1] != NULL)
			return p->child[1];
	return NULL;
}

/* Takes owner's prefixes (or all, when all is set) out of one trie.  In
 * post-order each node's children are final when it is visited, so one
 * collapse per node leaves the trie canonical. */
static void sweep(struct wg_allowedips *t, node_t **root, void *owner,
    bool all)
{
	node_t *n, *next;

	if (*root == NULL)
		return;
	for (n = first_postorder(*root); n != NULL; n = next) {
		next = next_postorder(n);
		if (all || n->owner == owner)
			n->owner = NULL;
		collapse(t, root, n);
	}
}

void wg_allowedips_init(struct wg_allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

void wg_allowedips_clear(struct wg_allowedips *t)
{
	sweep(t, &t->root4, NULL, true);
	sweep(t, &t->root6, NULL, true);
}

int wg_allowedips_insert(struct wg_allowedips *t, int family,
    const uint8_t *addr, uint8_t cidr, void *owner)
{
	unsigned int bits = family_bits(family), common, old_bit;
	node_t **slot, *n, *parent = NULL, *leaf, *fork;
	uint64_t key[2];

	if (bits == 0 || cidr > bits || owner == NULL)
		return -EINVAL;
	load_key(key, addr, bits);
	mask_key(key, cidr);

	slot = root_slot(t, family);
	while ((n = *slot) != NULL) {
		common = common_bits(n->key, key);
		if (common > n->cidr)
			common = n->cidr;
		if (common > cidr)
			common = cidr;

		if (common == n->cidr && common == cidr) {
			n->owner = owner;	/* same prefix: new owner */
			return 0;
		}
		if (common == n->cidr) {	/* n is a shorter prefix of ours */
			parent = n;
			slot = &n->child[bit_at(key, n->cidr)];
			continue;
		}
		if (common == cidr) {		/* ours is a shorter prefix of n */
			leaf = node_new(t, key, cidr, owner, parent);
			if (leaf == NULL)
				return -ENOMEM;
			leaf->child[bit_at(n->key, cidr)] = n;
			n->parent = leaf;
			*slot = leaf;
			return 0;
		}
		/* The two part ways at bit common: a branch point holds both. */
		fork = node_new(t, key, common, NULL, parent);
		leaf = fork ? node_new(t, key, cidr, owner, fork) : NULL;
		if (leaf == NULL) {
			if (fork != NULL)
				node_free(t, fork);
			return -ENOMEM;
		}
		old_bit = bit_at(n->key, common);
		fork->child[old_bit] = n;
		fork->child[!old_bit] = leaf;
		n->parent = fork;
		*slot = fork;
		return 0;
	}
	leaf = node_new(t, key, cidr, owner, parent);
	if (leaf == NULL)
		return -ENOMEM;
	*slot = leaf;
	return 0;
}

void *wg_allowedips_lookup(const struct wg_allowedips *t, int family,
    const uint8_t *addr)
{
	unsigned int bits = family_bits(family);
	const node_t *n;
	void *best = NULL;
	uint64_t key[2];

	if (bits == 0)
		return NULL;
	load_key(key, addr, bits);
	n = family == AF_INET ? t->root4 : t->root6;
	while (n != NULL && prefix_matches(n, key)) {
		if (n->owner != NULL)
			best = n->owner;
		if (n->cidr == bits)
			break;
		n = n->child[bit_at(key, n->cidr)];
	}
	return best;
}

/* The node holding exactly key/cidr (key already masked), or NULL. */
static node_t *find_exact(node_t *n, const uint64_t key[2], unsigned int cidr)
{
	while (n != NULL && n->cidr <= cidr && prefix_matches(n, key)) {
		if (n->cidr == cidr)
			return n;
		n = n->child[bit_at(key, n->cidr)];
	}
	return NULL;
}

int wg_allowedips_remove(struct wg_allowedips *t, int family,
    const uint8_t *addr, uint8_t cidr, void *owner)
{
	unsigned int bits = family_bits(family);
	node_t **root, *n;
	uint64_t key[2];

	if (bits == 0 || cidr > bits)
		return -EINVAL;
	load_key(key, addr, bits);
	mask_key(key, cidr);
	root = root_slot(t, family);
	n = find_exact(*root, key, cidr);
	if (n == NULL || n->owner == NULL || n->owner != owner)
		return -ENOENT;
	n->owner = NULL;
	prune(t, root, n);
	return 0;
}

void wg_allowedips_remove_by_owner(struct wg_allowedips *t, void *owner)
{
	if (owner == NULL)
		return;
	sweep(t, &t->root4, owner, false);
	sweep(t, &t->root6, owner, false);
}

int wg_allowedips_foreach_by_owner(const struct wg_allowedips *t, void *owner,
    int (*cb)(void *ctx, int family, const uint8_t *addr, uint8_t cidr),
    void *ctx)
{
	static const int families[] = { AF_INET, AF_INET6 };
	uint8_t addr[16];
	const node_t *n;
	unsigned int f;
	int ret;

	if (owner == NULL)
		return 0;
	for (f = 0; f < 2; f++) {
		n = families[f] == AF_INET ? t->root4 : t->root6;
		for (; n != NULL; n = next_preorder(n)) {
			if (n->owner != owner)
				continue;
			store_key(addr, n->key, family_bits(families[f]));
			ret = cb(ctx, families[f], addr, n->cidr);
			if (ret != 0)
				return ret;
		}
	}
	return 0;
}

size_t wg_allowedips_node_count(const struct wg_allowedips *t)
{
	return t->nodes;
}

static bool node_ok(const node_t *root, const node_t *n, unsigned int bits)
{
	uint64_t masked[2] = { n->key[0], n->key[1] };
	unsigned int b;

	mask_key(masked, n->cidr);
	if (n->cidr > bits || masked[0] != n->key[0] || masked[1] != n->key[1])
		return false;
	if (n->parent == NULL) {
		if (n != root)
			return false;
	} else if (n->parent->cidr >= n->cidr ||
	    !prefix_matches(n->parent, n->key) ||
	    n->parent->child[bit_at(n->key, n->parent->cidr)] != n) {
		return false;
	}
	for (b = 0; b < 2; b++)
		if (n->child[b] != NULL && n->child[b]->parent != n)
			return false;
	if (n->owner == NULL && (n->child[0] == NULL || n->child[1] == NULL))
		return false;
	return true;
}

bool wg_allowedips_verify(const struct wg_allowedips *t)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const node_t *root, *n;
	size_t seen = 0;
	unsigned int f;

	for (f = 0; f < 2; f++) {
		root = families[f] == AF_INET ? t->root4 : t->root6;
		for (n = root; n != NULL; n = next_preorder(n)) {
			/* Children link back before we step into them, so
			 * the walk terminates; the bound is belt and braces. */
			if (++seen > t->nodes ||
			    !node_ok(root, n, family_bits(families[f])))
				return false;
		}
	}
	return seen == t->nodes;
}
