/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sg_net.h: one DPDK port, its queues and the layers below TCP.
 *
 *  - ports and queues: ethdev set-up from a PCI address or vdev args, one
 *    RX/TX queue pair per worker (fewer when the device has fewer), RX and
 *    TX mempools per worker, checksum offloads when the device has them;
 *  - flow ownership: every IPv4 flow belongs to exactly one worker. The
 *    owner is a software mirror of the RSS indirection table (RETA) indexed
 *    by the Toeplitz hash of the flow; we write the RSS key and the whole
 *    RETA to the NIC and read both back, so the NIC delivers most flows to
 *    their owner directly. Whatever lands elsewhere (single-queue ports
 *    such as TAP, fewer queues than workers, IP fragments) is forwarded to
 *    the owner over one-way rings; ARP and ICMP "fragmentation needed" are
 *    copied to every worker so each keeps its own tables;
 *  - ARP (cache with aging, held packets while resolving, gratuitous ARP at
 *    start), IPv4 (validation, reassembly, DF on send), ICMP echo and path
 *    MTU discovery, one static gateway.
 *
 * Threads: sg_net_port_init() and sg_net_port_close() run on the main lcore;
 * everything taking a struct sg_net_worker runs on that worker's lcore only.
 * Workers share nothing but the read-only port tables and the rings.
 *
 * Byte order: every IPv4 address and every TCP/UDP port in this API is in
 * network byte order (as on the wire, like struct in_addr.s_addr).
 *
 * Mbuf ownership: a function that takes an mbuf consumes it in every case
 * (sent, held, handed on or freed and counted). Nothing is dropped without
 * a counter (sg_net_stats()).
 *
 * The TCP boundary
 * ----------------
 * Receive: the IPv4 layer calls the handler registered with
 * sg_net_worker_set_tcp() with `m` data starting at the TCP header, the IP
 * header validated and stripped, link padding trimmed (pkt_len is the TCP
 * segment length), ol_flags as the NIC set them: TCP checks
 * RTE_MBUF_F_RX_L4_CKSUM_GOOD / _BAD and verifies in software otherwise
 * (sg_net_l4_cksum()). Only the worker that owns the flow sees it.
 *
 * Send: sg_net_ip_output() with `m` data starting at the TCP header. TCP
 * reserves SG_NET_HDR_ROOM bytes of headroom. The TCP checksum is TCP's:
 *  - if sg_net_port_caps() has SG_NET_CAP_TX_TCP_CKSUM, TCP sets
 *    m->l4_len (TCP header length), ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM and
 *    writes sg_net_phdr_cksum(src, dst, IPPROTO_TCP, tcp_len) (not
 *    complemented) in the checksum field; we then set l2_len, l3_len and
 *    RTE_MBUF_F_TX_IPV4 (and RTE_MBUF_F_TX_IP_CKSUM when the port has it);
 *  - otherwise TCP writes the full checksum (sg_net_l4_cksum()) and leaves
 *    ol_flags alone.
 * Chains: a chained mbuf may be sent only with SG_NET_CAP_TX_MULTI_SEG;
 * without it TCP sends single segments.
 */
#ifndef SG_NET_H
#define SG_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SG_NET_MAX_WORKERS	64	/* workers per port (rings are N x N) */
#define SG_NET_RSS_KEY_LEN	40	/* Toeplitz key bytes (IPv4 needs 16) */
#define SG_NET_HDR_ROOM		(RTE_ETHER_HDR_LEN + 20) /* Ethernet + IPv4 */
#define SG_NET_PMTU_MIN		552	/* lowest path MTU we accept (Linux' min_pmtu) */

struct sg_net_port;
struct sg_net_worker;

/* ------------------------------------------------------------------ */
/* Port                                                                */
/* ------------------------------------------------------------------ */

/*
 * Port configuration. Zero in a numeric field means "the default" shown in
 * brackets. Limits are checked by sg_net_port_init().
 */
