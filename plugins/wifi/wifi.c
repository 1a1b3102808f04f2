/* wifi-stats: 802.11 statistics from the raw frames of every packet.
 *
 * For every packet whose link type carries 802.11 (plain 802.11 105,
 * Prism 119, radiotap 127, AVS 163, PPI 192) the radio header is parsed for
 * the signal strength, channel and FCS flags, then the 802.11 MAC header
 * (IEEE 802.11-2020 clause 9.2) and, for management frames, the fixed
 * fields and information elements of the body (clause 9.3.3, 9.4.2). It
 * keeps:
 *   - frame counts by type and subtype (Table 9-1);
 *   - networks by BSSID: SSID, channel (DSSS Parameter Set, else HT
 *     Operation, else the radio header), encryption (Privacy capability,
 *     RSN and WPA elements), beacons, probe responses, data frames, signal;
 *   - stations: which network they talk to, frames sent and received,
 *     the SSIDs they probe for, signal;
 *   - signal strength (dBm) min/mean/max over every frame that has one.
 * At shutdown it writes a <wifi> summary into the report (always) and
 * wifi-stats.txt into the output directory (when at least one packet of an
 * 802.11 link type was read, so -a on an Ethernet capture adds no file).
 *
 * Every byte is read after an explicit bounds check against the captured
 * length: a header or element that claims more than is there ends the
 * parsing of that frame, never a read past it. Counted in <frames>:
 * malformed (radio header wrong or no frame control: the packet is not a
 * frame), short (a frame whose MAC header or fixed fields are cut),
 * malformed_elements (an element running past the end of a whole frame).
 *
 * check_fcs (core setting, default YES), as in 1.6: a frame whose FCS is
 * wrong is counted as bad_fcs and otherwise ignored. The FCS is known to be
 * present from the radiotap Flags field (0x10) or the PPI 802.11-Common
 * flags (0x1); without a radio header saying so (105, Prism, AVS), a
 * trailer is taken as an FCS only when it verifies. A driver's "bad FCS"
 * flag (radiotap 0x40, PPI 0x4) counts too.
 *
 * Memory is bounded: at most wifi_max_devices networks and as many
 * stations; frames of devices beyond that are still counted by type.
 *
 * Built like any third-party scanner: only <tcpflow/scanner.h>. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tcpflow/scanner.h>

/* Link types (LINKTYPE_* of the pcap format). */
#define LT_IEEE802_11 105
#define LT_PRISM 119
#define LT_RADIOTAP 127
#define LT_AVS 163
#define LT_PPI 192

#define WIFI_MAX_PROBED 4
#define WIFI_DEFAULT_MAX_DEVICES "100000"

static const struct tf_host *host;

static const struct tf_param wifi_params[] = {
	{ "wifi_max_devices", WIFI_DEFAULT_MAX_DEVICES,
	  "networks (and, separately, stations) tracked at most; more are only counted" },
	{ NULL, NULL, NULL },
};

/* ---- small readers: callers check the bounds first ------------------------------ */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	       (uint32_t)p[3];
}

/* CRC-32 of IEEE 802.3 (reflected 0xEDB88320), the 802.11 FCS (9.2.4.8). */
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++)
		c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ---- state ------------------------------------------------------------------------------ */

struct sig {
	uint64_t n;
	int64_t sum;
	int min, max;
};

struct wnet {
	uint8_t bssid[6];
	uint8_t ssid_len;
	uint8_t has_ssid;          /* a non-hidden SSID was seen */
	uint8_t hidden;            /* a beacon carried an empty or zeroed SSID */
	uint8_t has_info;          /* a beacon or probe response body was parsed */
	uint8_t rsn, wpa;
	uint8_t ssid[32];
	uint16_t capability;
	int channel;               /* 0 = unknown */
	int channel_from_ie;       /* channel came from an element, not a radio header */
	uint32_t akm;              /* bit n: AKM suite type n (RSN or WPA) */
	uint32_t pairwise;         /* bit n: pairwise cipher suite type n */
	uint64_t frames, beacons, probe_resp, data_frames, data_bytes, protected_data;
	uint64_t stations;         /* computed at the end */
	struct sig sig;
	int64_t first_sec, last_sec;
	uint32_t first_usec, last_usec;
};

struct wsta {
	uint8_t mac[6];
	uint8_t nprobed;
	int32_t net;               /* index into nets, -1 = none */
	uint64_t sent, received, data_sent, data_received, probes;
	struct sig sig;
	int64_t first_sec, last_sec;
	uint32_t first_usec, last_usec;
	uint8_t probed_len[WIFI_MAX_PROBED];
	uint8_t probed[WIFI_MAX_PROBED][32];
};

/* An index of 6-byte addresses into an array: open addressing, linear
 * probing, slots hold index + 1. */
struct mindex {
	uint32_t *slot;
	size_t cap;                /* power of two, 0 before the first insert */
};

struct wifi {
	int check_fcs;
	size_t max_devices;
	struct wnet *nets;
	size_t nnets, capnets;
	struct mindex netidx;
	struct wsta *stas;
	size_t nstas, capstas;
	struct mindex staidx;
	uint64_t frames;             /* 802.11 frames counted by type */
	uint64_t counts[4][16];
	/* every packet of an 802.11 link type is one of: frames, bad_fcs,
	 * malformed (radio header wrong, or no frame control), other_version */
	uint64_t bad_fcs, malformed, malformed_ies, not_wifi, other_version, untracked;
	uint64_t short_frames;       /* counted, but the MAC header or fixed fields cut */
	uint64_t wds;
	uint64_t wifi_packets;       /* packets of an 802.11 link type */
	struct sig sig;
	/* the packet being parsed */
	int64_t ts_sec;
	uint32_t ts_usec;
};

/* Radio header facts for one frame. */
struct radio {
	int has_signal;
	int signal;                /* dBm */
	int freq;                  /* MHz, 0 = unknown */
	int channel;               /* 0 = unknown */
	int fcs;                   /* 1 present, 0 absent, -1 unknown (verify to know) */
	int bad_fcs;               /* the radio header says the FCS is wrong */
	int truncated;             /* captured shorter than it was on the air */
};

static void sig_add(struct sig *s, int v)
{
	if (!s->n || v < s->min)
		s->min = v;
	if (!s->n || v > s->max)
		s->max = v;
	s->n++;
	s->sum += v;
}

static uint32_t mac_hash(const uint8_t *m)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 6; i++)
		h = (h ^ m[i]) * 16777619u;
	return h ^ (h >> 15);
}

static int is_group(const uint8_t *m)
{
	return m[0] & 1;
}

