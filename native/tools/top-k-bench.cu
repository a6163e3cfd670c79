// Times the block-a-row radix top_k of native/patches/ggml-cuda-radix-top-k.diff on its own, the kernel as the
// patched source has it (top-k-bench.sh cuts it out into top-k-row-block.cuh): Quest's page choice at 131K on
// Llama-3.1-8B shapes by default (8 KV heads' rows of 8,192 page scores, each the maximum over 4 query heads' rows,
// the page mask added, 255 kept). Every variant (a block a row, or a cluster of 8 or 16 blocks a row where the GPU has
// clusters; early exit on and off; 256, 512 and 1,024 threads a block) is checked against a sort on the host (the same
// set of columns) and against the block-a-row output (the same places), and timed by CUDA events over back-to-back
// launches; the 1,024-thread forms also write behind a column of prefix, as a concat fused into the top_k does.
// With group 1 (a plain top_k, as a Recycled refresh selects: no pool, no mask) the select over many blocks a row that
// ggml-cuda runs for rows past the block-a-row limit is timed too (cluster 0 in the CSV), and checked the same way: its
// output is laid out as the block-a-row select's without early exit (it takes every pass).
// Usage: top-k-bench [ncols nrows group k reps]; prints CSV on stdout.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cassert>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define WARP_SIZE 32
#define GGML_CUDA_CC_VOLTA 700
#define GGML_CUDA_CC_HOPPER 900
#define GGML_ASSERT(x) assert(x)
#define GGML_UNUSED_VARS(...) ((void) 0)
#define NO_DEVICE_CODE

#define CHECK(call)                                                                              \
    do {                                                                                         \
        cudaError_t err_ = (call);                                                               \
        if (err_ != cudaSuccess) {                                                               \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(err_));         \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)
#define CUDA_CHECK(call) CHECK(call)
#define GGML_CUDA_MAX_DEVICES 16
static int ggml_cuda_get_device() {
    int id = 0;
    CHECK(cudaGetDevice(&id));
    return id;
}

// ggml-cuda's memory pool as the many-block select uses it: scoped allocations, freed in reverse order, from one buffer
// allocated once (a cudaMalloc at every launch would time the allocator, not the select)
struct ggml_cuda_pool {
    char * base = nullptr;
    size_t size = 0;
    size_t used = 0;
};

template <typename T> struct ggml_cuda_pool_alloc {
    ggml_cuda_pool & pool;
    T *              ptr;
    size_t           bytes;

    ggml_cuda_pool_alloc(ggml_cuda_pool & pool, size_t n) : pool(pool), bytes((n * sizeof(T) + 255) / 256 * 256) {
        assert(pool.used + bytes <= pool.size);
        ptr = (T *) (pool.base + pool.used);
        pool.used += bytes;
    }

    ~ggml_cuda_pool_alloc() { pool.used -= bytes; }

    T * get() { return ptr; }
};

#include "top-k-row-block.cuh"

// the columns a row keeps: its pooled, masked values' k largest, ties at the cut by lowest column
static std::vector<int> expected_columns(const std::vector<float> & src, const std::vector<float> & mask, int row,
                                         int ncols, int group, int k) {
    std::vector<float> v(ncols);
    for (int c = 0; c < ncols; ++c) {
        float m = -FLT_MAX;
        for (int g = 0; g < group; ++g) {
            m = std::max(m, src[((size_t) row * group + g) * ncols + c]);
        }
        v[c] = m + mask[c];
    }
    std::vector<int> idx(ncols);
    for (int c = 0; c < ncols; ++c) {
        idx[c] = c;
    }
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return v[a] > v[b]; });
    idx.resize(k);
    std::sort(idx.begin(), idx.end());
    return idx;
}