struct sg_net_port_conf {
	/* Which device: a PCI address ("0000:03:00.0"), vdev args
	 * ("net_tap0,iface=sg0": used if EAL already created it, probed
	 * otherwise), an ethdev name, or NULL / "" for the first port. */
	const char *port;
	uint16_t n_workers;		/* workers polling it, 1..SG_NET_MAX_WORKERS */
	uint16_t n_queues;		/* queue pairs wanted [n_workers]; capped by the device */
	uint16_t rx_desc;		/* RX descriptors per queue [1024] */
	uint16_t tx_desc;		/* TX descriptors per queue [1024] */
	uint16_t mtu;			/* IP MTU, 68..9600 [1500] */
	uint16_t mbuf_data_size;	/* data room incl. headroom [RTE_MBUF_DEFAULT_BUF_SIZE] */
	uint32_t rx_mbufs;		/* RX pool per queue [2 * rx_desc + 2048] */
	uint32_t tx_mbufs;		/* TX pool per worker [tx_desc + 4096] */
	uint32_t ip;			/* our address, network order; required */
	uint8_t prefix_len;		/* our subnet, 1..32; required */
	uint32_t gateway;		/* next hop outside the subnet; 0 = none */
	const uint8_t *rss_key;		/* SG_NET_RSS_KEY_LEN bytes [the Microsoft key] */
	uint32_t ring_size;		/* entries per ring[from][to] [1024] */
	uint16_t arp_entries;		/* ARP cache entries per worker [256] */
	uint16_t arp_hold;		/* packets held per unresolved address, <= 32 [8] */
	uint16_t arp_hold_total;	/* packets held per worker [256] */
	uint32_t arp_ttl_ms;		/* entry lifetime, refreshed before it ends [300000] */
	uint32_t arp_retry_ms;		/* between requests while resolving [1000] */
	uint8_t arp_retries;		/* requests before giving up [3] */
	uint8_t garp_count;		/* gratuitous ARPs at start [3] */
	uint32_t garp_interval_ms;	/* between them [1000] */
	bool no_reassembly;		/* drop (and count) IP fragments instead */
	uint32_t frag_flows;		/* reassembly contexts per worker [1024] */
	uint32_t frag_ttl_ms;		/* reassembly timeout [2000] */
	uint16_t pmtu_entries;		/* path MTU entries per worker, power of 2 [256] */
	uint32_t pmtu_ttl_ms;		/* a lowered path MTU is forgotten after [600000] */
	uint16_t rss_sample;		/* compare NIC and software hash on 1 packet in N [64] */
	uint32_t link_wait_ms;		/* wait this long at init for the link [0: don't] */
};

/* Capabilities of the started port (sg_net_port_caps()). */
#define SG_NET_CAP_TX_IPV4_CKSUM (1u << 0)	/* we offload the IP checksum */
#define SG_NET_CAP_TX_TCP_CKSUM	(1u << 1)	/* TCP may offload its checksum */
#define SG_NET_CAP_TX_MULTI_SEG	(1u << 2)	/* chained mbufs may be sent */
#define SG_NET_CAP_RX_IPV4_CKSUM (1u << 3)	/* RX IP checksum flags are set */
#define SG_NET_CAP_RX_TCP_CKSUM	(1u << 4)	/* RX L4 checksum flags are set */
#define SG_NET_CAP_RSS		(1u << 5)	/* the NIC spreads flows by RSS */
#define SG_NET_CAP_RSS_VERIFIED	(1u << 6)	/* key and RETA were read back equal */

/*
 * Sets up and starts a port: finds (or probes) the device, configures
 * min(n_queues, device maximum) queue pairs, creates the mempools and the
 * steering rings, writes the RSS key and RETA and reads both back. Call
 * once per port from the main lcore after rte_eal_init().
 * Returns 0 and *out, or:
 *   -EINVAL  a configuration value out of range (nothing was touched);
 *   -ENODEV  no such device, or probing the vdev failed;
 *   -ENOMEM  a mempool, ring or table could not be allocated;
 *   other -errno from the ethdev calls (configure, queue set-up, start).
 */
int sg_net_port_init(const struct sg_net_port_conf *conf,
		     struct sg_net_port **out);

/* Stops and closes the device and frees the pools, rings and any packet
 * still in them. Workers must have been destroyed first. NULL is a no-op. */
