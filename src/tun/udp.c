/* The UDP sockets; see udp.h. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"

static void set_buffer(int fd, int force_opt, int opt)
{
	int size = WG_UDP_BUFFER_SIZE;

	/* FORCE ignores net.core.[rw]mem_max but needs CAP_NET_ADMIN; the
	 * plain option is capped by those sysctls.  Both are best effort. */
	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

static int set_mark(int fd, uint32_t mark)
{
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ?
	    -errno : 0;
}

/* One bound socket of family on port, or a negative errno. */
static int open_socket(int family, uint16_t port, uint32_t fwmark)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} addr;
	socklen_t addrlen;
	int fd, on = 1, ret = 0;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_UDP);
	if (fd < 0)
		return -errno;
	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	memset(&addr, 0, sizeof(addr));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on)) < 0 ||
		    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
		    sizeof(on)) < 0)
			goto fail;
		addr.in6.sin6_family = AF_INET6;
		addr.in6.sin6_addr = in6addr_any;
		addr.in6.sin6_port = htons(port);
		addrlen = sizeof(addr.in6);
	} else {
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0)
			goto fail;
		addr.in4.sin_family = AF_INET;
		addr.in4.sin_addr.s_addr = htonl(INADDR_ANY);
		addr.in4.sin_port = htons(port);
		addrlen = sizeof(addr.in4);
	}
	if (fwmark && set_mark(fd, fwmark) < 0)
		goto fail;
	if (bind(fd, &addr.sa, addrlen) < 0)
		goto fail;
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

static int bound_port(int fd, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* The family is missing from this host (no IPv6 in the kernel, say). */
static bool family_missing(int err)
{
	return err == -EAFNOSUPPORT || err == -EPROTONOSUPPORT;
}

/* Opens both sockets on port; 0 means any port free in both families. */
static int open_pair(struct wg_udp *udp, uint16_t port, uint32_t fwmark)
{
	int attempt, fd4, fd6, ret;
	uint16_t p = port;

	for (attempt = 0; attempt < WG_UDP_BIND_RETRIES; attempt++) {
		fd4 = open_socket(AF_INET, port, fwmark);
		if (fd4 < 0 && !family_missing(fd4))
			return fd4;
		if (fd4 >= 0 && port == 0 && (ret = bound_port(fd4, &p)) < 0) {
			close(fd4);
			return ret;
		}
		fd6 = open_socket(AF_INET6, p, fwmark);
		if (fd6 >= 0 || family_missing(fd6)) {
			if (fd4 < 0 && fd6 < 0)
				return fd4;
			if (fd6 >= 0 && p == 0 &&
			    (ret = bound_port(fd6, &p)) < 0) {
				close(fd6);
				return ret;
			}
			udp->fd4 = fd4 >= 0 ? fd4 : -1;
			udp->fd6 = fd6 >= 0 ? fd6 : -1;
			udp->port = p;
			udp->fwmark = fwmark;
			return 0;
		}
		if (fd4 >= 0)
			close(fd4);
		/* The port the kernel gave IPv4 is taken for IPv6: try
		 * another, unless the caller asked for this one. */
		if (port != 0 || fd6 != -EADDRINUSE)
			return fd6;
	}
	return -EADDRINUSE;
}

int wg_udp_open(struct wg_udp *udp, uint16_t port, uint32_t fwmark)
{
	udp->fd4 = udp->fd6 = -1;
	udp->port = 0;
	udp->fwmark = 0;
	return open_pair(udp, port, fwmark);
}

void wg_udp_close(struct wg_udp *udp)
{
	if (udp->fd4 >= 0)
		close(udp->fd4);
	if (udp->fd6 >= 0)
		close(udp->fd6);
	udp->fd4 = udp->fd6 = -1;
}

int wg_udp_rebind(struct wg_udp *udp, uint16_t port)
{
	struct wg_udp fresh;
	int ret;

	if (port != 0 && port == udp->port)
		return 0;
	fresh.fd4 = fresh.fd6 = -1;
	/* While the old sockets hold their port, a request for port 0
	 * cannot get it back: it changes, as the kernel's does. */
	ret = open_pair(&fresh, port, udp->fwmark);
	if (ret < 0)
		return ret;
	wg_udp_close(udp);
	*udp = fresh;
	return 0;
}

int wg_udp_set_fwmark(struct wg_udp *udp, uint32_t mark)
{
	int ret;

	if (mark == udp->fwmark)
		return 0;
	if (udp->fd4 >= 0 && (ret = set_mark(udp->fd4, mark)) < 0)
		return ret;
	if (udp->fd6 >= 0 && (ret = set_mark(udp->fd6, mark)) < 0)
		return ret;
	udp->fwmark = mark;
	return 0;
}

/* The local address a datagram was sent to, and its UDP GRO segment
 * size, from the control messages of one received message. */
static void read_control(struct msghdr *msg, struct wg_endpoint *from,
    size_t *seg_size)
{
	struct cmsghdr *cm;

	*seg_size = 0;
	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			/* The address the datagram was sent to, as Linux's
			 * WireGuard takes it from the IP header. */
			from->src4 = pi.ipi_addr;
			from->src_ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi6;

			memcpy(&pi6, CMSG_DATA(cm), sizeof(pi6));
			from->src6 = pi6.ipi6_addr;
			from->src_ifindex = (int)pi6.ipi6_ifindex;
		} else if (cm->cmsg_level == SOL_UDP &&
		    cm->cmsg_type == UDP_GRO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int gso;

			memcpy(&gso, CMSG_DATA(cm), sizeof(gso));
			*seg_size = gso > 0 ? (size_t)gso : 0;
		}
	}
}

