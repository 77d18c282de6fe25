/* rtnetlink requests: see netlink.h.  The messages are the ones ip(8)
 * sends for the same commands (iproute2 ip/ipaddress.c, iproute.c,
 * iprule.c), so the kernel state is what wg-quick would leave. */
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/netlink.h"

enum {
	DUMP_BUF_SIZE = 1 << 16,	/* a dump part is at most 32 KiB */
	TABLE_SEARCH = 4096,		/* tables looked at from `first` */
};

struct request {
	struct nlmsghdr nh;
	char body[512];
};

int wg_netlink_open(struct wg_netlink *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	nl->seq = 1;
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int ret = -errno;

		close(nl->fd);
		nl->fd = -1;
		return ret;
	}
	return 0;
}

void wg_netlink_close(struct wg_netlink *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

/* Starts a request whose fixed header (ifinfomsg, ifaddrmsg, rtmsg,
 * fib_rule_hdr) is hdr_len bytes, returned zeroed. */
static void *start(struct request *r, uint16_t type, uint16_t flags,
    size_t hdr_len)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = (uint32_t)NLMSG_LENGTH(hdr_len);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&r->nh);
}

static void attr(struct request *r, uint16_t type, const void *data,
    size_t len)
{
	/* Address the attribute from the whole request, not from its nh
	 * member, so the compiler sees the real buffer size. */
	struct rtattr *rta = (struct rtattr *)((char *)r +
	    NLMSG_ALIGN(r->nh.nlmsg_len));

	/* The requests here are a few small attributes; overflowing the
	 * buffer would be a bug in this file, not bad input. */
	if (NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_SPACE(len) > sizeof(*r))
		abort();
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->nh.nlmsg_len) +
	    RTA_SPACE(len));
}

static void attr_u32(struct request *r, uint16_t type, uint32_t v)
{
	attr(r, type, &v, sizeof(v));
}

/* Sends the request and waits for its acknowledgement. */
static int transact(struct wg_netlink *nl, struct request *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	struct nlmsghdr *h;
	ssize_t n;
	int len;

	r->nh.nlmsg_seq = ++nl->seq;
	if (sendto(nl->fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0)
		return -errno;
	for (;;) {
		n = recv(nl->fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error;
			}
		}
	}
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int wg_netlink_addr_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p)
{
	struct request r;
	struct ifaddrmsg *ifa = start(&r, RTM_NEWADDR,
	    NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)p->family;
	ifa->ifa_prefixlen = p->cidr;
	ifa->ifa_index = (uint32_t)ifindex;
	attr(&r, IFA_LOCAL, p->addr, addr_len(p->family));
	attr(&r, IFA_ADDRESS, p->addr, addr_len(p->family));
	return transact(nl, &r);
}

static int set_link(struct wg_netlink *nl, int ifindex, uint32_t mtu,
    bool up)
{
	struct request r;
	struct ifinfomsg *ifi = start(&r, RTM_NEWLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (mtu)
		attr_u32(&r, IFLA_MTU, mtu);
	return transact(nl, &r);
}

int wg_netlink_set_mtu(struct wg_netlink *nl, int ifindex, uint32_t mtu)
{
	return set_link(nl, ifindex, mtu, false);
}

int wg_netlink_link_up(struct wg_netlink *nl, int ifindex)
{
	return set_link(nl, ifindex, 0, true);
}

int wg_netlink_link_delete(struct wg_netlink *nl, int ifindex)
{
	struct request r;
	struct ifinfomsg *ifi = start(&r, RTM_DELLINK, 0, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return transact(nl, &r);
}

int wg_netlink_route_add(struct wg_netlink *nl, int ifindex,
    const struct wg_config_prefix *p, uint32_t table)
{
	struct request r;
	struct rtmsg *rt = start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
	    sizeof(*rt));

	rt->rtm_family = (uint8_t)p->family;
	rt->rtm_dst_len = p->cidr;
	rt->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (p->cidr)
		attr(&r, RTA_DST, p->addr, addr_len(p->family));
	attr_u32(&r, RTA_OIF, (uint32_t)ifindex);
	attr_u32(&r, RTA_TABLE, table);
	return transact(nl, &r);
}

static int rule(struct wg_netlink *nl, uint16_t type, int family,
    uint32_t fwmark, uint32_t table)
{
	struct request r;
	struct fib_rule_hdr *frh = start(&r, type,
	    type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*frh));

	frh->family = (uint8_t)family;
	frh->action = FR_ACT_TO_TBL;
	if (fwmark) {
		/* not fwmark MARK table TABLE: everything but the tunnel's
		 * own (marked) UDP goes to the tunnel's table. */
		frh->flags = FIB_RULE_INVERT;
		attr_u32(&r, FRA_FWMARK, fwmark);
		frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
		attr_u32(&r, FRA_TABLE, table);
	} else {
		/* table main suppress_prefixlength 0: main's specific
		 * routes still win, its default route does not. */
		frh->table = RT_TABLE_MAIN;
		attr_u32(&r, FRA_TABLE, RT_TABLE_MAIN);
		attr_u32(&r, FRA_SUPPRESS_PREFIXLEN, 0);
	}
	return transact(nl, &r);
}

int wg_netlink_rule_add(struct wg_netlink *nl, int family, uint32_t fwmark,
    uint32_t table)
{
	return rule(nl, RTM_NEWRULE, family, fwmark, table);
}