void sg_net_port_close(struct sg_net_port *p);

uint16_t sg_net_port_id(const struct sg_net_port *p);
uint16_t sg_net_port_queues(const struct sg_net_port *p);	/* queue pairs in use */
uint16_t sg_net_port_mtu(const struct sg_net_port *p);	/* the IP MTU in force */
uint32_t sg_net_port_caps(const struct sg_net_port *p);	/* SG_NET_CAP_* */
void sg_net_port_mac(const struct sg_net_port *p, struct rte_ether_addr *mac);

/* Reads the link state now (without waiting) and counts up/down
 * transitions. Main lcore. Returns 1 up, 0 down, -errno on failure. */
int sg_net_port_link(struct sg_net_port *p);

/* ------------------------------------------------------------------ */
/* Workers                                                             */
/* ------------------------------------------------------------------ */

/*
 * Creates worker `idx` (0..n_workers-1) of the port: its ARP cache,
 * reassembly table, path MTU table and TX buffer. Call on the lcore that
 * will poll it (memory is taken on that lcore's socket). Worker i polls
 * queue i when i < sg_net_port_queues(); the others receive only what
 * is steered to them and transmit through the worker of queue
 * (i % queues). Worker 0 sends the gratuitous ARPs.
 * Returns 0 and *out, or -EINVAL (bad index), -EEXIST (already created),
 * -ENOMEM.
 */
int sg_net_worker_create(struct sg_net_port *p, uint16_t idx,
			 struct sg_net_worker **out);

/* Frees the worker and every packet it holds. Its lcore, after its last
 * poll. NULL is a no-op. */
void sg_net_worker_destroy(struct sg_net_worker *w);

uint16_t sg_net_worker_index(const struct sg_net_worker *w);

/* The pool TCP allocates its segments from (this worker's TX pool). */
struct rte_mempool *sg_net_worker_pool(const struct sg_net_worker *w);

/* The RX pool whose mbufs carry this worker's received data: its own
 * queue's, or queue 0's for a worker without a queue (what it receives
 * was steered to it, mostly from there). Received payload held by TCP
 * or by the application stays in this pool: watch it to shed load
 * before the NIC runs out of receive buffers. */
struct rte_mempool *sg_net_worker_rx_pool(const struct sg_net_worker *w);

/* TCP receive handler: takes ownership of m (data at the TCP header). */
typedef void (*sg_net_tcp_input_cb)(void *ctx, struct rte_mbuf *m,
				    uint32_t src_ip, uint32_t dst_ip);

/*
 * Path MTU handler: an ICMP "fragmentation needed" for a TCP segment we
 * sent from lport to rip:rport with sequence number `seq` (host order)
 * lowered the path MTU to rip to `mtu`. TCP should check that the segment
 * belongs to a connection and lower its MSS (RFC 1191, RFC 5927). Every
 * worker is told; only the owner finds the connection.
 */
typedef void (*sg_net_pmtu_cb)(void *ctx, uint32_t rip, uint16_t lport,
			       uint16_t rport, uint32_t seq, uint16_t mtu);

/* Registers the handlers; NULL unregisters. Without a TCP handler, TCP
 * segments are counted (drop_no_handler) and freed. */
void sg_net_worker_set_tcp(struct sg_net_worker *w, sg_net_tcp_input_cb cb,
			   void *ctx);
void sg_net_worker_set_pmtu(struct sg_net_worker *w, sg_net_pmtu_cb cb,
			    void *ctx);

/*
 * One receive step: rx_burst on the worker's queue (if it has one), the
 * packets steered to it by other workers, packets other workers hand it to
 * transmit; then ARP, IPv4, ICMP and TCP input (the TCP handler runs from
 * here). Reads the clock once. Returns the number of packets handled.
 */
unsigned sg_net_worker_poll(struct sg_net_worker *w);

/* Processes frames received by other means (data at the Ethernet header)
 * as if they came from this worker's queue. Uses the time of the last
 * poll or timer call. Returns n. */
unsigned sg_net_worker_input(struct sg_net_worker *w, struct rte_mbuf **pkts,
			     unsigned n);

