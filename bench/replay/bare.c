/*
 * bare.c: an independent C implementation of pagelab's bare replay model,
 * the yardstick for `npm run bench -- replay`.
 *
 *   bare [--tlb none|dm:N|fa:N|sa:SETSxWAYS] [--ram BYTES] [--repeat K] TRACE.bin
 *
 * TRACE.bin holds packed little-endian 10-byte records: u64 address, u8 kind
 * ('I', 'L', 'S', 'M'), u8 size. The whole file is decoded into arrays first;
 * only the replay loop is timed. Prints one JSON object with the counters.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define P 0x1u
#define RW 0x2u
#define US 0x4u
#define A 0x20u
#define D 0x40u

/* One TLB entry: the page, its frame, the PTE's flags and the PTE's address. */
struct entry {
	uint32_t vpn;  /* UINT32_MAX when invalid */
	uint32_t frame;
	uint32_t flags;
	uint32_t pte_addr;
	uint64_t stamp; /* last use, for LRU */
};

struct tlb {
	uint32_t sets, ways; /* sets == 0: no TLB */
	struct entry *e;
	struct entry *mru; /* most recently used entry, checked first */
	uint32_t *slot_of; /* page number -> entry index + 1 (0: not cached) */
	uint64_t clock;
};

struct model {
	uint32_t *ram; /* physical memory as dwords */
	uint32_t frames, next_frame;
	uint64_t hits, misses, walks, demand_faults, page_tables, dirty_sets;
	uint32_t hash;
	struct tlb tlb;
};

static void die(const char *msg) {
	fprintf(stderr, "bare: %s\n", msg);
	exit(2);
}

/* take_frame hands out the next (zeroed) frame. */
static uint32_t take_frame(struct model *m) {
	if (m->next_frame >= m->frames) die("out of physical memory");
	return m->next_frame++;
}

/* walk translates page vpn, mapping on demand, sets A (and D for a write);
 * returns the PTE's physical address. */
static uint32_t walk(struct model *m, uint32_t vpn, int write) {
	uint32_t pde_addr = 0x1000 + (vpn >> 10) * 4;
	uint32_t pde = m->ram[pde_addr >> 2];
	if (!(pde & P)) {
		pde = take_frame(m) << 12 | P | RW | US;
		m->page_tables++;
	}
	m->ram[pde_addr >> 2] = pde | A;
	uint32_t pte_addr = (pde & 0xfffff000u) + (vpn & 0x3ff) * 4;
	uint32_t pte = m->ram[pte_addr >> 2];
	if (!(pte & P)) {
		pte = take_frame(m) << 12 | P | RW | US;
		m->demand_faults++;
	}
	pte |= A | (write ? D : 0);
	m->ram[pte_addr >> 2] = pte;
	m->walks++;
	return pte_addr;
}

/* lookup finds vpn in the TLB (NULL on a miss) through the page-number
 * index (a 64-way set is too long to scan); a hit becomes most recently used. */
static inline struct entry *lookup(struct tlb *t, uint32_t vpn) {
	if (t->mru->vpn == vpn) return t->mru;
	uint32_t s = t->slot_of[vpn];
	if (s == 0) return NULL;
	struct entry *e = &t->e[s - 1];
	e->stamp = ++t->clock;
	t->mru = e;
	return e;
}

/* fill caches a translation in an invalid or the least recently used way of its set. */
static struct entry *fill(struct tlb *t, uint32_t vpn) {
	struct entry *set = t->e + (size_t)(vpn & (t->sets - 1)) * t->ways;
	struct entry *victim = &set[0];
	for (uint32_t w = 0; w < t->ways; w++) {
		if (set[w].vpn == UINT32_MAX) { victim = &set[w]; break; }
		if (set[w].stamp < victim->stamp) victim = &set[w];
	}
	if (victim->vpn != UINT32_MAX) t->slot_of[victim->vpn] = 0;
	t->slot_of[vpn] = (uint32_t)(victim - t->e) + 1;
	victim->vpn = vpn;
	victim->stamp = ++t->clock;
	t->mru = victim;
	return victim;
}

/* translate returns the physical address of one access. */
static inline uint32_t translate(struct model *m, uint32_t lin, int write) {
	uint32_t vpn = lin >> 12;
	struct tlb *t = &m->tlb;
	if (t->sets == 0) {
		m->misses++;
		uint32_t pte_addr = walk(m, vpn, write);
		return (m->ram[pte_addr >> 2] & 0xfffff000u) | (lin & 0xfff);
	}
	struct entry *e = lookup(t, vpn);
	if (e) {
		m->hits++;
		if (write && !(e->flags & D)) {
			e->flags |= D;
			m->ram[e->pte_addr >> 2] |= D;
			m->dirty_sets++;
		}
		return e->frame << 12 | (lin & 0xfff);
	}
	m->misses++;
	uint32_t pte_addr = walk(m, vpn, write);
	uint32_t pte = m->ram[pte_addr >> 2];
	e = fill(t, vpn);
	e->frame = pte >> 12;
	e->flags = pte & 0xfff;
	e->pte_addr = pte_addr;
	return e->frame << 12 | (lin & 0xfff);
}

