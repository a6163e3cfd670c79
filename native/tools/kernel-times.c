/*
 * kernel-times: per-kernel GPU time of a whole process, for machines without Nsight Systems.
 *
 * A CUDA injection library (CUDA_INJECTION64_PATH=libkernel-times.so): the driver loads it at
 * cuInit and calls InitializeInjection, which turns on CUPTI's activity records of kernels (those
 * replayed from CUDA graphs included), memory copies and memsets. At exit it writes one CSV line
 * per kernel name (mangled, as the binary holds it) to $KERNEL_TIMES_OUT (default stderr):
 *
 *   kind,name,count,total_ns,min_ns,max_ns
 *
 * kind is kernel, memcpy-<direction> or memset. The times are the device's own start and end
 * stamps of each launch, so they carry no host-side overhead. With $KERNEL_TIMES_TRACE set, every
 * record also goes there as it arrives, in the device's order of completion per buffer:
 *
 *   kind,name,start_ns,end_ns,graph_id
 *
 * graph_id is the CUDA graph a kernel was replayed from (0: launched on its own, uncaptured), so a
 * trace shows which steps ran captured and lets one step's kernels be set against another's. Two runs of the same program that
 * differ in one method give that method's kernels as their difference (cuda-device.sh's profile
 * step). Build: gcc -shared -fPIC -O2 -I<cupti include> kernel-times.c -L<cupti lib> -lcupti.
 */
#include <cupti.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#define BUFFER_BYTES (8u << 20)
#define TABLE_SIZE 4096 /* distinct names; a decode launches a few hundred */

struct entry {
    char *name; /* owned copy; NULL: free slot */
    const char *kind;
    uint64_t count, total, min, max;
};

static struct entry table[TABLE_SIZE];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t dropped; /* records CUPTI could not keep (buffers full) */
static int overflow;     /* names that found no slot */
static int reported;
static int initialized; /* InitializeInjection succeeded: there is something to report */
static FILE *trace;     /* $KERNEL_TIMES_TRACE: every record, or NULL */

static uint64_t hash(const char *kind, const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (const char *p = kind; *p; p++) h = (h ^ (unsigned char) *p) * 1099511628211ull;
    for (const char *p = s; *p; p++) h = (h ^ (unsigned char) *p) * 1099511628211ull;
    return h;
}

static void add(const char *kind, const char *name, uint64_t start, uint64_t end, uint32_t graph) {
    if (name == NULL) name = "?";
    if (trace != NULL) {
        fprintf(trace, "%s,%s,%llu,%llu,%u\n", kind, name, (unsigned long long) start, (unsigned long long) end, graph);
    }
    uint64_t d = end > start ? end - start : 0;
    uint64_t i = hash(kind, name) % TABLE_SIZE;
    for (int probe = 0; probe < TABLE_SIZE; probe++, i = (i + 1) % TABLE_SIZE) {
        struct entry *e = &table[i];
        if (e->name == NULL) {
            e->name = strdup(name);
            e->kind = kind;
            e->count = 1;
            e->total = e->min = e->max = d;
            return;
        }
        if (e->kind == kind && strcmp(e->name, name) == 0) {
            e->count++;
            e->total += d;
            if (d < e->min) e->min = d;
            if (d > e->max) e->max = d;
            return;
        }
    }
    overflow++;
}

static const char *copy_kind(uint8_t k) {
    switch (k) {
        case CUPTI_ACTIVITY_MEMCPY_KIND_HTOD: return "memcpy-htod";
        case CUPTI_ACTIVITY_MEMCPY_KIND_DTOH: return "memcpy-dtoh";
        case CUPTI_ACTIVITY_MEMCPY_KIND_DTOD: return "memcpy-dtod";
        case CUPTI_ACTIVITY_MEMCPY_KIND_HTOH: return "memcpy-htoh";
        case CUPTI_ACTIVITY_MEMCPY_KIND_PTOP: return "memcpy-ptop";
        default: return "memcpy-other";
    }
}

static void CUPTIAPI buffer_requested(uint8_t **buffer, size_t *size, size_t *max_records) {
    *buffer = aligned_alloc(ACTIVITY_RECORD_ALIGNMENT, BUFFER_BYTES);
    *size = *buffer == NULL ? 0 : BUFFER_BYTES;
    *max_records = 0;
}