/*
 * Transmits everything queued this iteration: one tx_burst (twice when
 * the first leaves packets). What the NIC still refuses stays queued for
 * the next flush; a packet that finds the queue full is freed and counted
 * (drop_tx_full). A worker without a TX queue hands its packets to the
 * worker that has one. Returns the number of packets the NIC (or the
 * other worker) took.
 */
unsigned sg_net_worker_flush(struct sg_net_worker *w);

/*
 * Timer hook: ARP aging and retries, gratuitous ARP repeats, reassembly
 * expiry, path MTU expiry. Call every 100 ms or so with the monotonic time
 * (sg_clock_ns()); it is cheap when nothing is due.
 */
void sg_net_worker_timer(struct sg_net_worker *w, uint64_t now_ns);

/* ------------------------------------------------------------------ */
/* IPv4 output and flow ownership                                      */
/* ------------------------------------------------------------------ */

/*
 * Sends a TCP segment (data at the TCP header, see "The TCP boundary"):
 * prepends an IPv4 header (DF, TTL 64, a fresh IP id, checksum or offload
 * flags) and the Ethernet header, and queues the frame for the next
 * sg_net_worker_flush(). When the next hop is not resolved yet the frame is
 * held (bounded) and an ARP request goes out. Consumes m in every case.
 * Returns 0 (queued or held), or, with m freed and counted:
 *   -EHOSTUNREACH  no route (outside the subnet and no gateway) or the
 *                  next hop did not answer ARP;
 *   -EMSGSIZE      longer than the port MTU (DF is always set);
 *   -ENOBUFS       not enough headroom, or the hold queue is full and
 *                  this packet could not be held;
 *   -EINVAL        src is not our address.
 */
int sg_net_ip_output(struct sg_net_worker *w, struct rte_mbuf *m,
		     uint32_t src_ip, uint32_t dst_ip);

/*
 * True when the return path of a connection from lip:lport to rip:rport
 * (packets from rip:rport to lip:lport) belongs to worker w, so an active
 * open should use lport. O(1): the hash of (rip, lip, rport) is cached per
 * worker for the last remote endpoints, and the local port's share of the
 * Toeplitz hash comes from a table, since the hash is linear in its input
 * bits. Always true with one worker.
 */
bool sg_net_port_owned(struct sg_net_worker *w, uint32_t lip, uint16_t lport,
		       uint32_t rip, uint16_t rport);

/* The worker that owns TCP packets from src:sport to dst:dport. */
uint16_t sg_net_flow_owner(const struct sg_net_port *p, uint32_t src,
			   uint32_t dst, uint16_t sport, uint16_t dport);

/* The port's software Toeplitz hash of an IPv4 TCP 4-tuple (as the NIC
 * computes it with the key in use); with sport = dport = 0 and `l4`
 * false, the 2-tuple hash used for fragments. */
uint32_t sg_net_rss_hash(const struct sg_net_port *p, uint32_t src,
			 uint32_t dst, uint16_t sport, uint16_t dport, bool l4);

/* The path MTU towards dst: what ICMP taught us, else the port MTU. */
uint16_t sg_net_pmtu(struct sg_net_worker *w, uint32_t dst);

/*
 * ARP: sg_net_arp_resolve() starts resolving ip (no packet held); e.g. the
 * gateway at start. Returns 0 already resolved, -EAGAIN resolving,
 * -EHOSTUNREACH not in our subnet, -ENOSPC cache full.
 * sg_net_arp_lookup() returns 0 and *mac, -EAGAIN resolving, -ENOENT.
 */
int sg_net_arp_resolve(struct sg_net_worker *w, uint32_t ip);
int sg_net_arp_lookup(struct sg_net_worker *w, uint32_t ip,
		      struct rte_ether_addr *mac);

/* ------------------------------------------------------------------ */
/* Checksums for TCP                                                   */
/* ------------------------------------------------------------------ */

/* Pseudo-header sum (not complemented) for checksum offload. */
uint16_t sg_net_phdr_cksum(uint32_t src, uint32_t dst, uint8_t proto,
			   uint16_t l4_len);