static int is_zero(const uint8_t *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

/* Index of mac in the array described by (base, stride), or -1. */
static long mindex_find(const struct mindex *x, const void *base, size_t stride,
			const uint8_t *mac)
{
	if (!x->cap)
		return -1;
	size_t mask = x->cap - 1;
	for (size_t i = mac_hash(mac) & mask;; i = (i + 1) & mask) {
		uint32_t s = x->slot[i];
		if (!s)
			return -1;
		const uint8_t *k = (const uint8_t *)base + (size_t)(s - 1) * stride;
		if (!memcmp(k, mac, 6))
			return (long)(s - 1);
	}
}

/* Put entry idx (its key at base + idx * stride) in the index; grows it to
 * keep the load under one half. 0 or -ENOMEM. */
static int mindex_add(struct mindex *x, const void *base, size_t stride, size_t idx)
{
	if ((idx + 1) * 2 > x->cap) {
		size_t ncap = x->cap ? x->cap * 2 : 64;
		uint32_t *ns = calloc(ncap, sizeof *ns);
		if (!ns)
			return -ENOMEM;
		for (size_t j = 0; j < idx; j++) {
			const uint8_t *k = (const uint8_t *)base + j * stride;
			size_t i = mac_hash(k) & (ncap - 1);
			while (ns[i])
				i = (i + 1) & (ncap - 1);
			ns[i] = (uint32_t)(j + 1);
		}
		free(x->slot);
		x->slot = ns;
		x->cap = ncap;
	}
	const uint8_t *k = (const uint8_t *)base + idx * stride;
	size_t i = mac_hash(k) & (x->cap - 1);
	while (x->slot[i])
		i = (i + 1) & (x->cap - 1);
	x->slot[i] = (uint32_t)(idx + 1);
	return 0;
}

static void seen(struct wifi *w, int64_t *fs, uint32_t *fu, int64_t *ls, uint32_t *lu, int fresh)
{
	if (fresh || w->ts_sec < *fs || (w->ts_sec == *fs && w->ts_usec < *fu)) {
		*fs = w->ts_sec;
		*fu = w->ts_usec;
	}
	if (fresh || w->ts_sec > *ls || (w->ts_sec == *ls && w->ts_usec > *lu)) {
		*ls = w->ts_sec;
		*lu = w->ts_usec;
	}
}

/* The network with this BSSID, created when new; NULL for group or zero
 * addresses and past the limit. */
static struct wnet *get_net(struct wifi *w, const uint8_t *bssid)
{
	if (is_group(bssid) || is_zero(bssid))
		return NULL;
	long i = mindex_find(&w->netidx, w->nets, sizeof *w->nets, bssid);
	if (i >= 0) {
		seen(w, &w->nets[i].first_sec, &w->nets[i].first_usec, &w->nets[i].last_sec,
		     &w->nets[i].last_usec, 0);
		return &w->nets[i];
	}
	if (w->nnets >= w->max_devices) {
		w->untracked++;
		return NULL;
	}
	if (w->nnets == w->capnets) {
		size_t nc = w->capnets ? w->capnets * 2 : 16;
		struct wnet *nn = realloc(w->nets, nc * sizeof *nn);
		if (!nn)
			return NULL;
		w->nets = nn;
		w->capnets = nc;
	}
	struct wnet *n = &w->nets[w->nnets];
	memset(n, 0, sizeof *n);
	memcpy(n->bssid, bssid, 6);
	if (mindex_add(&w->netidx, w->nets, sizeof *w->nets, w->nnets) < 0)
		return NULL;
	w->nnets++;
	seen(w, &n->first_sec, &n->first_usec, &n->last_sec, &n->last_usec, 1);
	return n;
}

static struct wnet *find_net(struct wifi *w, const uint8_t *bssid)
{
	long i = mindex_find(&w->netidx, w->nets, sizeof *w->nets, bssid);
	return i >= 0 ? &w->nets[i] : NULL;
}

/* The station with this address (created when new); NULL for group or
 * zero addresses, for known BSSIDs (an AP is not a station) and past the
 * limit. */
static struct wsta *get_sta(struct wifi *w, const uint8_t *mac)
{
	if (is_group(mac) || is_zero(mac) || find_net(w, mac))
		return NULL;
	long i = mindex_find(&w->staidx, w->stas, sizeof *w->stas, mac);
	if (i >= 0) {
		seen(w, &w->stas[i].first_sec, &w->stas[i].first_usec, &w->stas[i].last_sec,
		     &w->stas[i].last_usec, 0);
		return &w->stas[i];
	}
	if (w->nstas >= w->max_devices) {
		w->untracked++;
		return NULL;
	}
	if (w->nstas == w->capstas) {
		size_t nc = w->capstas ? w->capstas * 2 : 16;
		struct wsta *ns = realloc(w->stas, nc * sizeof *ns);
		if (!ns)
			return NULL;
		w->stas = ns;
		w->capstas = nc;
	}
	struct wsta *s = &w->stas[w->nstas];
	memset(s, 0, sizeof *s);
	memcpy(s->mac, mac, 6);
	s->net = -1;
	if (mindex_add(&w->staidx, w->stas, sizeof *w->stas, w->nstas) < 0)
		return NULL;
	w->nstas++;
	seen(w, &s->first_sec, &s->first_usec, &s->last_sec, &s->last_usec, 1);
	return s;
}

static void link_sta(struct wifi *w, struct wsta *s, const struct wnet *n)
{
	if (s && n)
		s->net = (int32_t)(n - w->nets);
}

/* ---- radio headers ------------------------------------------------------------------ */

/* Channel number of a centre frequency (IEEE 802.11-2020 clauses 15.4.4.3,
 * 17.3.8.4.2, 27.3.23.2). */
static int freq_to_channel(int f)
{
	if (f == 2484)
		return 14;
	if (f >= 2412 && f <= 2472)
		return (f - 2407) / 5;
	if (f >= 5955 && f <= 7115)
		return (f - 5950) / 5;
	if (f >= 5000 && f <= 5925)
		return (f - 5000) / 5;
	if (f >= 4910 && f <= 4980)
		return (f - 4000) / 5;
	return 0;
}

/* Alignment and size of the radiotap fields 0..27 (radiotap.org "Defined
 * fields"); 0 marks fields whose layout is unknown here. */
static const uint8_t rt_align[28] = { 8, 1, 1, 2, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1,
				      2, 2, 1, 1, 4, 1, 4, 2, 8, 2, 2, 2, 1, 2 };
static const uint8_t rt_size[28] = { 8, 1, 1, 4, 2, 1, 1, 2, 2, 2, 1, 1, 1, 1,
				     2, 2, 1, 1, 8, 3, 8, 12, 12, 12, 12, 6, 1, 4 };

#define RT_FLAGS_FCS 0x10      /* frame includes FCS */
#define RT_FLAGS_BADFCS 0x40   /* frame failed FCS check */

/* Radiotap header (radiotap.org): it_version 0, it_pad, it_len (LE),
 * it_present words chained by bit 31, then the fields in bit order, each
 * aligned to its natural size from the start of the header. Bit 29 starts
 * the radiotap namespace again (field numbers from 0), bit 30 a vendor
 * namespace whose data (OUI, sub-namespace, skip_length) is skipped.
 * Returns the header length, or -1 when it is not there or lies. Fields
 * after one of unknown layout are not read (their offsets are unknown). */
static long radiotap_parse(const uint8_t *f, size_t caplen, struct radio *r)
{
	if (caplen < 8 || f[0] != 0)
		return -1;
	size_t len = le16(f + 2);
	if (len < 8 || len > caplen)
		return -1;
	size_t nwords = 0;
	for (;;) {
		if (4 + 4 * (nwords + 1) > len)
			return -1;
		uint32_t pw = le32(f + 4 + 4 * nwords);
		nwords++;
		if (!(pw & 0x80000000u))
			break;
	}
	r->fcs = 0;
	size_t off = 4 + 4 * nwords;
	int vendor = 0;            /* in a vendor namespace */
	size_t vendor_end = 0;
	unsigned base = 0;         /* field number of bit 0 of this word */
	int have_flags = 0, have_signal = 0, have_chan = 0;
	for (size_t wi = 0; wi < nwords; wi++) {
		uint32_t pw = le32(f + 4 + 4 * wi);
		for (unsigned bit = 0; bit < 29 && !vendor; bit++) {
			if (!(pw & (1u << bit)))
				continue;
			unsigned field = base + bit;
			if (field >= 28 || !rt_size[field])
				return (long)len;   /* TLVs or unknown: nothing more to learn */
			size_t a = rt_align[field];
			off = (off + a - 1) & ~(a - 1);
			if (off + rt_size[field] > len)
				return (long)len;   /* fields cut short: keep what was read */
			const uint8_t *d = f + off;
			switch (field) {
			case 1:         /* Flags */
				if (!have_flags) {
					have_flags = 1;
					r->fcs = (d[0] & RT_FLAGS_FCS) ? 1 : 0;
					r->bad_fcs = (d[0] & RT_FLAGS_BADFCS) ? 1 : 0;
				}
				break;
			case 3:         /* Channel: frequency (MHz), flags */
				if (!have_chan) {
					have_chan = 1;
					r->freq = le16(d);
					r->channel = freq_to_channel(r->freq);
				}
				break;
			case 5:         /* dBm antenna signal; the first is the combined one */
				if (!have_signal) {
					have_signal = 1;
					r->has_signal = 1;
					r->signal = (int8_t)d[0];
				}
				break;
			case 18:        /* XChannel: flags, frequency, channel, max power */
				if (!have_chan) {
					have_chan = 1;
					r->freq = le16(d + 4);
					r->channel = d[6] ? d[6] : freq_to_channel(r->freq);
				}
				break;
			default:
				break;
			}
			off += rt_size[field];
		}
		if (!(pw & 0x80000000u))
			break;
		if (pw & (1u << 29)) {             /* radiotap namespace next */
			if (vendor)
				off = vendor_end;
			vendor = 0;
			base = 0;
		} else if (pw & (1u << 30)) {      /* vendor namespace next */
			if (vendor)
				off = vendor_end;
			off = (off + 1) & ~(size_t)1;
			if (off + 6 > len)
				return (long)len;
			vendor_end = off + 6 + le16(f + off + 4);
			if (vendor_end > len)
				return (long)len;
			vendor = 1;
			base = 0;
		} else if (!vendor) {
			base += 32;                /* radiotap fields 32.. (none known) */
		}
	}
	return (long)len;
}

/* Prism (wlan-ng) header: msgcode, msglen, devname[16], then items of
 * { did, status, len, data } (12 bytes), host byte order. A header starting
 * 0x8021100x (big-endian) is an AVS header instead (see avs_parse). */
static long avs_parse(const uint8_t *f, size_t caplen, struct radio *r);

static long prism_parse(const uint8_t *f, size_t caplen, struct radio *r)
{
	if (caplen < 8)
		return -1;
	if ((be32(f) & 0xFFFFFFF0u) == 0x80211000u)
		return avs_parse(f, caplen, r);
	uint32_t code = le32(f);
	int le = 1;
	if (code != 0x44 && code != 0x41) {
		uint32_t bcode = be32(f);
		if (bcode != 0x44 && bcode != 0x41)
			return -1;
		le = 0;
	}
	size_t len = le ? le32(f + 4) : be32(f + 4);
	if (len < 24 || len > caplen)
		return -1;
	r->fcs = -1;
	for (size_t off = 24; off + 12 <= len; off += 12) {
		uint32_t did = le ? le32(f + off) : be32(f + off);
		uint16_t status = le ? le16(f + off + 4)
				     : (uint16_t)((f[off + 4] << 8) | f[off + 5]);
		int32_t v = (int32_t)(le ? le32(f + off + 8) : be32(f + off + 8));
		unsigned item;
		if ((did & 0xFFF0FFFFu) == 0x44)          /* 0x000N0044 */
			item = (did >> 16) & 0xF;
		else if ((did & 0xFFFF0FFFu) == 0x41)     /* 0x0000N041 */
			item = (did >> 12) & 0xF;
		else
			continue;
		if (status != 0)                          /* 0: the value is supplied */
			continue;
		if (item == 3 && v > 0 && v < 256)        /* channel */
			r->channel = v;
		else if (item == 6 && v < 0 && v >= -127) { /* signal, when in dBm */
			r->has_signal = 1;
			r->signal = v;
		}
	}
	return (long)len;
}

/* AVS capture header (version 1 and 2, all fields big-endian): version,
 * length, mactime, hosttime, phytype, channel (at 28), datarate, antenna,
 * priority, ssi_type (at 44; 2 = dBm), ssi_signal (at 48), ... */
static long avs_parse(const uint8_t *f, size_t caplen, struct radio *r)
{
	if (caplen < 8)
		return -1;
	size_t len = be32(f + 4);
	if (len < 8 || len > caplen)
		return -1;
	r->fcs = -1;
	if (len >= 32) {
		uint32_t ch = be32(f + 28);
		if (ch > 0 && ch < 256)
			r->channel = (int)ch;
	}
	if (len >= 52 && be32(f + 44) == 2) {
		int32_t s = (int32_t)be32(f + 48);
		if (s >= -127 && s <= 0) {
			r->has_signal = 1;
			r->signal = s;
		}
	}
	return (long)len;
}

/* PPI header (PPI specification 1.0.10): pph_version 0, pph_flags (0x1:
 * fields 32-bit aligned), pph_len, pph_dlt (LE), then fields { type, len,
 * data }. Field 2, 802.11-Common: tsft(8), flags(2: 0x1 FCS present, 0x4
 * FCS invalid), rate(2), frequency(2), channel flags(2), FHSS(2), dBm
 * antenna signal(1), dBm antenna noise(1). *dlt gets the inner link type. */
static long ppi_parse(const uint8_t *f, size_t caplen, struct radio *r, uint32_t *dlt)
{
	if (caplen < 8 || f[0] != 0)
		return -1;
	size_t len = le16(f + 2);
	if (len < 8 || len > caplen)
		return -1;
	*dlt = le32(f + 4);
	int aligned = f[1] & 1;
	r->fcs = -1;
	size_t off = 8;
	while (off + 4 <= len) {
		uint16_t type = le16(f + off);
		size_t flen = le16(f + off + 2);
		if (off + 4 + flen > len)
			return -1;
		const uint8_t *d = f + off + 4;
		if (type == 2 && flen >= 20) {
			uint16_t flags = le16(d + 8);
			r->fcs = (flags & 0x1) ? 1 : 0;
			r->bad_fcs = (flags & 0x4) ? 1 : 0;
			r->freq = le16(d + 12);
			r->channel = freq_to_channel(r->freq);
			int8_t s = (int8_t)d[18];
			if (s != 0 && s != -128) {     /* 0: not known */
				r->has_signal = 1;
				r->signal = s;
			}
		}
		size_t step = 4 + flen;
		if (aligned)
			step = (step + 3) & ~(size_t)3;
		off += step;
	}
	return (long)len;
}

/* ---- information elements (clause 9.4.2) ------------------------------------------------ */

struct ies {
	int has_ssid;
	uint8_t ssid_len;
	uint8_t ssid[32];
	int ds_channel;            /* DSSS Parameter Set, 9.4.2.4 */
	int ht_channel;            /* HT Operation primary channel, 9.4.2.56 */
	int rsn, wpa;
	uint32_t akm, pairwise;
	int malformed;
};

/* Cipher and AKM suite lists of an RSN element (9.4.2.24) or of the WPA
 * vendor element (same layout after its OUI and type): version, group data
 * cipher suite, pairwise count + suites, AKM count + suites, ... Each part
 * is optional from the end; a count larger than what follows is malformed.
 * oui is 00-0F-AC for RSN, 00-50-F2 for WPA. */
static void parse_suites(struct ies *ie, const uint8_t *d, size_t n, const uint8_t *oui)
{
	size_t off = 2;            /* version */
	if (n < off)
		goto bad;
	if (n < off + 4)
		return;
	off += 4;                  /* group data cipher suite */
	for (int list = 0; list < 2; list++) {
		if (n < off + 2)
			return;
		size_t count = le16(d + off);
		off += 2;
		if (count > (n - off) / 4)
			goto bad;
		for (size_t i = 0; i < count; i++, off += 4) {
			if (memcmp(d + off, oui, 3) || d[off + 3] > 31)
				continue;  /* vendor suites: not classified */
			if (list == 0)
				ie->pairwise |= 1u << d[off + 3];
			else
				ie->akm |= 1u << d[off + 3];
		}
	}
	return;
bad:
	ie->malformed = 1;
}

static void parse_ies(struct ies *ie, const uint8_t *b, size_t n)
{
	static const uint8_t rsn_oui[3] = { 0x00, 0x0F, 0xAC };
	static const uint8_t wpa_oui[3] = { 0x00, 0x50, 0xF2 };
	size_t off = 0;
	memset(ie, 0, sizeof *ie);
	while (off + 2 <= n) {
		uint8_t id = b[off];
		size_t l = b[off + 1];
		if (off + 2 + l > n) {
			ie->malformed = 1;  /* an element longer than the frame */
			return;
		}
		const uint8_t *d = b + off + 2;
		switch (id) {
		case 0:                    /* SSID, 9.4.2.2: 0..32 octets */
			if (l > 32)
				ie->malformed = 1;
			else if (!ie->has_ssid) {
				ie->has_ssid = 1;
				ie->ssid_len = (uint8_t)l;
				memcpy(ie->ssid, d, l);
			}
			break;
		case 3:                    /* DSSS Parameter Set: current channel */
			if (l >= 1)
				ie->ds_channel = d[0];
			else
				ie->malformed = 1;
			break;
		case 61:                   /* HT Operation: primary channel first */
			if (l >= 1)
				ie->ht_channel = d[0];
			else
				ie->malformed = 1;
			break;
		case 48:                   /* RSN */
			ie->rsn = 1;
			parse_suites(ie, d, l, rsn_oui);
			break;
		case 221:                  /* Vendor Specific: WPA is 00-50-F2 type 1 */
			if (l >= 4 && !memcmp(d, wpa_oui, 3) && d[3] == 1) {
				ie->wpa = 1;
				parse_suites(ie, d + 4, l - 4, wpa_oui);
			}
			break;
		default:
			break;
		}
		off += 2 + l;
	}
	if (off != n)
		ie->malformed = 1;         /* one stray octet at the end */
}

/* An SSID is hidden when it is empty or all zero octets (11.1.3.1). */
static int ssid_hidden(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i])
			return 0;
	return 1;
}