int wg_udp_recv_batch(int fd, struct wg_udp_msg *msgs, unsigned n)
{
	struct mmsghdr mm[WG_UDP_MAX_BATCH];
	struct iovec iov[WG_UDP_MAX_BATCH];
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(struct in_pktinfo)) +
		    CMSG_SPACE(sizeof(int))];
	} control[WG_UDP_MAX_BATCH];
	unsigned i;
	int got;

	if (n > WG_UDP_MAX_BATCH)
		n = WG_UDP_MAX_BATCH;
	for (i = 0; i < n; i++) {
		memset(&msgs[i].from, 0, sizeof(msgs[i].from));
		iov[i].iov_base = msgs[i].buf;
		iov[i].iov_len = msgs[i].cap;
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_name = &msgs[i].from.addr;
		mm[i].msg_hdr.msg_namelen = sizeof(msgs[i].from.addr);
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_hdr.msg_control = control[i].buf;
		mm[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
	}
	do
		got = recvmmsg(fd, mm, n, MSG_DONTWAIT, NULL);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -errno;
	for (i = 0; i < (unsigned)got; i++) {
		msgs[i].len = mm[i].msg_len;
		read_control(&mm[i].msg_hdr, &msgs[i].from,
		    &msgs[i].seg_size);
		/* A truncated datagram is not one we could have sent. */
		msgs[i].truncated = (mm[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
	}
	return got;
}

/* An IPv4-mapped IPv6 destination goes out of the IPv4 socket. */
static void unmap(struct wg_endpoint *dst, const struct wg_endpoint *ep)
{
	*dst = *ep;
	if (ep->addr.sa.sa_family != AF_INET6 ||
	    !IN6_IS_ADDR_V4MAPPED(&ep->addr.in6.sin6_addr))
		return;
	memset(dst, 0, sizeof(*dst));
	dst->addr.in4.sin_family = AF_INET;
	dst->addr.in4.sin_port = ep->addr.in6.sin6_port;
	memcpy(&dst->addr.in4.sin_addr, &ep->addr.in6.sin6_addr.s6_addr[12], 4);
}

static bool has_source(const struct wg_endpoint *ep)
{
	static const struct in6_addr zero;

	if (ep->addr.sa.sa_family == AF_INET)
		return ep->src4.s_addr != 0;
	return memcmp(&ep->src6, &zero, sizeof(zero)) != 0;
}

/* Appends one control message of data_len bytes at control + *len. */
static void add_cmsg(uint8_t *control, size_t *len, int level, int type,
    const void *data, size_t data_len)
{
	struct cmsghdr *cm = (struct cmsghdr *)(control + *len);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(data_len);
	memcpy(CMSG_DATA(cm), data, data_len);
	*len += CMSG_SPACE(data_len);
}

/* One sendmsg: from ep's sticky source when with_source, and as UDP GSO
 * segments of seg_size bytes when seg_size is non-zero. */
static int send_once(int fd, const struct wg_endpoint *ep, bool with_source,
    const uint8_t *buf, size_t len, size_t seg_size)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(uint16_t))];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = (void *)&ep->addr,
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
	};
	size_t controllen = 0;
	ssize_t n;

	memset(&control, 0, sizeof(control));
	if (ep->addr.sa.sa_family == AF_INET) {
		msg.msg_namelen = sizeof(ep->addr.in4);
		if (with_source) {
			struct in_pktinfo pi = { .ipi_spec_dst = ep->src4 };

			add_cmsg(control.buf, &controllen, IPPROTO_IP,
			    IP_PKTINFO, &pi, sizeof(pi));
		}
	} else {
		msg.msg_namelen = sizeof(ep->addr.in6);
		if (with_source) {
			struct in6_pktinfo pi6 = { .ipi6_addr = ep->src6 };

			/* The interface matters only for a link-local
			 * source; elsewhere it would pin the route. */
			if (IN6_IS_ADDR_LINKLOCAL(&ep->src6))
				pi6.ipi6_ifindex = (unsigned)ep->src_ifindex;
			add_cmsg(control.buf, &controllen, IPPROTO_IPV6,
			    IPV6_PKTINFO, &pi6, sizeof(pi6));
		}
	}
	if (seg_size > 0 && seg_size < len) {
		uint16_t gso = (uint16_t)seg_size;

		add_cmsg(control.buf, &controllen, SOL_UDP, UDP_SEGMENT, &gso,
		    sizeof(gso));
	}
	msg.msg_controllen = controllen;
	if (controllen == 0)
		msg.msg_control = NULL;
	do
		n = sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : 0;
}

