/* The kernel's share of the seed, as a whole process with nothing else in it: what
 * `netspec run scenarios/seed/bridge-sh.yaml` cannot go below on this machine. It does
 * the same kernel work in the same order, with raw netlink and no error messages:
 *   - three namespaces made at once on three threads, each with IPv6 off (all, default)
 *     and, in "host", ip_forward on; each thread opens its netlink and ICMP sockets;
 *   - in "host": bridge br00, veth1 and veth2 with their peers born in net1 and net2,
 *     each end with one queue each way, as netspec asks (else the kernel waits for two
 *     RCU grace periods under rtnl per pair to cut them down to one);
 *   - ports into the bridge, the three addresses, every link up (lo too), two routes;
 *   - a wait until the bridge and the four veth ends have oper-state UP, as netspec
 *     waits (a link dump per look, 20 µs apart: spinning would starve the linkwatch
 *     worker that sets them up);
 *   - one ping each way, then exit.
 * Every request is sent and acknowledged one at a time, as simple as it gets.
 *   cc -O2 -pthread bench/seed_floor.c -o /tmp/netspec-seed-floor
 *   perf stat -r 50 --pre 'sleep 0.1' /tmp/netspec-seed-floor
 * Exits 1 with a line on stderr if any step fails. Touches only the namespaces it made.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *what) {
    perror(what);
    exit(1);
}

struct node {
    const char *name;
    int forward;
    int nl, icmp, ns;
};

static void write_sysctl(const char *path, const char *value) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, strlen(value)) < 0) die(path);
    close(fd);
}

static void *make_node(void *arg) {
    struct node *n = arg;
    if (unshare(CLONE_NEWNET) < 0) die("unshare");
    write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    if (n->forward) write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    n->ns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    n->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    n->icmp = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (n->ns < 0 || n->nl < 0 || n->icmp < 0) die("socket");
    return NULL;
}

struct req {
    struct nlmsghdr h;
    char body[1024];
};

static void *tail(struct nlmsghdr *h) { return (char *)h + NLMSG_ALIGN(h->nlmsg_len); }

static void put(struct nlmsghdr *h, int type, const void *data, int len) {
    struct rtattr *a = tail(h);
    a->rta_type = type;
    a->rta_len = RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void put_str(struct nlmsghdr *h, int type, const char *s) { put(h, type, s, strlen(s) + 1); }

static struct rtattr *nest(struct nlmsghdr *h, int type) {
    struct rtattr *a = tail(h);
    put(h, type, NULL, 0);
    return a;
}

static void end(struct nlmsghdr *h, struct rtattr *a) { a->rta_len = (char *)tail(h) - (char *)a; }

static void start(struct req *r, int type, int flags, const void *msg, int len) {
    memset(r, 0, sizeof *r);
    r->h.nlmsg_type = type;
    r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    r->h.nlmsg_len = NLMSG_LENGTH(len);
    memcpy(NLMSG_DATA(&r->h), msg, len);
}

/* Sends one request and reads its acknowledgement. */
static void talk(int fd, struct req *r, const char *what) {
    char buf[4096];
    if (send(fd, r, r->h.nlmsg_len, 0) < 0) die(what);
    ssize_t len = recv(fd, buf, sizeof buf, 0);
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (len < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) || h->nlmsg_type != NLMSG_ERROR) {
        fprintf(stderr, "%s: no acknowledgement\n", what);
        exit(1);
    }
    int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    if (err) {
        fprintf(stderr, "%s: %s\n", what, strerror(-err));
        exit(1);
    }
}

/* Links get fixed indexes, so that no lookup is needed: br00 10, veth1 11, veth2 12,
 * vethpeer1 21, vethpeer2 22. A peer must not have its end's index: linkwatch takes a
 * link whose peer index equals its own for an unstacked device and delays its events
 * by up to a second. */
static void link_new(int fd, const char *name, int index, const char *kind, const char *peer, int peer_index,
                     int peer_ns) {
    struct req r;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
    start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
    put_str(&r.h, IFLA_IFNAME, name);
    unsigned one = 1;
    if (peer) {
        put(&r.h, IFLA_NUM_TX_QUEUES, &one, sizeof one);
        put(&r.h, IFLA_NUM_RX_QUEUES, &one, sizeof one);
    }
    struct rtattr *info = nest(&r.h, IFLA_LINKINFO);
    put_str(&r.h, IFLA_INFO_KIND, kind);
    if (peer) {
        struct rtattr *data = nest(&r.h, IFLA_INFO_DATA);
        struct rtattr *p = nest(&r.h, VETH_INFO_PEER);
        struct ifinfomsg *pi = tail(&r.h);
        memset(pi, 0, sizeof *pi);
        pi->ifi_index = peer_index;
        r.h.nlmsg_len = NLMSG_ALIGN(r.h.nlmsg_len) + sizeof *pi;
        put_str(&r.h, IFLA_IFNAME, peer);
        put(&r.h, IFLA_NUM_TX_QUEUES, &one, sizeof one);
        put(&r.h, IFLA_NUM_RX_QUEUES, &one, sizeof one);
        put(&r.h, IFLA_NET_NS_FD, &peer_ns, sizeof peer_ns);
        end(&r.h, p);
        end(&r.h, data);
    }
    end(&r.h, info);
    talk(fd, &r, "create link");
}