static void net_learn_ssid(struct wnet *n, const struct ies *ie)
{
	if (!ie->has_ssid)
		return;
	if (ssid_hidden(ie->ssid, ie->ssid_len)) {
		n->hidden = 1;
		return;
	}
	n->has_ssid = 1;
	n->ssid_len = ie->ssid_len;
	memcpy(n->ssid, ie->ssid, ie->ssid_len);
}

static void net_learn_channel(struct wnet *n, const struct ies *ie, const struct radio *r)
{
	if (ie && ie->ds_channel) {
		n->channel = ie->ds_channel;
		n->channel_from_ie = 1;
	} else if (ie && ie->ht_channel) {
		n->channel = ie->ht_channel;
		n->channel_from_ie = 1;
	} else if (!n->channel_from_ie && r->channel) {
		n->channel = r->channel;
	}
}

/* ---- 802.11 MAC frames (clause 9.2, 9.3) -------------------------------------------------- */

static void note_signal(struct wifi *w, const struct radio *r, const uint8_t *ta)
{
	if (!r->has_signal)
		return;
	sig_add(&w->sig, r->signal);
	if (!ta)
		return;
	struct wnet *n = find_net(w, ta);
	if (n) {
		sig_add(&n->sig, r->signal);
		return;
	}
	long i = mindex_find(&w->staidx, w->stas, sizeof *w->stas, ta);
	if (i >= 0)
		sig_add(&w->stas[i].sig, r->signal);
}

