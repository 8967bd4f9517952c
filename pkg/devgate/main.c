/* SPDX-License-Identifier: MIT */
/* devgate - the device communication gate: the TCP port (7804) managed
 * devices connect to.
 *
 * Device protocol (line based): the device sends "HELLO <name>", the gate
 * answers "WELCOME <name>"; afterwards "PING" gets "PONG". Blocking sends
 * "BYE blocked" to every device, closes their connections gracefully and
 * closes the listener; unblocking reopens it. The blocked state is written
 * (atomically) to STATE_DIR/state before the listener closes, so a restart
 * of the daemon or the node during a hot patch keeps the gate blocked.
 * Controlled over a root-only unix socket (ctl.h): status, block, unblock.
 *
 * Limits, so that a flood of connections cannot take the gate down:
 * - at most max_devices connections (default 1024), counting those that
 *   have not said HELLO yet; one more is told "ERROR too many devices" and
 *   closed at once;
 * - max_devices must fit below the open-file limit with FD_RESERVE fds to
 *   spare: devgate raises its soft RLIMIT_NOFILE to max_devices+FD_RESERVE
 *   when the hard limit allows, and otherwise lowers max_devices (logged);
 * - should accept() still fail for lack of fds or memory (EMFILE, ENFILE:
 *   another process, a lowered limit), the listener is not polled for
 *   ACCEPT_PAUSE_MS instead of spinning on it; the control socket keeps
 *   SPARE_FDS fds in reserve, released while it serves a request, so status
 *   and block still work;
 * - a device must say HELLO within hello_timeout (default 10 s) and then
 *   send a line (PING) at least every idle_timeout (default 300 s), or it
 *   gets "BYE idle" and is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/daemon.h"
#include "kv.h"
#include "proto.h"
#include "spare_fds.h"
#include "exitcode.h"
#include "util.h"

#define USAGE                                                                            \
	"usage: devgate [-c CONF] [-p PORT] [-s SOCKET] [-S STATE_DIR]\n"                \
	"  -c  configuration (env DEVGATE_CONF, default /etc/devgate.conf; keys:\n"      \
	"      listen, port, socket, state_dir, max_devices (default 1024, lowered\n"    \
	"      to fit the open-file limit), hello_timeout (10s), idle_timeout (300s))\n" \
	"  -p  device port (default 7804)\n"                                             \
	"  -s  control socket (default /run/devgate.sock)\n"                             \
	"  -S  state directory (default /var/lib/devgate)\n"                             \
	"Exit: 0 stopped by SIGTERM/SIGINT, 100 usage, 111 cannot start\n"               \
	"      (the contract of every space tool: README.md, Exit codes).\n"

/* fds besides the devices': stdio, signalfd, the two listeners, the
 * spares, a control client, the state file and its directory while it is
 * written, with room to spare. */
#define FD_RESERVE 16
#define SPARE_FDS 3          /* (spare_fds.h) a control client + the state file + its directory */
#define ACCEPT_BATCH 64      /* connections accepted per poll round */
#define ACCEPT_PAUSE_MS 1000 /* listener not polled after EMFILE & co */

struct dev {
	int fd;
	char peer[64];
	struct dg_in in;
	time_t since;
	long long deadline; /* mono ms: the HELLO, then the next line, is due */
};

static struct {
	char *listen, *sock, *state_dir;
	long long port, max_devices, hello_timeout, idle_timeout;
} cf;

static struct dev *devs;
static int ndevs, lfd = -1, blocked;
static int spare[SPARE_FDS] = { -1, -1, -1 };
static long long accept_paused_until; /* mono ms; 0: not paused */
static int accept_failing;            /* since the last accept that worked */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vstamp(stderr, "devgate", fmt, ap);
	va_end(ap);
}

static int conf_cb(void *ctx, const char *key, const char *v, int line)
{
	char **s = NULL;

	if (!strcmp(key, "listen"))
		s = &cf.listen;
	else if (!strcmp(key, "socket"))
		s = &cf.sock;
	else if (!strcmp(key, "state_dir"))
		s = &cf.state_dir;
	if (s) {
		free(*s);
		*s = strdup(v);
		return *s ? 0 : -ENOMEM;
	}
	if (!strcmp(key, "port"))
		return kv_int(v, 1, 65535, 0, &cf.port);
	if (!strcmp(key, "max_devices"))
		return kv_int(v, 1, 60000, 0, &cf.max_devices);
	if (!strcmp(key, "hello_timeout"))
		return kv_int(v, 1, 3600, 1, &cf.hello_timeout);
	if (!strcmp(key, "idle_timeout"))
		return kv_int(v, 1, 86400, 1, &cf.idle_timeout);
	return -SPACE_E_FORMAT;
}