int main(int argc, char ** argv) {
    const int ncols = argc > 1 ? atoi(argv[1]) : 8192;
    const int nrows = argc > 2 ? atoi(argv[2]) : 8;
    const int group = argc > 3 ? atoi(argv[3]) : 4;
    const int k     = argc > 4 ? atoi(argv[4]) : 255;
    const int reps  = argc > 5 ? atoi(argv[5]) : 2000;
    const int most_cols = 16 * 512 * 16; // a cluster of 16 blocks of 512 threads, 16 columns a thread
    if (ncols <= 0 || ncols > most_cols || nrows <= 0 || group <= 0 || k <= 0 || k > ncols || reps <= 0) {
        fprintf(stderr, "top-k-bench: need 0 < k <= ncols <= %d, rows, group and reps > 0\n", most_cols);
        return 2;
    }
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    // same_set: the columns a host sort keeps; same_order: the very output (places included) of the first variant with
    // the same early exit (a block a row of 1,024 threads where it holds the row); prefix_layout (1,024 threads, early
    // exit, else -): the output with a column of the prefix before each row (a concat run inside the top_k) is that
    // column, then the same output
    printf("device,distribution,ncols,nrows,group,k,cluster,threads,early_exit,us_per_launch,same_set,same_order,prefix_layout\n");

    const char * distributions[] = { "normal", "uniform", "few_values" };
    for (const char * distribution : distributions) {
        std::mt19937 rng(42);
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
        std::uniform_int_distribution<int> few(0, 40);
        std::vector<float> src((size_t) nrows * group * ncols);
        for (float & x : src) {
            x = distribution[0] == 'n' ? normal(rng) : distribution[0] == 'u' ? uniform(rng) : (float) few(rng);
        }
        // Quest's mask: 0 before the current page, -inf from it on (at 131,000 tokens the current page is 8,187 of 8,192);
        // none (zeros: x + 0 is x) for a plain top_k, which the many-block select times beside the others
        const bool plain = group == 1;
        std::vector<float> mask(ncols, 0.0f);
        for (int c = std::max(0, ncols - 5); c < ncols && !plain; ++c) {
            mask[c] = -INFINITY;
        }
        std::vector<std::vector<int>> expected(nrows);
        for (int r = 0; r < nrows; ++r) {
            expected[r] = expected_columns(src, mask, r, ncols, group, k);
        }

        float * d_src;
        float * d_mask;
        int *   d_dst;
        int *   d_prefixed; // [k + 1, nrows]: the prefix column, then the k columns
        int *   d_prefix;   // [1, nrows]
        CHECK(cudaMalloc(&d_src, src.size() * sizeof(float)));
        CHECK(cudaMalloc(&d_prefixed, (size_t) nrows * (k + 1) * sizeof(int)));
        CHECK(cudaMalloc(&d_prefix, (size_t) nrows * sizeof(int)));
        std::vector<int> prefix(nrows);
        for (int r = 0; r < nrows; ++r) {
            prefix[r] = 1000000 + r;
        }
        CHECK(cudaMemcpy(d_prefix, prefix.data(), prefix.size() * sizeof(int), cudaMemcpyHostToDevice));
        std::vector<int> reference[2]; // the first output of each early exit setting
        CHECK(cudaMalloc(&d_mask, mask.size() * sizeof(float)));
        CHECK(cudaMalloc(&d_dst, (size_t) nrows * k * sizeof(int)));
        CHECK(cudaMemcpy(d_src, src.data(), src.size() * sizeof(float), cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(d_mask, mask.data(), mask.size() * sizeof(float), cudaMemcpyHostToDevice));
        cudaStream_t stream;
        CHECK(cudaStreamCreate(&stream));
        cudaEvent_t start, stop;
        CHECK(cudaEventCreate(&start));
        CHECK(cudaEventCreate(&stop));

        ggml_cuda_pool pool;
        pool.size = (size_t) nrows * (64 * 256 * sizeof(int) + 64 * sizeof(int2) + 64) + (1 << 20);
        CHECK(cudaMalloc((void **) &pool.base, pool.size));

        // cluster 1: a block a row; 8 and 16 (16 blocks of 1,024 threads are too many): a cluster a row, Hopper on;
        // cluster 0 (after the others, whose outputs it is held to): the many-block select, 256 threads a block, every pass
        const bool clusters = prop.major >= 9;
        for (int cluster : { 1, 8, 16, 0 })
        for (int threads : { 1024, 512, 256 }) {
            if (cluster == 0) {
                if (!plain || threads != 256) {
                    continue;
                }
            } else if ((cluster == 1 && (ncols > TOP_K_ROW_BLOCK_MAX_COLS || (threads < 1024 && ncols > threads * 32))) ||
                (cluster > 1 && !clusters) ||
                (cluster == 16 && threads == 1024) || ncols > cluster * threads * 16) {
                continue;
            }
            for (bool early_exit : { false, true })
            for (bool prefixed : { false, true }) {
                if ((prefixed && (threads != 1024 || !early_exit)) || (cluster == 0 && (prefixed || early_exit))) {
                    continue;
                }
                const top_k_row_out out = prefixed ? top_k_row_out{ d_prefixed, k + 1, d_prefix, 1 } : top_k_row_out{ d_dst, k, nullptr, 0 };
                const auto launch = [&]() -> bool {
                    switch (cluster * 10000 + threads) {
                        case 256:     top_k_radix_cuda(pool, d_src, d_dst, ncols, nrows, k, stream); return true;
                        case 10256:   top_k_radix_row_block_launch<256>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream); return true;
                        case 10512:   top_k_radix_row_block_launch<512>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream); return true;
                        case 11024:   top_k_radix_row_block_launch<1024>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream); return true;
                        case 80256:   return top_k_radix_row_cluster_launch<8, 256>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream);
                        case 80512:   return top_k_radix_row_cluster_launch<8, 512>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream);
                        case 81024:   return top_k_radix_row_cluster_launch<8, 1024>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream);
                        case 160256:  return top_k_radix_row_cluster_launch<16, 256>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream);
                        case 160512:  return top_k_radix_row_cluster_launch<16, 512>(d_src, group, d_mask, out, ncols, nrows, k, early_exit, stream);
                        default:      return false;
                    }
                };
                if (prefixed) {
                    CHECK(cudaMemsetAsync(d_prefixed, 0xff, (size_t) nrows * (k + 1) * sizeof(int), stream));
                } else {
                    CHECK(cudaMemsetAsync(d_dst, 0xff, (size_t) nrows * k * sizeof(int), stream));
                }
                if (!launch()) {
                    printf("%s,%s,%d,%d,%d,%d,%d,%d,%d,,does not fit,,\n", prop.name, distribution, ncols, nrows, group, k,
                           cluster, threads, early_exit ? 1 : 0);
                    continue;
                }
                CHECK(cudaGetLastError());
                CHECK(cudaStreamSynchronize(stream));
                if (prefixed) {
                    // the row-block or cluster output of this variant without the prefix was the last one written to d_dst
                    std::vector<int> plain((size_t) nrows * k), with((size_t) nrows * (k + 1));
                    CHECK(cudaMemcpy(plain.data(), d_dst, plain.size() * sizeof(int), cudaMemcpyDeviceToHost));
                    CHECK(cudaMemcpy(with.data(), d_prefixed, with.size() * sizeof(int), cudaMemcpyDeviceToHost));
                    bool layout = true;
                    for (int r = 0; r < nrows; ++r) {
                        layout = layout && with[(size_t) r * (k + 1)] == prefix[r] &&
                                 std::equal(plain.begin() + (size_t) r * k, plain.begin() + (size_t) (r + 1) * k,
                                            with.begin() + (size_t) r * (k + 1) + 1);
                    }
                    printf("%s,%s,%d,%d,%d,%d,%d,%d,%d,,,,%s\n", prop.name, distribution, ncols, nrows, group, k, cluster,
                           threads, early_exit ? 1 : 0, layout ? "yes" : "NO");
                    continue;
                }
                std::vector<int> got((size_t) nrows * k);
                CHECK(cudaMemcpy(got.data(), d_dst, got.size() * sizeof(int), cudaMemcpyDeviceToHost));
                std::vector<int> & ref = reference[early_exit ? 1 : 0];
                if (ref.empty()) {
                    ref = got;
                }
                const bool same_order = got == ref;
                bool same = true;
                for (int r = 0; r < nrows; ++r) {
                    std::vector<int> row(got.begin() + (size_t) r * k, got.begin() + (size_t) (r + 1) * k);
                    std::sort(row.begin(), row.end());
                    same = same && row == expected[r];
                }
                for (int i = 0; i < 20; ++i) {
                    launch();
                }
                CHECK(cudaEventRecord(start, stream));
                for (int i = 0; i < reps; ++i) {
                    launch();
                }
                CHECK(cudaEventRecord(stop, stream));
                CHECK(cudaGetLastError());
                CHECK(cudaEventSynchronize(stop));
                float ms = 0.0f;
                CHECK(cudaEventElapsedTime(&ms, start, stop));
                printf("%s,%s,%d,%d,%d,%d,%d,%d,%d,%.3f,%s,%s,-\n", prop.name, distribution, ncols, nrows, group, k, cluster,
                       threads, early_exit ? 1 : 0, 1000.0 * ms / reps, same ? "yes" : "NO", same_order ? "yes" : "NO");
            }
        }
        CHECK(cudaFree(pool.base));
        CHECK(cudaFree(d_src));
        CHECK(cudaFree(d_mask));
        CHECK(cudaFree(d_dst));
        CHECK(cudaFree(d_prefixed));
        CHECK(cudaFree(d_prefix));
        CHECK(cudaStreamDestroy(stream));
    }
    return 0;
}