static void link_set(int fd, int index, int master, int up) {
    struct req r;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = index};
    if (up) ifi.ifi_flags = ifi.ifi_change = IFF_UP;
    start(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
    if (master) put(&r.h, IFLA_MASTER, &master, sizeof master);
    talk(fd, &r, "set link");
}

static void addr_add(int fd, int index, const char *ip) {
    struct req r;
    struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = 16, .ifa_index = index};
    struct in_addr a;
    inet_pton(AF_INET, ip, &a);
    start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    put(&r.h, IFA_LOCAL, &a, sizeof a);
    put(&r.h, IFA_ADDRESS, &a, sizeof a);
    talk(fd, &r, "add address");
}

static void default_route(int fd, const char *via) {
    struct req r;
    struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN, .rtm_protocol = RTPROT_BOOT,
                       .rtm_scope = RT_SCOPE_UNIVERSE, .rtm_type = RTN_UNICAST};
    struct in_addr a;
    inet_pton(AF_INET, via, &a);
    start(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
    put(&r.h, RTA_GATEWAY, &a, sizeof a);
    talk(fd, &r, "add route");
}

/* Whether the link with this index has oper-state UP, from one dump of the node's links.
 * Not IFF_RUNNING: a link set up before linkwatch first looked at it is still UNKNOWN,
 * which IFF_RUNNING counts as running, and a bridge port in that state drops frames
 * (its queue is not active yet). */
static int oper_up(int fd, int index) {
    struct req r;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    start(&r, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
    r.h.nlmsg_flags &= ~NLM_F_ACK;
    if (send(fd, &r, r.h.nlmsg_len, 0) < 0) die("dump links");
    int found = 0;
    static char buf[32768];
    for (;;) {
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        if (len < 0) die("dump links");
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
            if (h->nlmsg_type == NLMSG_DONE) return found;
            if (h->nlmsg_type == NLMSG_ERROR) return 0;
            struct ifinfomsg *i = NLMSG_DATA(h);
            if (i->ifi_index != index) continue;
            int len = IFLA_PAYLOAD(h);
            for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, len); a = RTA_NEXT(a, len))
                if (a->rta_type == IFLA_OPERSTATE && *(unsigned char *)RTA_DATA(a) == IF_OPER_UP) found = 1;
        }
    }
}

static unsigned short checksum(const void *data, int len) {
    const unsigned short *p = data;
    unsigned sum = 0;
    for (; len > 1; len -= 2) sum += *p++;
    sum = (sum >> 16) + (sum & 0xffff);
    return ~(sum + (sum >> 16));
}

/* One echo request and its reply, within a second. */
static void ping(int fd, const char *to) {
    struct sockaddr_in dst = {.sin_family = AF_INET};
    inet_pton(AF_INET, to, &dst.sin_addr);
    struct icmphdr echo = {.type = ICMP_ECHO, .un.echo.id = htons(getpid() & 0xffff), .un.echo.sequence = htons(1)};
    echo.checksum = checksum(&echo, sizeof echo);
    if (sendto(fd, &echo, sizeof echo, 0, (struct sockaddr *)&dst, sizeof dst) < 0) die("ping");
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char buf[1500];
    while (poll(&p, 1, 1000) == 1) {
        ssize_t len = recv(fd, buf, sizeof buf, 0);
        int hl = (buf[0] & 0xf) * 4;
        struct icmphdr *reply = (struct icmphdr *)(buf + hl);
        if (len >= hl + (ssize_t)sizeof *reply && reply->type == ICMP_ECHOREPLY && reply->un.echo.id == echo.un.echo.id)
            return;
    }
    fprintf(stderr, "ping %s: no reply\n", to);
    exit(1);
}

int main(void) {
    struct node host = {"host", 1}, net1 = {"net1", 0}, net2 = {"net2", 0};
    struct node *nodes[] = {&host, &net1, &net2};
    pthread_t threads[3];
    for (int i = 0; i < 3; i++) pthread_create(&threads[i], NULL, make_node, nodes[i]);
    for (int i = 0; i < 3; i++) pthread_join(threads[i], NULL);

    link_new(host.nl, "br00", 10, "bridge", NULL, 0, 0);
    link_new(host.nl, "veth1", 11, "veth", "vethpeer1", 21, net1.ns);
    link_new(host.nl, "veth2", 12, "veth", "vethpeer2", 22, net2.ns);
    link_set(host.nl, 11, 10, 0);
    link_set(host.nl, 12, 10, 0);
    addr_add(host.nl, 10, "10.100.0.1");
    addr_add(net1.nl, 21, "10.100.0.10");
    addr_add(net2.nl, 22, "10.100.0.20");
    for (int i = 0; i < 3; i++) link_set(nodes[i]->nl, 1, 0, 1);
    link_set(host.nl, 10, 0, 1);
    link_set(host.nl, 11, 0, 1);
    link_set(host.nl, 12, 0, 1);
    link_set(net1.nl, 21, 0, 1);
    link_set(net2.nl, 22, 0, 1);
    default_route(net1.nl, "10.100.0.1");
    default_route(net2.nl, "10.100.0.1");
    while (!(oper_up(host.nl, 10) && oper_up(host.nl, 11) && oper_up(host.nl, 12) && oper_up(net1.nl, 21) && oper_up(net2.nl, 22)))
        usleep(20);
    ping(net1.icmp, "10.100.0.20");
    ping(net2.icmp, "10.100.0.10");
    return 0;
}