int wg_netlink_rule_delete(struct wg_netlink *nl, int family, uint32_t fwmark,
    uint32_t table)
{
	return rule(nl, RTM_DELRULE, family, fwmark, table);
}

/* ---------------------------------------------------------------- dumps */

typedef int (*dump_fn)(struct nlmsghdr *h, void *ctx);

/* Sends r as a dump request and hands every answer message to fn up to
 * NLMSG_DONE.  A negative return from fn ends the walk, but the dump is
 * still read to its end so that the socket stays in step. */
static int dump(struct wg_netlink *nl, struct request *r, dump_fn fn,
    void *ctx)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct nlmsghdr *h;
	char *buf = malloc(DUMP_BUF_SIZE);
	bool done = false;
	ssize_t n;
	int len, ret = 0;

	if (buf == NULL)
		return -ENOMEM;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	r->nh.nlmsg_seq = ++nl->seq;
	if (sendto(nl->fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&sa,
	    sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	while (!done) {
		iov.iov_base = buf;
		iov.iov_len = DUMP_BUF_SIZE;
		n = recvmsg(nl->fd, &msg, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0 || (msg.msg_flags & MSG_TRUNC)) {
			ret = -EMSGSIZE;
			goto out;
		}
		len = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len);
		    h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != nl->seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (ret == 0)
					ret = h->nlmsg_len <
					    NLMSG_LENGTH(sizeof(*e)) ?
					    -EPROTO : e->error;
				done = true;
				break;
			}
			if (ret == 0)
				ret = fn(h, ctx);
		}
	}
out:
	free(buf);
	return ret;
}

struct addr_walk {
	int ifindex, family;
	struct wg_config_prefix *v;
	size_t n;
};

static int take_addr(struct nlmsghdr *h, void *ctx)
{
	struct addr_walk *w = ctx;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct wg_config_prefix *grown;
	struct rtattr *rta;
	const void *local = NULL, *address = NULL;
	int len;

	if (h->nlmsg_type != RTM_NEWADDR ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) ||
	    (int)ifa->ifa_index != w->ifindex ||
	    ifa->ifa_scope == RT_SCOPE_LINK ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    (w->family != AF_UNSPEC && ifa->ifa_family != w->family))
		return 0;
	len = (int)IFA_PAYLOAD(h);
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) != addr_len(ifa->ifa_family))
			continue;
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
	}
	/* IFA_LOCAL is the interface's own address; IPv6 sends only
	 * IFA_ADDRESS, which is then the same thing. */
	if (local == NULL)
		local = address;
	if (local == NULL)
		return 0;
	grown = realloc(w->v, (w->n + 1) * sizeof(*w->v));
	if (grown == NULL)
		return -ENOMEM;
	w->v = grown;
	memset(&w->v[w->n], 0, sizeof(w->v[w->n]));
	w->v[w->n].family = ifa->ifa_family;
	w->v[w->n].cidr = ifa->ifa_prefixlen;
	memcpy(w->v[w->n].addr, local, addr_len(ifa->ifa_family));
	w->n++;
	return 0;
}

int wg_netlink_addr_list(struct wg_netlink *nl, int ifindex, int family,
    struct wg_config_prefix **out, size_t *n)
{
	struct addr_walk w = { .ifindex = ifindex, .family = family };
	struct request r;
	struct ifaddrmsg *ifa = start(&r, RTM_GETADDR, 0, sizeof(*ifa));
	int ret;

	ifa->ifa_family = (uint8_t)family;
	ret = dump(nl, &r, take_addr, &w);
	if (ret < 0) {
		free(w.v);
		return ret;
	}
	*out = w.v;
	*n = w.n;
	return 0;
}

struct table_walk {
	uint32_t first;
	uint8_t used[TABLE_SEARCH / 8];
};

static int take_route(struct nlmsghdr *h, void *ctx)
{
	struct table_walk *w = ctx;
	struct rtmsg *rt = NLMSG_DATA(h);
	struct rtattr *rta;
	uint32_t table;
	int len;

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	/* Table numbers above 255 are only in RTA_TABLE. */
	table = rt->rtm_table;
	len = (int)RTM_PAYLOAD(h);
	for (rta = RTM_RTA(rt); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == RTA_TABLE &&
		    RTA_PAYLOAD(rta) == sizeof(uint32_t))
			memcpy(&table, RTA_DATA(rta), sizeof(table));
	if (table >= w->first && table - w->first < TABLE_SEARCH)
		w->used[(table - w->first) / 8] |=
		    (uint8_t)(1u << ((table - w->first) % 8));
	return 0;
}

int wg_netlink_free_table(struct wg_netlink *nl, uint32_t first,
    uint32_t *table)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct table_walk w = { .first = first };
	struct request r;
	struct rtmsg *rt;
	uint32_t i;
	size_t f;
	int ret;

	for (f = 0; f < 2; f++) {
		rt = start(&r, RTM_GETROUTE, 0, sizeof(*rt));
		rt->rtm_family = (uint8_t)families[f];
		if ((ret = dump(nl, &r, take_route, &w)) < 0)
			return ret;
	}
	for (i = 0; i < TABLE_SEARCH && first + i >= first; i++) {
		if (!(w.used[i / 8] & (1u << (i % 8)))) {
			*table = first + i;
			return 0;
		}
	}
	return -ENOSPC;
}