/* The full L4 checksum (complemented, ready for the header) of the bytes
 * from `off` to the end of the chain, with the pseudo-header. Computed on
 * a segment whose checksum field holds the received value, it returns 0
 * when that value is right. */
uint16_t sg_net_l4_cksum(const struct rte_mbuf *m, uint32_t off, uint32_t src,
			 uint32_t dst, uint8_t proto);

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

/* Per-worker counters: one line each (name, what it counts). */
#define SG_NET_STATS(X)							\
	X(rx_pkts,		"frames received from the worker's queue") \
	X(rx_bytes,		"bytes of those frames")		\
	X(tx_pkts,		"frames the NIC took from this worker")	\
	X(tx_bytes,		"bytes of those frames")		\
	X(tx_retry,		"tx_burst calls that left frames for later") \
	X(steer_out,		"packets sent to their owner over a ring") \
	X(steer_in,		"packets received from other workers")	\
	X(steer_tx,		"frames handed to the worker with the TX queue") \
	X(rss_checked,		"NIC hashes compared with ours")	\
	X(rss_mismatch,		"NIC hashes that differed from ours")	\
	X(arp_rx_request,	"ARP requests received")		\
	X(arp_rx_reply,		"ARP replies received")			\
	X(arp_rx_copy,		"ARP packets learnt from another worker") \
	X(arp_tx_request,	"ARP requests sent")			\
	X(arp_tx_reply,		"ARP replies sent")			\
	X(arp_tx_gratuitous,	"gratuitous ARPs sent")			\
	X(arp_learned,		"ARP entries created or refreshed")	\
	X(arp_expired,		"ARP entries aged out")			\
	X(arp_held,		"packets held while resolving")		\
	X(arp_released,		"held packets sent after resolution")	\
	X(ip_rx,		"IPv4 packets accepted")		\
	X(ip_tx,		"IPv4 packets sent (fragments count once)") \
	X(tcp_rx,		"TCP segments handed to TCP")		\
	X(icmp_echo_rx,		"ICMP echo requests received")		\
	X(icmp_echo_tx,		"ICMP echo replies sent")		\
	X(icmp_frag_needed,	"ICMP fragmentation-needed received")	\
	X(pmtu_update,		"path MTU entries lowered")		\
	X(frag_rx,		"IPv4 fragments received")		\
	X(frag_reassembled,	"datagrams reassembled")		\
	X(frag_tx,		"fragments sent (large echo replies)")	\
	X(drop_eth_short,	"frames shorter than an Ethernet header") \
	X(drop_eth_dst,		"frames for another MAC or multicast")	\
	X(drop_eth_type,	"frames neither IPv4 nor ARP")		\
	X(drop_arp_bad,		"malformed ARP packets")		\
	X(drop_arp_other,	"ARP packets about other hosts")	\
	X(drop_arp_hold,	"held packets dropped: hold queue full") \
	X(drop_arp_unresolved,	"held packets dropped: no ARP answer")	\
	X(drop_arp_full,	"packets dropped: ARP cache full")	\
	X(drop_ip_short,	"IPv4 shorter than its header")		\
	X(drop_ip_version,	"IP version not 4")			\
	X(drop_ip_ihl,		"IPv4 header length < 20 or > packet")	\
	X(drop_ip_len,		"IPv4 total length wrong")		\
	X(drop_ip_cksum,	"IPv4 header checksum wrong")		\
	X(drop_ip_ttl,		"IPv4 TTL 0")				\
	X(drop_ip_not_ours,	"IPv4 for another address")		\
	X(drop_ip_martian,	"IPv4 from a broadcast/multicast/zero source") \
	X(drop_ip_proto,	"IPv4 neither TCP nor ICMP")		\
	X(drop_frag,		"fragments freed by reassembly (timeout, overlap, too many)") \
	X(drop_frag_bad,	"fragments with a bad offset or length") \
	X(drop_frag_off,	"fragments dropped: reassembly disabled") \
	X(drop_icmp_bad,	"ICMP too short or bad checksum")	\
	X(drop_icmp_type,	"ICMP types we do not handle")		\
	X(drop_no_route,	"output with no route")			\
	X(drop_no_handler,	"TCP segments with no handler")		\
	X(drop_too_big,		"DF output longer than the MTU")	\
	X(drop_no_mbuf,		"TX pool empty")			\
	X(drop_no_headroom,	"output without room for the headers")	\
	X(drop_tx_full,		"frames dropped: TX queue stayed full")	\
	X(drop_ring_full,	"packets dropped: steering ring full")

