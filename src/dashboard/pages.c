/* The pages, the static files, chart.js, login and logout.
 *
 * Files come from the --static directory, opened once at start (its fd:
 * it need not stay reachable by path for the sandboxed user) with
 * openat() of a path the request layer has already reduced to plain
 * names, no "." or ".." segments. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dashboard/http_internal.h"
#include "dashboard/ratelimit.h"
#include "dashboard/sse.h"
#include "dashboard/users.h"

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".json", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

/* A regular file below dirfd (or an absolute path) as a response; NULL
 * when it is not there. */
static struct MHD_Response *file_response(int dirfd, const char *path)
{
	struct MHD_Response *r;
	struct stat st;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	r = MHD_create_response_from_fd((size_t)st.st_size, fd);
	if (r == NULL) {
		close(fd);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    content_type(path));
	return r;
}

static enum MHD_Result send_file(struct http_request *rq, int dirfd,
    const char *path, enum cache cache)
{
	struct MHD_Response *r = file_response(dirfd, path);

	if (r == NULL)
		return http_error(rq, 404, "no such file");
	return http_send(rq, 200, r, cache);
}

/* The login page again, with status 401 or 429 (then with Retry-After);
 * a JSON error when there is no login page. */
static enum MHD_Result login_page(struct http_request *rq, unsigned status,
    unsigned retry_after)
{
	struct MHD_Response *r = file_response(rq->srv->cfg.static_fd,
	    "login.html");
	char retry[16];

	if (r == NULL)
		return http_error(rq, status, status == 429 ? "too many "
		    "failed logins" : status == 401 ? "wrong user name or "
		    "password" : "no login page");
	if (retry_after) {
		snprintf(retry, sizeof(retry), "%u", retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER,
		    retry);
	}
	return http_send(rq, status, r, CACHE_NONE);
}

static void log_login(struct http_request *rq, const char *what,
    const char *name)
{
	if (rq->srv->cfg.quiet)
		return;
	/* Never the password; the name only when it is a valid one (a
	 * password typed into the name field is not). */
	fprintf(stderr, "wgu-dashboard: login %s for %s from %s\n", what,
	    users_name_valid(name) ? name : "(not a user name)", rq->addr);
}

static enum MHD_Result login(struct http_request *rq)
{
	struct http_server *s = rq->srv;
	const char *name = req_params_get(&rq->form, "username");
	const char *pw = req_params_get(&rq->form, "password");
	char id[REQ_TOKEN_HEX + 1], cookie[160];
	struct session_info info;
	enum user_role role;
	unsigned wait;
	int64_t now = http_now_ms();

	if (name == NULL || pw == NULL)
		return http_error(rq, 400, "the form needs username and "
		    "password");
	wait = loginlimit_check(s->limit, rq->addr, name, now);
	if (wait > 0) {
		log_login(rq, "refused (too many failures)", name);
		return login_page(rq, 429, wait);
	}
	role = users_verify(s->users, name, pw, strlen(pw));
	if (role == USER_ROLE_NONE) {
		loginlimit_failed(s->limit, rq->addr, name, now);
		log_login(rq, "failed", name);
		return login_page(rq, 401, 0);
	}
	loginlimit_succeeded(s->limit, name);
	if (sessions_create(s->sessions, name, role, now, id, &info) < 0)
		return http_error(rq, 500, "no random bytes for a session");
	snprintf(cookie, sizeof(cookie), SESSION_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict%s", id, s->tls ? "; Secure" : "");
	explicit_bzero(id, sizeof(id));
	log_login(rq, "ok", name);
	return http_redirect(rq, "/", cookie);
}

static enum MHD_Result logout(struct http_request *rq)
{
	sessions_remove(rq->srv->sessions, rq->session_id);
	sse_close_session(rq->srv->sse, rq->session_id);
	return http_redirect(rq, "/login", SESSION_COOKIE "=; Path=/; "
	    "Max-Age=0; HttpOnly; SameSite=Strict");
}

static enum MHD_Result chartjs(struct http_request *rq)
{
	const char *path = rq->srv->cfg.chartjs;

	if (path == NULL)
		return http_error(rq, 404, "no chart.js configured");
	/* Absolute (checked at start); dirfd is then ignored. */
	return send_file(rq, AT_FDCWD, path, CACHE_REVALIDATE);
}

enum MHD_Result pages_handle(struct http_request *rq)
{
	int dirfd = rq->srv->cfg.static_fd;

	switch (rq->t.route) {
	case ROUTE_PAGE_INDEX:
		return send_file(rq, dirfd, "index.html", CACHE_NONE);
	case ROUTE_PAGE_NODE:
		return send_file(rq, dirfd, "node.html", CACHE_NONE);
	case ROUTE_PAGE_ALARMS:
		return send_file(rq, dirfd, "alarms.html", CACHE_NONE);
	case ROUTE_PAGE_TUNNEL:
		return send_file(rq, dirfd, "tunnel.html", CACHE_NONE);
	case ROUTE_STATIC:
		return send_file(rq, dirfd, rq->t.arg, CACHE_REVALIDATE);
	case ROUTE_CHARTJS:
		return chartjs(rq);
	case ROUTE_LOGIN:
		if (rq->method == REQ_POST)
			return login(rq);
		if (rq->has_session)
			return http_redirect(rq, "/", NULL);
		return login_page(rq, 200, 0);
	case ROUTE_LOGOUT:
		return logout(rq);
	default:
		return http_error(rq, 404, "no such resource");
	}
}