static void CUPTIAPI buffer_completed(CUcontext context, uint32_t stream, uint8_t *buffer, size_t size, size_t valid) {
    (void) context; (void) stream; (void) size;
    CUpti_Activity *record = NULL;
    pthread_mutex_lock(&lock);
    while (cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
        switch (record->kind) {
            case CUPTI_ACTIVITY_KIND_KERNEL:
            case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
                CUpti_ActivityKernel10 *k = (CUpti_ActivityKernel10 *) record;
                add("kernel", k->name, k->start, k->end, k->graphId);
                break;
            }
            case CUPTI_ACTIVITY_KIND_MEMCPY: {
                CUpti_ActivityMemcpy6 *m = (CUpti_ActivityMemcpy6 *) record;
                add(copy_kind(m->copyKind), "-", m->start, m->end, m->graphId);
                break;
            }
            case CUPTI_ACTIVITY_KIND_MEMSET: {
                CUpti_ActivityMemset4 *m = (CUpti_ActivityMemset4 *) record;
                add("memset", "-", m->start, m->end, m->graphId);
                break;
            }
            default:
                break;
        }
    }
    size_t lost = 0;
    if (cuptiActivityGetNumDroppedRecords(context, stream, &lost) == CUPTI_SUCCESS) dropped += lost;
    pthread_mutex_unlock(&lock);
    free(buffer);
}

static void report(void) {
    if (reported || !initialized) return;
    reported = 1;
    cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    const char *path = getenv("KERNEL_TIMES_OUT");
    FILE *out = path != NULL && *path ? fopen(path, "w") : stderr;
    if (out == NULL) out = stderr;
    pthread_mutex_lock(&lock);
    fprintf(out, "kind,name,count,total_ns,min_ns,max_ns\n");
    for (int i = 0; i < TABLE_SIZE; i++) {
        struct entry *e = &table[i];
        if (e->name != NULL) {
            /* names are C identifiers or mangled C++ (no commas, no quotes) */
            fprintf(out, "%s,%s,%llu,%llu,%llu,%llu\n", e->kind, e->name, (unsigned long long) e->count,
                    (unsigned long long) e->total, (unsigned long long) e->min, (unsigned long long) e->max);
        }
    }
    if (dropped || overflow) fprintf(out, "lost,records dropped %llu; names without a slot %d,0,0,0,0\n",
                                     (unsigned long long) dropped, overflow);
    if (trace != NULL) {
        if (dropped || overflow) fprintf(trace, "lost,records dropped %llu; names without a slot %d,0,0,0\n",
                                         (unsigned long long) dropped, overflow);
        fclose(trace);
        trace = NULL;
    }
    pthread_mutex_unlock(&lock);
    if (out != stderr) fclose(out);
}

static int check(CUptiResult r, const char *what) {
    if (r == CUPTI_SUCCESS) return 1;
    const char *message = NULL;
    cuptiGetResultString(r, &message);
    fprintf(stderr, "kernel-times: %s failed: %s\n", what, message ? message : "?");
    return 0;
}

/* Called by the CUDA driver at cuInit when this library is CUDA_INJECTION64_PATH. */
int InitializeInjection(void) {
    if (!check(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed), "cuptiActivityRegisterCallbacks")
        || !check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "enabling kernel records")) {
        return 0;
    }
    check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY), "enabling memcpy records");
    check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET), "enabling memset records");
    const char *trace_path = getenv("KERNEL_TIMES_TRACE");
    if (trace_path != NULL && *trace_path) {
        trace = fopen(trace_path, "w");
        if (trace == NULL) {
            fprintf(stderr, "kernel-times: cannot write the trace %s\n", trace_path);
        } else {
            fprintf(trace, "kind,name,start_ns,end_ns,graph_id\n");
        }
    }
    initialized = 1;
    atexit(report);
    return 1;
}

/* A library unloaded before exit still reports (_exit runs neither this nor the atexit handler). */
__attribute__((destructor)) static void report_at_unload(void) {
    report();
}