static char *state_path(void)
{
	return xasprintf("%s/state", cf.state_dir);
}

static int load_state(void)
{
	char *p = state_path(), *text = NULL;
	size_t len;
	int r;

	if (!p)
		return -ENOMEM;
	r = read_file(p, 4096, &text, &len);
	free(p);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	blocked = strstr(text, "blocked=1") != NULL;
	free(text);
	return 0;
}

static int save_state(int b)
{
	char *p = state_path();
	const char *text = b ? "blocked=1\n" : "blocked=0\n";
	int r;

	if (!p)
		return -ENOMEM;
	r = mkdir_p(cf.state_dir, 0755);
	if (r == 0)
		r = write_file_atomic(p, text, strlen(text), 0644);
	free(p);
	return r;
}

static int open_listener(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cf.port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, cf.listen, &sa.sin_addr) != 1)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void send_line(int fd, const char *s)
{
	/* devices are expected to read; a full buffer just loses the line */
	if (send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN)
		return;
}

static void drop_dev(int i, const char *why)
{
	if (devs[i].in.greeted)
		logmsg("device %s (%s) disconnected: %s", devs[i].in.name, devs[i].peer, why);
	close(devs[i].fd);
	devs[i] = devs[--ndevs];
}

/* Block: persist first, then say goodbye and close; unblock: persist, reopen. */
static int set_blocked(int b)
{
	int r;

	if (b == blocked)
		return 0;
	r = save_state(b);
	if (r < 0)
		return r;
	if (b) {
		if (lfd >= 0)
			close(lfd);
		lfd = -1;
		while (ndevs) {
			send_line(devs[0].fd, "BYE blocked\n");
			shutdown(devs[0].fd, SHUT_WR);
			drop_dev(0, "communication blocked");
		}
	} else {
		lfd = open_listener();
		if (lfd < 0) {
			r = lfd;
			save_state(1);
			return r;
		}
	}
	blocked = b;
	logmsg("device communication %s", b ? "blocked" : "unblocked");
	return 0;
}

static void status_reply(int fd, const char *first)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s\nstate=%s port=%lld devices=%d\n", first, blocked ? "blocked" : "open", cf.port,
		   ndevs);
	for (int i = 0; i < ndevs; i++) {
		if (!devs[i].in.greeted)
			continue;
		buf_puts(&b, "name=");
		kv_quote(&b, devs[i].in.name);
		buf_printf(&b, " peer=%s since=%lld\n", devs[i].peer, (long long)devs[i].since);
	}
	if (!buf_failed(&b))
		ctl_write_all(fd, b.p, b.len);
	buf_free(&b);
}

static void handle_ctl(int fd)
{
	char line[64];
	int r = 0;

	if (ctl_read_line(fd, line, sizeof(line)) < 0) {
		ctl_write_all(fd, "error bad request\n", 18);
		close(fd);
		return;
	}
	if (!strcmp(line, "block"))
		r = set_blocked(1);
	else if (!strcmp(line, "unblock"))
		r = set_blocked(0);
	else if (strcmp(line, "status")) {
		ctl_write_all(fd, "error unknown command\n", 22);
		close(fd);
		return;
	}
	if (r < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "error %s: %s\n", line, space_strerror(r));
		ctl_write_all(fd, msg, strlen(msg));
	} else {
		status_reply(fd, "ok");
	}
	close(fd);
}

static void welcome(struct dev *d)
{
	char w[16 + DG_NAME_MAX];

	d->since = time(NULL);
	snprintf(w, sizeof(w), "WELCOME %s\n", d->in.name);
	send_line(d->fd, w);
	logmsg("device %s connected from %s", d->in.name, d->peer);
}

/* Returns 0 to keep the device, -1 when it was dropped. */
static int dev_input(int i)
{
	struct dev *d = &devs[i];
	size_t room;
	char *at = dg_space(&d->in, &room);
	ssize_t n = recv(d->fd, at, room, MSG_DONTWAIT);
	enum dg_event ev;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		drop_dev(i, "closed by device");
		return -1;
	}
	dg_filled(&d->in, (size_t)n);
	while ((ev = dg_next(&d->in)) != DG_MORE) {
		switch (ev) {
		case DG_HELLO:
			welcome(d);
			break;
		case DG_PING:
			send_line(d->fd, "PONG\n");
			break;
		case DG_QUIT:
			drop_dev(i, "quit");
			return -1;
		case DG_BAD_HELLO:
			send_line(d->fd, "ERROR expected HELLO <name>\n");
			drop_dev(i, "bad hello");
			return -1;
		case DG_TOO_LONG:
			drop_dev(i, "line too long");
			return -1;
		default:
			break;
		}
		/* any line, PING included, shows the device is alive */
		d->deadline = mono_ms() + cf.idle_timeout * 1000;
	}
	return 0;
}