static void sta_probed(struct wsta *s, const struct ies *ie)
{
	if (!s || !ie->has_ssid || ssid_hidden(ie->ssid, ie->ssid_len))
		return;                    /* the wildcard SSID */
	for (unsigned i = 0; i < s->nprobed; i++)
		if (s->probed_len[i] == ie->ssid_len &&
		    !memcmp(s->probed[i], ie->ssid, ie->ssid_len))
			return;
	if (s->nprobed < WIFI_MAX_PROBED) {
		s->probed_len[s->nprobed] = ie->ssid_len;
		memcpy(s->probed[s->nprobed], ie->ssid, ie->ssid_len);
		s->nprobed++;
	}
}

/* Management frame (9.3.3): A1 DA, A2 SA, A3 BSSID, sequence control, then
 * the HT Control field when Order is set (9.2.4.1.10), then the body. */
static void mgmt_frame(struct wifi *w, const uint8_t *m, size_t n, unsigned sub,
		       const struct radio *r)
{
	if (n < 24) {
		w->short_frames++;
		note_signal(w, r, NULL);
		return;
	}
	const uint8_t *da = m + 4, *sa = m + 10, *bssid = m + 16;
	size_t hl = 24 + ((m[1] & 0x80) ? 4 : 0);
	int protect = m[1] & 0x40;
	const uint8_t *body = m + hl;
	size_t blen = n >= hl ? n - hl : 0;
	if (n < hl)
		w->short_frames++;
	struct ies ie = { 0 };
	int have_ie = 0;
	struct wnet *net = NULL;
	struct wsta *sta = NULL;
	switch (sub) {
	case 8:                    /* Beacon, 9.3.3.2 */
	case 5:                    /* Probe Response, 9.3.3.10 */
		net = get_net(w, bssid);
		if (!net)
			break;
		if (sub == 8)
			net->beacons++;
		else
			net->probe_resp++;
		net->frames++;
		if (sub == 5) {            /* to the station that probed */
			struct wsta *p = get_sta(w, da);
			if (p)
				p->received++;
		}
		if (protect || n < hl)
			break;
		/* timestamp (8), beacon interval (2), capability information (2) */
		if (blen < 12) {
			w->short_frames++;
			break;
		}
		parse_ies(&ie, body + 12, blen - 12);
		have_ie = 1;
		/* a frame cut short may lack the RSN element: it does not
		 * override what a whole one said */
		if (!r->truncated || !net->has_info) {
			net->has_info = 1;
			net->capability = le16(body + 10);
			net->rsn = (uint8_t)ie.rsn;
			net->wpa = (uint8_t)ie.wpa;
			net->akm = ie.akm;
			net->pairwise = ie.pairwise;
		}
		net_learn_ssid(net, &ie);
		net_learn_channel(net, &ie, r);
		break;
	case 4:                    /* Probe Request, 9.3.3.9: elements only */
		sta = get_sta(w, sa);
		if (sta) {
			sta->probes++;
			sta->sent++;
		}
		if (protect || n < hl)
			break;
		parse_ies(&ie, body, blen);
		have_ie = 1;
		sta_probed(sta, &ie);
		break;
	case 0:                    /* (Re)Association Request, 9.3.3.5 / 9.3.3.7 */
	case 2:
		net = get_net(w, bssid);
		sta = get_sta(w, sa);
		link_sta(w, sta, net);
		if (sta)
			sta->sent++;
		if (net)
			net->frames++;
		if (protect || n < hl)
			break;
		{
			size_t fixed = sub == 0 ? 4 : 10;  /* capability, listen interval[, AP] */
			if (blen < fixed) {
				w->short_frames++;
				break;
			}
			parse_ies(&ie, body + fixed, blen - fixed);
			have_ie = 1;
			if (net && !net->has_ssid)
				net_learn_ssid(net, &ie);  /* reveals a hidden SSID */
		}
		break;
	default:
		/* Association responses, authentication, deauthentication,
		 * disassociation, action...: between an AP (SA or DA = BSSID)
		 * and a station. */
		net = get_net(w, bssid);
		if (net)
			net->frames++;
		if (!memcmp(sa, bssid, 6)) {
			sta = get_sta(w, da);
			if (sta)
				sta->received++;
		} else {
			sta = get_sta(w, sa);
			if (sta)
				sta->sent++;
		}
		link_sta(w, sta, net);
		break;
	}
	if (have_ie && ie.malformed && !r->truncated)
		w->malformed_ies++;   /* (an element cut by the snap length is not) */
	note_signal(w, r, sa);
}