static void model_init(struct model *m, uint32_t sets, uint32_t ways, uint64_t ram) {
	memset(m, 0, sizeof *m);
	m->ram = calloc(ram / 4, 4);
	if (!m->ram) die("cannot allocate RAM");
	m->frames = (uint32_t)(ram / 4096);
	m->next_frame = 2; /* frame 1 is the page directory */
	m->hash = 2166136261u;
	m->tlb.sets = sets;
	m->tlb.ways = ways;
	size_t n = sets ? (size_t)sets * ways : 1;
	m->tlb.e = calloc(n, sizeof(struct entry));
	for (size_t i = 0; i < n; i++) m->tlb.e[i].vpn = UINT32_MAX;
	m->tlb.mru = m->tlb.e;
	m->tlb.slot_of = calloc(1u << 20, sizeof(uint32_t));
	if (!m->tlb.slot_of) die("cannot allocate the TLB index");
}

static void model_free(struct model *m) {
	free(m->ram);
	free(m->tlb.e);
	free(m->tlb.slot_of);
}

/* run replays n records: the timed loop. */
static void run(struct model *m, const uint32_t *addr, const uint8_t *write, size_t n) {
	uint32_t h = m->hash;
	for (size_t i = 0; i < n; i++) {
		uint32_t p = translate(m, addr[i], write[i]);
		h = (h ^ p) * 16777619u;
	}
	m->hash = h;
}

/* dirty_pages counts present PTEs with D set in every page table. */
static uint64_t dirty_pages(const struct model *m) {
	uint64_t n = 0;
	for (uint32_t i = 0; i < 1024; i++) {
		uint32_t pde = m->ram[(0x1000 >> 2) + i];
		if (!(pde & P)) continue;
		for (uint32_t j = 0; j < 1024; j++) {
			uint32_t pte = m->ram[((pde & 0xfffff000u) >> 2) + j];
			if ((pte & P) && (pte & D)) n++;
		}
	}
	return n;
}

static void parse_tlb(const char *s, uint32_t *sets, uint32_t *ways) {
	unsigned a, b;
	if (strcmp(s, "none") == 0) { *sets = 0; *ways = 0; }
	else if (sscanf(s, "dm:%u", &a) == 1) { *sets = a; *ways = 1; }
	else if (sscanf(s, "fa:%u", &a) == 1) { *sets = 1; *ways = a; }
	else if (sscanf(s, "sa:%ux%u", &a, &b) == 2) { *sets = a; *ways = b; }
	else die("bad --tlb");
	if (*sets & (*sets - 1)) die("the number of sets must be a power of two");
}

/* load reads a binary trace into addr[] (low 32 bits) and write[] (S or M). */
static size_t load(const char *path, uint32_t **addr, uint8_t **write) {
	FILE *f = fopen(path, "rb");
	if (!f) die("cannot open the trace");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (len % 10) die("trace length is not a multiple of 10");
	size_t n = (size_t)len / 10;
	uint8_t *raw = malloc(len ? (size_t)len : 1);
	if (!raw || fread(raw, 1, (size_t)len, f) != (size_t)len) die("cannot read the trace");
	fclose(f);
	*addr = malloc(n * 4 + 4);
	*write = malloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = raw + i * 10;
		(*addr)[i] = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
		(*write)[i] = r[8] == 'S' || r[8] == 'M';
	}
	free(raw);
	return n;
}

static double clock_s(clockid_t id) {
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	const char *tlb = "fa:64", *path = NULL;
	uint64_t ram = 256u << 20;
	int repeat = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tlb") == 0 && i + 1 < argc) tlb = argv[++i];
		else if (strcmp(argv[i], "--ram") == 0 && i + 1 < argc) ram = strtoull(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
		else path = argv[i];
	}
	if (!path) die("usage: bare [--tlb SPEC] [--ram BYTES] [--repeat K] TRACE.bin");
	uint32_t sets, ways;
	parse_tlb(tlb, &sets, &ways);
	uint32_t *addr;
	uint8_t *write;
	size_t n = load(path, &addr, &write);
	double best = 1e30, best_cpu = 1e30;
	struct model m;
	for (int r = 0; r < (repeat < 1 ? 1 : repeat); r++) {
		if (r > 0) model_free(&m);
		model_init(&m, sets, ways, ram);
		double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		run(&m, addr, write, n);
		double s = clock_s(CLOCK_MONOTONIC) - t0, c = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		if (s < best) best = s;
		if (c < best_cpu) best_cpu = c;
	}
	printf("{\"records\":%zu,\"hits\":%llu,\"misses\":%llu,\"walks\":%llu,\"demand_faults\":%llu,"
	       "\"page_tables\":%llu,\"frames_used\":%u,\"dirty_pages\":%llu,\"dirty_sets\":%llu,"
	       "\"phys_hash\":\"%08x\",\"tlb\":\"%s\",\"seconds\":%.6f,\"maccesses_per_s\":%.3f,\"cpu_seconds\":%.6f}\n",
	       n, (unsigned long long)m.hits, (unsigned long long)m.misses, (unsigned long long)m.walks,
	       (unsigned long long)m.demand_faults, (unsigned long long)m.page_tables, m.next_frame - 1,
	       (unsigned long long)dirty_pages(&m), (unsigned long long)m.dirty_sets, m.hash, tlb, best,
	       best > 0 ? n / best / 1e6 : 0.0, best_cpu);
	model_free(&m);
	return 0;
}