int wg_udp_send_segments(struct wg_udp *udp, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len, size_t seg_size)
{
	struct wg_endpoint dst;
	bool source;
	int fd, ret;

	unmap(&dst, ep);
	if (dst.addr.sa.sa_family == AF_INET)
		fd = udp->fd4;
	else if (dst.addr.sa.sa_family == AF_INET6)
		fd = udp->fd6;
	else
		return -EAFNOSUPPORT;
	if (fd < 0)
		return -EAFNOSUPPORT;
	source = has_source(&dst);
	ret = send_once(fd, &dst, source, buf, len, seg_size);
	/* Our address changed (DHCP, a roaming laptop): forget the sticky
	 * source and let the routing table choose, as Linux's send4/send6
	 * do when the source is no longer local. */
	if (source && (ret == -EINVAL || ret == -EADDRNOTAVAIL ||
	    ret == -ENETUNREACH)) {
		memset(&ep->src6, 0, sizeof(ep->src6));
		ep->src_ifindex = 0;
		ret = send_once(fd, &dst, false, buf, len, seg_size);
	}
	return ret;
}

int wg_udp_send(struct wg_udp *udp, struct wg_endpoint *ep,
    const uint8_t *buf, size_t len)
{
	return wg_udp_send_segments(udp, ep, buf, len, 0);
}

bool wg_udp_enable_gro(struct wg_udp *udp)
{
	int on = 1;
	bool ok = true;

	if (udp->fd4 >= 0 && setsockopt(udp->fd4, SOL_UDP, UDP_GRO, &on,
	    sizeof(on)) < 0)
		ok = false;
	if (udp->fd6 >= 0 && setsockopt(udp->fd6, SOL_UDP, UDP_GRO, &on,
	    sizeof(on)) < 0)
		ok = false;
	return ok;
}