/* Data frame (9.3.2.1): the addresses by To DS / From DS (Table 9-30),
 * A4 when both are set, QoS Control for QoS subtypes, HT Control when QoS
 * and Order. */
static void data_frame(struct wifi *w, const uint8_t *m, size_t n, unsigned sub,
		       const struct radio *r)
{
	if (n < 24) {
		w->short_frames++;
		note_signal(w, r, NULL);
		return;
	}
	int tods = m[1] & 0x01, fromds = m[1] & 0x02;
	const uint8_t *a1 = m + 4, *a2 = m + 10, *a3 = m + 16;
	size_t hl = 24 + (tods && fromds ? 6 : 0);
	if (sub & 0x8)
		hl += 2 + ((m[1] & 0x80) ? 4 : 0);
	if (n < hl)
		w->short_frames++;
	size_t payload = n > hl ? n - hl : 0;
	int has_data = !(sub & 0x4);       /* Null and CF-only subtypes carry none */
	const uint8_t *bssid = NULL;
	struct wsta *tx = NULL, *rx = NULL;
	if (!tods && !fromds) {            /* IBSS or direct: A1 DA, A2 SA, A3 BSSID */
		bssid = a3;
	} else if (tods && !fromds) {      /* to the AP: A1 BSSID, A2 SA, A3 DA */
		bssid = a1;
	} else if (!tods && fromds) {      /* from the AP: A1 DA, A2 BSSID, A3 SA */
		bssid = a2;
	} else {
		w->wds++;                  /* mesh / WDS: no BSSID */
	}
	struct wnet *net = bssid ? get_net(w, bssid) : NULL;
	if (net) {
		net_learn_channel(net, NULL, r);   /* a BSS's frames are on its channel */
		net->frames++;
		if (has_data) {
			net->data_frames++;
			net->data_bytes += payload;
			if (m[1] & 0x40)
				net->protected_data++;
		}
	}
	if (bssid && !fromds)
		tx = get_sta(w, a2);
	if (bssid && !tods)
		rx = get_sta(w, a1);
	if (tx) {
		tx->sent++;
		if (has_data)
			tx->data_sent++;
		link_sta(w, tx, net);
	}
	if (rx) {
		rx->received++;
		if (has_data)
			rx->data_received++;
		link_sta(w, rx, net);
	}
	note_signal(w, r, a2);
}

/* Control frame (9.3.1): only PS-Poll (A1 BSSID, A2 TA) says which network
 * a station belongs to; RTS has a TA for the signal. The rest is counted. */
static void ctrl_frame(struct wifi *w, const uint8_t *m, size_t n, unsigned sub,
		       const struct radio *r)
{
	size_t need = (sub == 12 || sub == 13) ? 10 : (sub >= 8 ? 16 : 10);
	if (n < need) {
		w->short_frames++;
		note_signal(w, r, NULL);
		return;
	}
	if (sub == 10) {                   /* PS-Poll */
		struct wnet *net = get_net(w, m + 4);
		struct wsta *s = get_sta(w, m + 10);
		if (s)
			s->sent++;
		link_sta(w, s, net);
	}
	note_signal(w, r, (sub == 10 || sub == 11) ? m + 10 : NULL);
}

/* One 802.11 MAC frame, FCS already removed. */
static void mac_frame(struct wifi *w, const uint8_t *m, size_t n, const struct radio *r)
{
	if (n < 2) {
		w->malformed++;            /* not even a frame control field */
		return;
	}
	unsigned version = m[0] & 0x3, type = (m[0] >> 2) & 0x3, sub = (m[0] >> 4) & 0xF;
	if (version != 0) {                /* PV1 (S1G) frames: another header */
		w->other_version++;
		note_signal(w, r, NULL);
		return;
	}
	w->frames++;
	w->counts[type][sub]++;
	switch (type) {
	case 0:
		mgmt_frame(w, m, n, sub, r);
		break;
	case 1:
		ctrl_frame(w, m, n, sub, r);
		break;
	case 2:
		data_frame(w, m, n, sub, r);
		break;
	default:                           /* extension (DMG / S1G beacons) */
		note_signal(w, r, NULL);
		break;
	}
}

static void wifi_packet(struct tf_ctx *ctx, void *state, const struct tf_packet *pkt)
{
	struct wifi *w = state;
	(void)ctx;
	if (!w)
		return;
	const uint8_t *f = pkt->frame;
	size_t caplen = f ? pkt->caplen : 0;
	size_t wirelen = pkt->wirelen > caplen ? pkt->wirelen : caplen;
	struct radio r;
	long hl = 0;
	uint32_t inner = LT_IEEE802_11;
	memset(&r, 0, sizeof r);
	r.fcs = -1;
	r.truncated = caplen < wirelen;
	switch (pkt->linktype) {
	case LT_IEEE802_11:
		break;
	case LT_RADIOTAP:
		hl = radiotap_parse(f, caplen, &r);
		break;
	case LT_PRISM:
		hl = prism_parse(f, caplen, &r);
		break;
	case LT_AVS:
		hl = avs_parse(f, caplen, &r);
		break;
	case LT_PPI:
		hl = ppi_parse(f, caplen, &r, &inner);
		break;
	default:
		w->not_wifi++;
		return;
	}
	if (!f || hl < 0) {
		w->wifi_packets++;
		w->malformed++;            /* the radio header lies */
		return;
	}
	if (inner != LT_IEEE802_11) {
		w->not_wifi++;             /* PPI carrying something else */
		return;
	}
	w->wifi_packets++;
	w->ts_sec = pkt->ts_sec;
	w->ts_usec = pkt->ts_usec;
	const uint8_t *m = f + hl;
	size_t n = caplen - (size_t)hl;
	size_t wire = wirelen - (size_t)hl;
	int whole = caplen >= wirelen;
	if (r.fcs == 1) {                  /* the radio header says there is an FCS */
		if (whole && n >= 4) {
			n -= 4;
			if (w->check_fcs && (r.bad_fcs || crc32_ieee(m, n) != le32(m + n))) {
				w->bad_fcs++;
				return;
			}
		} else {
			if (wire >= 4 && n > wire - 4)
				n = wire - 4;      /* cut inside the FCS */
			if (w->check_fcs && r.bad_fcs) {
				w->bad_fcs++;
				return;
			}
		}
	} else {
		if (w->check_fcs && r.bad_fcs) {
			w->bad_fcs++;
			return;
		}
		/* unknown: a trailer is an FCS only when it verifies */
		if (r.fcs < 0 && whole && n >= 14 && crc32_ieee(m, n - 4) == le32(m + n - 4))
			n -= 4;
	}
	mac_frame(w, m, n, &r);
}