/* Devices that missed their HELLO or fell silent. */
static void expire_devs(long long now)
{
	for (int i = ndevs - 1; i >= 0; i--) {
		char why[48];

		if (now <= devs[i].deadline)
			continue;
		if (!devs[i].in.greeted) {
			drop_dev(i, "no hello");
			continue;
		}
		send_line(devs[i].fd, "BYE idle\n");
		shutdown(devs[i].fd, SHUT_WR);
		snprintf(why, sizeof(why), "idle for %lld s", cf.idle_timeout);
		drop_dev(i, why);
	}
}

/* Out of fds or memory: leave the pending connections in the listen queue
 * for a while rather than retrying at once (a busy loop that starved
 * everything else). Logged once per episode. */
static void accept_failed(int err)
{
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	if (!accept_failing)
		logmsg("accept: %s: new devices wait (retried every %d ms)", strerror(err),
		       ACCEPT_PAUSE_MS);
	accept_failing = 1;
	accept_paused_until = mono_ms() + ACCEPT_PAUSE_MS;
}

static void accept_devs(void)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char ip[INET_ADDRSTRLEN];
		struct dev *d;

		if (fd < 0) {
			accept_failed(errno);
			return;
		}
		if (accept_failing) {
			logmsg("accept: accepting devices again");
			accept_failing = 0;
		}
		if (ndevs >= cf.max_devices) {
			send_line(fd, "ERROR too many devices\n");
			close(fd);
			continue;
		}
		d = &devs[ndevs++];
		memset(d, 0, sizeof(*d));
		d->fd = fd;
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		snprintf(d->peer, sizeof(d->peer), "%s:%u", ip, ntohs(sa.sin_port));
		d->deadline = mono_ms() + cf.hello_timeout * 1000;
	}
}

/* Serve the pending control clients. Out of fds, the spares make room for
 * one request at a time, so status and block work under a flood. */
static void serve_ctl(int cfd)
{
	for (;;) {
		int fd = ctl_accept(cfd, 1000);

		if (fd == -EMFILE || fd == -ENFILE) {
			spare_fds_release(spare, SPARE_FDS);
			fd = ctl_accept(cfd, 1000);
		}
		if (fd >= 0)
			handle_ctl(fd);
		spare_fds_take(spare, SPARE_FDS);
		if (fd < 0 && fd != -EPERM)
			return;
	}
}

/* Make room for max_devices connections below RLIMIT_NOFILE. */
static int fit_fd_limit(void)
{
	rlim_t want = (rlim_t)cf.max_devices + FD_RESERVE;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	if (rl.rlim_cur >= want)
		return 0;
	if (rl.rlim_cur <= FD_RESERVE)
		return -EMFILE;
	logmsg("max_devices lowered to %llu (open-file limit %llu)",
	       (unsigned long long)(rl.rlim_cur - FD_RESERVE), (unsigned long long)rl.rlim_cur);
	cf.max_devices = (long long)(rl.rlim_cur - FD_RESERVE);
	return 0;
}

/* Options; -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, const char **cpath, long long *port, char **o_sock, char **o_state)
{
	int opt;

	while ((opt = getopt(argc, argv, "c:p:s:S:h")) != -1) {
		switch (opt) {
		case 'c': *cpath = optarg; break;
		case 'p':
			if (kv_int(optarg, 1, 65535, 0, port) < 0) {
				fprintf(stderr, "devgate: option -p %s: not a port\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 's': *o_sock = optarg; break;
		case 'S': *o_state = optarg; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* The defaults, the file over them, the options over both; -1 when the
 * file cannot be read (said on stderr). */
