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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libmgmt/buf.h"
#include "libmgmt/ctl.h"
#include "libmgmt/daemon.h"
#include "libmgmt/kv.h"
#include "util.h"

#define USAGE                                                                        \
	"usage: devgate [-c CONF] [-p PORT] [-s SOCKET] [-S STATE_DIR]\n"             \
	"  -c  configuration (env DEVGATE_CONF, default /etc/devgate.conf; keys:\n"   \
	"      listen, port, socket, state_dir, max_devices, hello_timeout)\n"        \
	"  -p  device port (default 7804)\n"                                           \
	"  -s  control socket (default /run/devgate.sock)\n"                           \
	"  -S  state directory (default /var/lib/devgate)\n"                           \
	"Exit: 0 stopped by SIGTERM/SIGINT, 100 usage, 111 cannot start.\n"

struct dev {
	int fd;
	char name[64];
	char peer[64];
	char line[256];
	size_t len;
	time_t since;
	long long hello_deadline; /* 0 once the hello arrived */
};

static struct {
	char *listen, *sock, *state_dir;
	long long port, max_devices, hello_timeout;
} cf;

static struct dev *devs;
static int ndevs, lfd = -1, blocked;

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
	if (devs[i].hello_deadline == 0)
		logmsg("device %s (%s) disconnected: %s", devs[i].name, devs[i].peer, why);
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
		if (devs[i].hello_deadline)
			continue;
		buf_puts(&b, "name=");
		kv_quote(&b, devs[i].name);
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

static int valid_name(const char *s)
{
	if (!*s || strlen(s) > 63)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* Returns 0 to keep the device, -1 when it was dropped. */
static int dev_input(int i)
{
	struct dev *d = &devs[i];
	ssize_t n = recv(d->fd, d->line + d->len, sizeof(d->line) - 1 - d->len, MSG_DONTWAIT);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		drop_dev(i, "closed by device");
		return -1;
	}
	d->len += (size_t)n;
	d->line[d->len] = '\0';
	while ((nl = memchr(d->line, '\n', d->len))) {
		*nl = '\0';
		if (nl > d->line && nl[-1] == '\r')
			nl[-1] = '\0';
		if (d->hello_deadline) {
			if (strncmp(d->line, "HELLO ", 6) || !valid_name(d->line + 6)) {
				send_line(d->fd, "ERROR expected HELLO <name>\n");
				drop_dev(i, "bad hello");
				return -1;
			}
			snprintf(d->name, sizeof(d->name), "%s", d->line + 6);
			d->hello_deadline = 0;
			d->since = time(NULL);
			{
				char w[96];
				snprintf(w, sizeof(w), "WELCOME %s\n", d->name);
				send_line(d->fd, w);
			}
			logmsg("device %s connected from %s", d->name, d->peer);
		} else if (!strcmp(d->line, "PING")) {
			send_line(d->fd, "PONG\n");
		} else if (!strcmp(d->line, "QUIT")) {
			drop_dev(i, "quit");
			return -1;
		}
		d->len -= (size_t)(nl + 1 - d->line);
		memmove(d->line, nl + 1, d->len);
		d->line[d->len] = '\0';
	}
	if (d->len >= sizeof(d->line) - 1) {
		drop_dev(i, "line too long");
		return -1;
	}
	return 0;
}

static void accept_devs(void)
{
	for (;;) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		char ip[INET_ADDRSTRLEN];

		if (fd < 0)
			return;
		if (ndevs >= cf.max_devices) {
			send_line(fd, "ERROR too many devices\n");
			close(fd);
			continue;
		}
		memset(&devs[ndevs], 0, sizeof(devs[ndevs]));
		devs[ndevs].fd = fd;
		inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
		snprintf(devs[ndevs].peer, sizeof(devs[ndevs].peer), "%s:%u", ip, ntohs(sa.sin_port));
		devs[ndevs].hello_deadline = mono_ms() + cf.hello_timeout * 1000;
		ndevs++;
	}
}

int main(int argc, char **argv)
{
	const char *cpath = getenv("DEVGATE_CONF");
	long long port = 0;
	char *o_sock = NULL, *o_state = NULL;
	int opt, r, cfd = -1, sfd = -1, rc = 111, stop = 0, line = 0;
	struct pollfd *p = NULL;
	sigset_t mask;

	if (!cpath)
		cpath = "/etc/devgate.conf";
	while ((opt = getopt(argc, argv, "c:p:s:S:h")) != -1) {
		switch (opt) {
		case 'c': cpath = optarg; break;
		case 'p':
			if (kv_int(optarg, 1, 65535, 0, &port) < 0) {
				fprintf(stderr, "devgate: option -p %s: not a port\n", optarg);
				return 100;
			}
			break;
		case 's': o_sock = optarg; break;
		case 'S': o_state = optarg; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return 100;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return 100;
	}
	cf.listen = strdup("0.0.0.0");
	cf.sock = strdup(o_sock ? o_sock : "/run/devgate.sock");
	cf.state_dir = strdup(o_state ? o_state : "/var/lib/devgate");
	cf.port = 7804;
	cf.max_devices = 1024;
	cf.hello_timeout = 10;
	r = kv_parse_file(cpath, 65536, conf_cb, NULL, &line);
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "devgate: load %s: line %d: %s\n", cpath, line, space_strerror(r));
		goto out;
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
	devs = calloc((size_t)cf.max_devices, sizeof(*devs));
	p = calloc((size_t)cf.max_devices + 3, sizeof(*p));
	if (!devs || !p || !cf.sock || !cf.state_dir || !cf.listen)
		goto out;
	if ((r = load_state()) < 0) {
		fprintf(stderr, "devgate: state %s: %s\n", cf.state_dir, space_strerror(r));
		goto out;
	}
	if (!blocked && (lfd = open_listener()) < 0) {
		fprintf(stderr, "devgate: listen %s:%lld: %s\n", cf.listen, cf.port, space_strerror(lfd));
		goto out;
	}
	if ((cfd = ctl_listen(cf.sock)) < 0) {
		fprintf(stderr, "devgate: control socket %s: %s\n", cf.sock, space_strerror(cfd));
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	logmsg("device port %lld %s", cf.port, blocked ? "blocked (persisted state)" : "open");
	while (!stop) {
		int n = 0, base;
		long long now = mono_ms();

		p[n++] = (struct pollfd){ sfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ cfd, POLLIN, 0 };
		p[n++] = (struct pollfd){ lfd, POLLIN, 0 }; /* -1 when blocked: ignored */
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
		now = mono_ms();
		for (int i = ndevs - 1; i >= 0; i--)
			if (devs[i].hello_deadline && now > devs[i].hello_deadline)
				drop_dev(i, "no hello");
		if (p[1].revents & POLLIN) {
			int fd;
			while ((fd = ctl_accept(cfd, 1000)) != -EAGAIN) {
				if (fd >= 0)
					handle_ctl(fd);
				else if (fd != -EPERM)
					break;
			}
		}
		if (lfd >= 0 && (p[2].revents & POLLIN))
			accept_devs();
	}
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
	free(p);
	free(devs);
	free(cf.listen);
	free(cf.sock);
	free(cf.state_dir);
	return rc;
}