/* ---- output ---------------------------------------------------------------------------- */

/* Growing text buffer. */
struct text {
	char *p;
	size_t n, cap;
	int failed;
};

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
static void tprintf(struct text *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (k < 0 || t->failed)
		return;
	size_t len = (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1;
	if (t->n + len + 1 > t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 4096;
		while (nc < t->n + len + 1)
			nc *= 2;
		char *np = realloc(t->p, nc);
		if (!np) {
			t->failed = 1;
			return;
		}
		t->p = np;
		t->cap = nc;
	}
	memcpy(t->p + t->n, buf, len);
	t->n += len;
	t->p[t->n] = '\0';
}

static void fmt_mac(char out[18], const uint8_t *m)
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	size_t k;
	uint32_t c;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xE0) == 0xC0) {
		k = 2;
		c = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		k = 3;
		c = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		k = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((k == 2 && c < 0x80) || (k == 3 && c < 0x800) || (k == 4 && c < 0x10000) ||
	    c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return k;
}

/* An SSID as text: valid UTF-8 kept, control characters, backslash and
 * invalid bytes as \xNN. out has room for 4 * 32 + 1 bytes. */
static void fmt_ssid(char *out, size_t outlen, const uint8_t *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 <= outlen;) {
		size_t k = utf8_len(s + i, n - i);
		if (k == 1 && s[i] >= 0x20 && s[i] != 0x7F && s[i] != '\\') {
			out[o++] = (char)s[i++];
		} else if (k > 1) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			snprintf(out + o, outlen - o, "\\x%02x", s[i]);
			o += 4;
			i++;
		}
	}
	out[o] = '\0';
}

static void fmt_time(char out[64], size_t len, int64_t sec, uint32_t usec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		snprintf(out, len, "%" PRId64 ".%06u", sec, (unsigned)usec);
		return;
	}
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(usec % 1000000));
}

static const char *const mgmt_names[16] = {
	"association-request", "association-response", "reassociation-request",
	"reassociation-response", "probe-request", "probe-response", "timing-advertisement",
	"reserved-7", "beacon", "atim", "disassociation", "authentication",
	"deauthentication", "action", "action-no-ack", "reserved-15",
};
static const char *const ctrl_names[16] = {
	"reserved-0", "reserved-1", "trigger", "tack", "beamforming-report-poll",
	"ndp-announcement", "control-frame-extension", "control-wrapper",
	"block-ack-request", "block-ack", "ps-poll", "rts", "cts", "ack", "cf-end",
	"cf-end-cf-ack",
};
static const char *const data_names[16] = {
	"data", "data-cf-ack", "data-cf-poll", "data-cf-ack-cf-poll", "null", "cf-ack",
	"cf-poll", "cf-ack-cf-poll", "qos-data", "qos-data-cf-ack", "qos-data-cf-poll",
	"qos-data-cf-ack-cf-poll", "qos-null", "reserved-13", "qos-cf-poll",
	"qos-cf-ack-cf-poll",
};
static const char *const ext_names[16] = {
	"dmg-beacon", "s1g-beacon", "reserved-2", "reserved-3", "reserved-4", "reserved-5",
	"reserved-6", "reserved-7", "reserved-8", "reserved-9", "reserved-10", "reserved-11",
	"reserved-12", "reserved-13", "reserved-14", "reserved-15",
};
static const char *const type_names[4] = { "management", "control", "data", "extension" };

static const char *subtype_name(unsigned type, unsigned sub)
{
	const char *const *t = type == 0 ? mgmt_names : type == 1 ? ctrl_names
			       : type == 2 ? data_names : ext_names;
	return t[sub & 15];
}

/* Encryption of a network from its last beacon or probe response. */
static const char *net_encryption(const struct wnet *n)
{
	const uint32_t sae = (1u << 8) | (1u << 9) | (1u << 24) | (1u << 25);
	const uint32_t psk = (1u << 2) | (1u << 4) | (1u << 6);
	const uint32_t eap = (1u << 1) | (1u << 3) | (1u << 5) | (1u << 11) | (1u << 12) |
			     (1u << 13);
	const uint32_t owe = 1u << 18;
	if (!n->has_info)
		return n->protected_data ? "encrypted" : "unknown";
	if (n->rsn) {
		if ((n->akm & owe) && !(n->akm & (sae | psk | eap)))
			return "OWE";
		if ((n->akm & sae) && !(n->akm & psk))
			return "WPA3";
		if ((n->akm & sae) && (n->akm & psk))
			return "WPA2/WPA3";
		return n->wpa ? "WPA/WPA2" : "WPA2";
	}
	if (n->wpa)
		return "WPA";
	return (n->capability & 0x0010) ? "WEP" : "OPEN";   /* Privacy, 9.4.1.4 */
}

/* "PSK+SAE" style names of the AKM suites; "" when none. */
static void akm_names(char *out, size_t len, uint32_t akm)
{
	static const struct { uint32_t mask; const char *name; } t[] = {
		{ (1u << 1) | (1u << 3) | (1u << 5) | (1u << 11) | (1u << 12) | (1u << 13), "EAP" },
		{ (1u << 2) | (1u << 4) | (1u << 6), "PSK" },
		{ (1u << 8) | (1u << 9) | (1u << 24) | (1u << 25), "SAE" },
		{ 1u << 18, "OWE" },
	};
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof t / sizeof t[0] && o < len; i++)
		if (akm & t[i].mask)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "+" : "", t[i].name);
}

static void cipher_names(char *out, size_t len, uint32_t c)
{
	static const char *const names[11] = { NULL, "WEP40", "TKIP", NULL, "CCMP",
						"WEP104", NULL, NULL, "GCMP", "GCMP-256",
						"CCMP-256" };
	size_t o = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < 11 && o < len; i++)
		if ((c & (1u << i)) && names[i])
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? "+" : "", names[i]);
}

static int cmp_net(const void *a, const void *b)
{
	return memcmp(((const struct wnet *)a)->bssid, ((const struct wnet *)b)->bssid, 6);
}

static int cmp_sta(const void *a, const void *b)
{
	return memcmp(((const struct wsta *)a)->mac, ((const struct wsta *)b)->mac, 6);
}

static void report_u64(struct tf_ctx *ctx, const char *name, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%" PRIu64, v);
	host->report_attr(ctx, NULL, name, b);
}

static void sig_text(char *out, size_t len, const struct sig *s)
{
	if (!s->n)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%d/%.1f/%d", s->min, (double)s->sum / (double)s->n, s->max);
}