static int load_conf(const char *cpath, long long port, const char *o_sock, const char *o_state)
{
	int line = 0, r;

	cf.listen = strdup("0.0.0.0");
	cf.sock = strdup(o_sock ? o_sock : "/run/devgate.sock");
	cf.state_dir = strdup(o_state ? o_state : "/var/lib/devgate");
	cf.port = 7804;
	cf.max_devices = 1024;
	cf.hello_timeout = 10;
	cf.idle_timeout = 300;
	r = kv_parse_file(cpath, 65536, conf_cb, NULL, &line);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "devgate: load %s: line %d: %s\n", cpath, line, space_strerror(r));
		return -1;
	}
	/* command-line options win over the file */
	if (o_sock) {
		free(cf.sock);
		cf.sock = strdup(o_sock);
	}
	if (o_state) {
		free(cf.state_dir);
		cf.state_dir = strdup(o_state);
	}
	if (port)
		cf.port = port;
	return 0;
}

/* The tables, the persisted state, the device listener (unless blocked),
 * the control socket and the signals; -1 on failure (said on stderr, but
 * for a lack of memory). */
static int start(struct pollfd **p, int *cfd, int *sfd)
{
	sigset_t mask;
	int r;

	if ((r = fit_fd_limit()) < 0) {
		fprintf(stderr, "devgate: open-file limit for %lld devices: %s\n", cf.max_devices,
			space_strerror(r));
		return -1;
	}
	devs = calloc((size_t)cf.max_devices, sizeof(*devs));
	*p = calloc((size_t)cf.max_devices + 3, sizeof(**p));
	if (!devs || !*p || !cf.sock || !cf.state_dir || !cf.listen)
		return -1;
	if ((r = load_state()) < 0) {
		fprintf(stderr, "devgate: state %s: %s\n", cf.state_dir, space_strerror(r));
		return -1;
	}
	if (!blocked && (lfd = open_listener()) < 0) {
		fprintf(stderr, "devgate: listen %s:%lld: %s\n", cf.listen, cf.port, space_strerror(lfd));
		return -1;
	}
	if ((*cfd = ctl_listen(cf.sock)) < 0) {
		fprintf(stderr, "devgate: control socket %s: %s\n", cf.sock, space_strerror(*cfd));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	spare_fds_take(spare, SPARE_FDS);
	return 0;
}

/* The poll loop, until SIGTERM or SIGINT (or poll fails). p has room for
 * every device and the three fds before them. */
static void serve(struct pollfd *p, int cfd, int sfd)
{
	int stop = 0;

	logmsg("device port %lld %s", cf.port, blocked ? "blocked (persisted state)" : "open");
	while (!stop) {
		int n = 0, base;
		long long now = mono_ms();

		p[n++] = (struct pollfd){ sfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ cfd, POLLIN, 0 };
		if (accept_paused_until && now >= accept_paused_until)
			accept_paused_until = 0;
		/* -1 (ignored) when blocked or paused */
		p[n++] = (struct pollfd){ accept_paused_until ? -1 : lfd, POLLIN, 0 };
		base = n;
		for (int i = 0; i < ndevs; i++)
			p[n++] = (struct pollfd){ devs[i].fd, POLLIN, 0 };
		if (poll(p, (nfds_t)n, 500) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			stop = 1;
		/* devices first: the indexes below are only valid before accept/ctl change the list */
		for (int i = n - base - 1; i >= 0; i--)
			if (p[base + i].revents & (POLLIN | POLLHUP | POLLERR))
				dev_input(i);
		expire_devs(mono_ms());
		if (p[1].revents & POLLIN)
			serve_ctl(cfd);
		if (lfd >= 0 && (p[2].revents & POLLIN))
			accept_devs();
	}
}

int main(int argc, char **argv)
{
	const char *cpath = getenv("DEVGATE_CONF");
	long long port = 0;
	char *o_sock = NULL, *o_state = NULL;
	int r, cfd = -1, sfd = -1, rc = EXIT_SYSTEM;
	struct pollfd *p = NULL;

	if (!cpath)
		cpath = "/etc/devgate.conf";
	if ((r = parse_args(argc, argv, &cpath, &port, &o_sock, &o_state)) >= 0)
		return r;
	if (load_conf(cpath, port, o_sock, o_state) < 0 || start(&p, &cfd, &sfd) < 0)
		goto out;
	serve(p, cfd, sfd);
	logmsg("stopping");
	rc = 0;
out:
	while (ndevs)
		drop_dev(0, "gate stopping");
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0) {
		close(cfd);
		unlink(cf.sock);
	}
	if (sfd >= 0)
		close(sfd);
	spare_fds_release(spare, SPARE_FDS);
	free(p);
	free(devs);
	free(cf.listen);
	free(cf.sock);
	free(cf.state_dir);
	return rc;
}