enum sg_net_stat {
#define SG_NET_STAT_ENUM_(name, help) SG_NET_STAT_##name,
	SG_NET_STATS(SG_NET_STAT_ENUM_)
#undef SG_NET_STAT_ENUM_
	SG_NET_STAT_MAX
};

/* Port counters read from the device (rte_eth_stats_get()) and the link. */
#define SG_NET_PORT_STATS(X)						\
	X(ipackets,	"frames received by the device")		\
	X(opackets,	"frames sent by the device")			\
	X(ibytes,	"bytes received by the device")			\
	X(obytes,	"bytes sent by the device")			\
	X(imissed,	"frames dropped by the device: RX queues full")	\
	X(ierrors,	"erroneous frames received")			\
	X(oerrors,	"failed transmissions")				\
	X(rx_nombuf,	"RX mbuf allocation failures")			\
	X(link_up,	"1 when the link was up at the last check")	\
	X(link_speed,	"link speed in Mbps at the last check")		\
	X(link_changes,	"link up/down transitions seen")		\
	X(rss_reta_diff, "RETA entries that read back differently")

enum sg_net_port_stat {
#define SG_NET_PSTAT_ENUM_(name, help) SG_NET_PSTAT_##name,
	SG_NET_PORT_STATS(SG_NET_PSTAT_ENUM_)
#undef SG_NET_PSTAT_ENUM_
	SG_NET_PSTAT_MAX
};

struct sg_net_stats {
	uint64_t w[SG_NET_STAT_MAX];		/* summed over workers */
	uint64_t port[SG_NET_PSTAT_MAX];
};

/* Names ("rx_pkts", "drop_ip_cksum"...) and help texts; NULL past the end. */
const char *sg_net_stat_name(unsigned i);
const char *sg_net_stat_help(unsigned i);
const char *sg_net_port_stat_name(unsigned i);
const char *sg_net_port_stat_help(unsigned i);

/*
 * Fills *out: the worker counters summed over every created worker (read
 * without stopping them: each value is exact, the set is not a snapshot)
 * and the device counters. Any lcore. Returns 0, or -errno from
 * rte_eth_stats_get() (worker counters are filled anyway).
 */
int sg_net_stats(struct sg_net_port *p, struct sg_net_stats *out);

/* One worker's counters only (port[] zeroed). Returns 0 or -EINVAL when
 * that worker does not exist. */
int sg_net_worker_stats(const struct sg_net_port *p, uint16_t idx,
			struct sg_net_stats *out);

/*
 * Registers the telemetry command <prefix>/port (lib/telemetry's
 * sg_telemetry_register()) reporting port `p`: device counters and link,
 * every worker counter summed, non-zero xstats (at most 128). The
 * command is registered once per process; a later call only changes the
 * port it reports, and sg_net_port_close() makes it report nothing.
 * Main lcore. Returns 0 or -errno from the registration.
 */
int sg_net_register_telemetry(struct sg_net_port *p, const char *prefix);

/* sg_net_stats() of the port telemetry reports, safe against a
 * concurrent sg_net_port_close(): for other telemetry commands. Any
 * thread. Returns 0, -ENODEV (no port registered) or sg_net_stats()'s
 * error. */
int sg_net_telemetry_stats(struct sg_net_stats *out);

/* Device extended statistics, passed through. */
struct sg_net_xstat {
	char name[64];
	uint64_t value;
};

/* Fills up to n entries. Returns how many the device has (may exceed n:
 * call again with a larger array), or -errno. */
int sg_net_xstats(const struct sg_net_port *p, struct sg_net_xstat *xs,
		  unsigned n);

#ifdef __cplusplus
}
#endif

#endif /* SG_NET_H */