static void report_sig(struct tf_ctx *ctx, const struct sig *s)
{
	char b[32];
	if (!s->n)
		return;
	host->report_start(ctx, NULL, "signal");
	host->report_attr(ctx, NULL, "unit", "dBm");
	report_u64(ctx, "frames", s->n);
	snprintf(b, sizeof b, "%d", s->min);
	host->report_attr(ctx, NULL, "min", b);
	snprintf(b, sizeof b, "%.1f", (double)s->sum / (double)s->n);
	host->report_attr(ctx, NULL, "mean", b);
	snprintf(b, sizeof b, "%d", s->max);
	host->report_attr(ctx, NULL, "max", b);
	host->report_end(ctx, NULL);
}

/* The networks and stations sorted by address; station net indexes are
 * remapped to the sorted order and each network's station count is set.
 * Stations whose address turned out to be a BSSID are dropped. */
static void finish_tables(struct wifi *w)
{
	size_t *order = NULL;
	if (w->nnets) {
		/* new position of each old network index */
		order = malloc(w->nnets * sizeof *order);
		struct wnet *sorted = malloc(w->nnets * sizeof *sorted);
		if (!order || !sorted) {
			free(order);
			free(sorted);
			return;
		}
		memcpy(sorted, w->nets, w->nnets * sizeof *sorted);
		qsort(sorted, w->nnets, sizeof *sorted, cmp_net);
		for (size_t i = 0; i < w->nnets; i++) {
			long j = mindex_find(&w->netidx, w->nets, sizeof *w->nets, sorted[i].bssid);
			if (j >= 0)
				order[j] = i;
		}
		memcpy(w->nets, sorted, w->nnets * sizeof *sorted);
		free(sorted);
		free(w->netidx.slot);
		w->netidx.slot = NULL;
		w->netidx.cap = 0;
		for (size_t i = 0; i < w->nnets; i++)
			mindex_add(&w->netidx, w->nets, sizeof *w->nets, i);
	}
	size_t k = 0;
	for (size_t i = 0; i < w->nstas; i++) {
		struct wsta *s = &w->stas[i];
		if (find_net(w, s->mac))
			continue;          /* an AP seen as a station before its beacon */
		if (s->net >= 0 && order)
			s->net = (int32_t)order[s->net];
		w->stas[k++] = *s;
	}
	w->nstas = k;
	if (w->nstas > 1)
		qsort(w->stas, w->nstas, sizeof *w->stas, cmp_sta);
	for (size_t i = 0; i < w->nstas; i++)
		if (w->stas[i].net >= 0 && (size_t)w->stas[i].net < w->nnets)
			w->nets[w->stas[i].net].stations++;
	free(order);
}

static void write_report(struct wifi *w, struct tf_ctx *ctx)
{
	char b[256], t1[64], t2[64];
	host->report_start(ctx, NULL, "wifi");
	report_u64(ctx, "frames", w->frames);
	report_u64(ctx, "networks", w->nnets);
	report_u64(ctx, "stations", w->nstas);
	host->report_start(ctx, NULL, "frames");
	report_u64(ctx, "packets", w->wifi_packets);
	report_u64(ctx, "total", w->frames);
	for (unsigned t = 0; t < 4; t++) {
		uint64_t sum = 0;
		for (unsigned s = 0; s < 16; s++)
			sum += w->counts[t][s];
		report_u64(ctx, type_names[t], sum);
	}
	report_u64(ctx, "bad_fcs", w->bad_fcs);
	report_u64(ctx, "malformed", w->malformed);
	report_u64(ctx, "short", w->short_frames);
	report_u64(ctx, "malformed_elements", w->malformed_ies);
	report_u64(ctx, "other_version", w->other_version);
	report_u64(ctx, "wds", w->wds);
	report_u64(ctx, "untracked_devices", w->untracked);
	report_u64(ctx, "not_802_11", w->not_wifi);
	for (unsigned t = 0; t < 4; t++)
		for (unsigned s = 0; s < 16; s++) {
			if (!w->counts[t][s])
				continue;
			host->report_start(ctx, NULL, "frame");
			host->report_attr(ctx, NULL, "type", type_names[t]);
			snprintf(b, sizeof b, "%u", s);
			host->report_attr(ctx, NULL, "subtype", b);
			host->report_attr(ctx, NULL, "name", subtype_name(t, s));
			report_u64(ctx, "count", w->counts[t][s]);
			host->report_end(ctx, NULL);
		}
	host->report_end(ctx, NULL);
	report_sig(ctx, &w->sig);
	host->report_start(ctx, NULL, "networks");
	report_u64(ctx, "count", w->nnets);
	for (size_t i = 0; i < w->nnets; i++) {
		const struct wnet *n = &w->nets[i];
		char mac[18], ssid[4 * 32 + 1];
		host->report_start(ctx, NULL, "network");
		fmt_mac(mac, n->bssid);
		host->report_attr(ctx, NULL, "bssid", mac);
		fmt_ssid(ssid, sizeof ssid, n->ssid, n->has_ssid ? n->ssid_len : 0);
		host->report_attr(ctx, NULL, "ssid", ssid);
		if (n->hidden)
			host->report_attr(ctx, NULL, "hidden", "1");
		snprintf(b, sizeof b, "%d", n->channel);
		host->report_attr(ctx, NULL, "channel", b);
		host->report_attr(ctx, NULL, "encryption", net_encryption(n));
		if (n->rsn || n->wpa) {
			akm_names(b, sizeof b, n->akm);
			if (b[0])
				host->report_attr(ctx, NULL, "akm", b);
			cipher_names(b, sizeof b, n->pairwise);
			if (b[0])
				host->report_attr(ctx, NULL, "cipher", b);
		}
		report_u64(ctx, "beacons", n->beacons);
		report_u64(ctx, "probe_responses", n->probe_resp);
		report_u64(ctx, "data_frames", n->data_frames);
		report_u64(ctx, "data_bytes", n->data_bytes);
		report_u64(ctx, "frames", n->frames);
		report_u64(ctx, "stations", n->stations);
		fmt_time(t1, sizeof t1, n->first_sec, n->first_usec);
		fmt_time(t2, sizeof t2, n->last_sec, n->last_usec);
		host->report_attr(ctx, NULL, "first_seen", t1);
		host->report_attr(ctx, NULL, "last_seen", t2);
		report_sig(ctx, &n->sig);
		host->report_end(ctx, NULL);
	}
	host->report_end(ctx, NULL);
	host->report_start(ctx, NULL, "stations");
	report_u64(ctx, "count", w->nstas);
	for (size_t i = 0; i < w->nstas; i++) {
		const struct wsta *s = &w->stas[i];
		char mac[18], ssid[4 * 32 + 1];
		host->report_start(ctx, NULL, "station");
		fmt_mac(mac, s->mac);
		host->report_attr(ctx, NULL, "mac", mac);
		if (s->net >= 0 && (size_t)s->net < w->nnets) {
			fmt_mac(mac, w->nets[s->net].bssid);
			host->report_attr(ctx, NULL, "bssid", mac);
		}
		report_u64(ctx, "frames_sent", s->sent);
		report_u64(ctx, "frames_received", s->received);
		report_u64(ctx, "data_sent", s->data_sent);
		report_u64(ctx, "data_received", s->data_received);
		report_u64(ctx, "probe_requests", s->probes);
		fmt_time(t1, sizeof t1, s->first_sec, s->first_usec);
		fmt_time(t2, sizeof t2, s->last_sec, s->last_usec);
		host->report_attr(ctx, NULL, "first_seen", t1);
		host->report_attr(ctx, NULL, "last_seen", t2);
		report_sig(ctx, &s->sig);
		for (unsigned k = 0; k < s->nprobed; k++) {
			fmt_ssid(ssid, sizeof ssid, s->probed[k], s->probed_len[k]);
			host->report_start(ctx, NULL, "probed");
			host->report_attr(ctx, NULL, "ssid", ssid);
			host->report_end(ctx, NULL);
		}
		host->report_end(ctx, NULL);
	}
	host->report_end(ctx, NULL);
	host->report_end(ctx, NULL);
}

static void write_text(struct wifi *w, struct tf_ctx *ctx)
{
	struct text t = { NULL, 0, 0, 0 };
	char sig[48], mac[18], mac2[18], ssid[4 * 32 + 1], b[64];
	uint64_t bytype[4] = { 0, 0, 0, 0 };
	for (unsigned ty = 0; ty < 4; ty++)
		for (unsigned s = 0; s < 16; s++)
			bytype[ty] += w->counts[ty][s];
	tprintf(&t, "tcpflow %s wifi-stats: 802.11 statistics\n", host->tcpflow_version);
	if (TF_HAS(host, struct tf_host, input_name))
		for (uint32_t i = 0; host->input_name(ctx, i); i++)
			tprintf(&t, "input: %s\n", host->input_name(ctx, i));
	tprintf(&t, "\nframes: %" PRIu64 " (management %" PRIu64 ", control %" PRIu64
		", data %" PRIu64 ", extension %" PRIu64 ")\n",
		w->frames, bytype[0], bytype[1], bytype[2], bytype[3]);
	tprintf(&t, "skipped: bad FCS %" PRIu64 ", malformed %" PRIu64 ", other protocol "
		"version %" PRIu64 "; headers cut short %" PRIu64 ", malformed elements %"
		PRIu64 "; packets of other link types %" PRIu64 "\n", w->bad_fcs, w->malformed,
		w->other_version, w->short_frames, w->malformed_ies, w->not_wifi);
	if (w->untracked)
		tprintf(&t, "devices past wifi_max_devices (counted only): %" PRIu64 "\n",
			w->untracked);
	sig_text(sig, sizeof sig, &w->sig);
	tprintf(&t, "signal (dBm min/mean/max): %s over %" PRIu64 " frames\n", sig, w->sig.n);

	tprintf(&t, "\nnetworks: %zu\n", w->nnets);
	if (w->nnets)
		tprintf(&t, "%-17s %4s %-10s %-9s %8s %8s %8s %4s %-16s %s\n", "BSSID", "CH",
			"ENCRYPTION", "AKM", "BEACONS", "PROBERSP", "DATA", "STA",
			"SIGNAL", "SSID");
	for (size_t i = 0; i < w->nnets; i++) {
		const struct wnet *n = &w->nets[i];
		fmt_mac(mac, n->bssid);
		fmt_ssid(ssid, sizeof ssid, n->ssid, n->has_ssid ? n->ssid_len : 0);
		sig_text(sig, sizeof sig, &n->sig);
		b[0] = '\0';
		if (n->rsn || n->wpa)
			akm_names(b, sizeof b, n->akm);
		tprintf(&t, "%-17s %4d %-10s %-9s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %4" PRIu64
			" %-16s %s%s\n", mac, n->channel, net_encryption(n), b[0] ? b : "-",
			n->beacons, n->probe_resp, n->data_frames, n->stations, sig,
			n->has_ssid ? ssid : "", n->hidden ? (n->has_ssid ? " (hidden)"
								: "(hidden)") : "");
	}

	tprintf(&t, "\nstations: %zu\n", w->nstas);
	if (w->nstas)
		tprintf(&t, "%-17s %-17s %8s %8s %8s %6s %-16s %s\n", "STATION", "BSSID", "SENT",
			"RECEIVED", "DATA", "PROBES", "SIGNAL", "PROBED SSIDS");
	for (size_t i = 0; i < w->nstas; i++) {
		const struct wsta *s = &w->stas[i];
		fmt_mac(mac, s->mac);
		if (s->net >= 0 && (size_t)s->net < w->nnets)
			fmt_mac(mac2, w->nets[s->net].bssid);
		else
			snprintf(mac2, sizeof mac2, "-");
		sig_text(sig, sizeof sig, &s->sig);
		tprintf(&t, "%-17s %-17s %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu64
			" %-16s", mac, mac2, s->sent, s->received, s->data_sent + s->data_received,
			s->probes, sig);
		for (unsigned k = 0; k < s->nprobed; k++) {
			fmt_ssid(ssid, sizeof ssid, s->probed[k], s->probed_len[k]);
			tprintf(&t, "%s\"%s\"", k ? ", " : " ", ssid);
		}
		tprintf(&t, "\n");
	}

	tprintf(&t, "\nframes by type and subtype:\n");
	for (unsigned ty = 0; ty < 4; ty++)
		for (unsigned s = 0; s < 16; s++)
			if (w->counts[ty][s])
				tprintf(&t, "%-10s %2u %-26s %10" PRIu64 "\n", type_names[ty], s,
					subtype_name(ty, s), w->counts[ty][s]);
	if (t.failed) {
		tf_logf(host, ctx, TF_LOG_WARN, "out of memory writing wifi-stats.txt");
	} else {
		struct tf_file *f = host->file_open(ctx, NULL, "wifi-stats.txt");
		if (f) {
			if (host->file_write(ctx, f, t.p, t.n) < 0)
				tf_logf(host, ctx, TF_LOG_WARN, "cannot write wifi-stats.txt");
			host->file_close(ctx, f);
		}
	}
	free(t.p);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static int is_yes(const char *v)
{
	static const char *const yes[] = { "yes", "y", "1", "true", "on" };
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		size_t k = 0;
		while (yes[i][k] && v[k] && (v[k] | 0x20) == yes[i][k])
			k++;
		if (!yes[i][k] && !v[k])
			return 1;
	}
	return 0;
}

static int wifi_init(struct tf_ctx *ctx, void **state)
{
	struct wifi *w = calloc(1, sizeof *w);
	if (!w) {
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	const char *fcs = host->get_param(ctx, "check_fcs");
	w->check_fcs = fcs ? is_yes(fcs) : 1;
	const char *v = host->get_param(ctx, "wifi_max_devices");
	char *end = NULL;
	unsigned long long m = v ? strtoull(v, &end, 10) : 0;
	if (!v || !*v || *end || m < 1 || m > 100000000ULL) {
		tf_logf(host, ctx, TF_LOG_ERROR, "wifi_max_devices: '%s' is not a number from 1 "
			"to 100000000", v ? v : "");
		free(w);
		return -EINVAL;
	}
	w->max_devices = (size_t)m;
	crc_init();
	if (TF_HAS(host, struct tf_host, files_later))
		host->files_later(ctx);   /* reads no file of this run */
	*state = w;
	return 0;
}

static void wifi_shutdown(struct tf_ctx *ctx, void *state)
{
	struct wifi *w = state;
	if (!w)
		return;
	finish_tables(w);
	write_report(w, ctx);
	if (w->wifi_packets)
		write_text(w, ctx);
	free(w->nets);
	free(w->stas);
	free(w->netidx.slot);
	free(w->staidx.slot);
	free(w);
}

static const struct tf_scanner wifi_scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "wifi-stats",
	.version = "1.0",
	.description = "802.11 networks (BSSID, SSID, channel, encryption), stations, frame "
		       "counts and signal: <wifi> in the report and wifi-stats.txt",
	.params = wifi_params,
	.init = wifi_init,
	.shutdown = wifi_shutdown,
	.on_packet = wifi_packet,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (!h || h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &wifi_scanner;
}
