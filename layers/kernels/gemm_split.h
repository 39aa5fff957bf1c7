/* How the matrix engine (gemm.c) cuts a product into chunks for the
 * fork-join's threads: along the longer of its tile counts (MR-row tiles or
 * NR-column panels), `units` of them, in chunks of the returned count.
 *
 * A chunk of rows needs all of op(B) packed for its own use, a chunk of
 * columns all of op(A), unless that operand is packed in advance or read in
 * place ("shared"). When it is not shared, every chunk more packs it once
 * more: LeNet's ip1 forward (500 rows of W read in place against x^T, 800 x 64,
 * packed by a transposing gather) in 9 chunks on 2 threads spent 1.8x the
 * CPU time of one thread (0.58 against 0.32 ms). Then one chunk a thread.
 * When it is shared, chunks cost nothing but the fork-join's hand-out: about
 * 4 a thread, so that a thread that gets its core late takes fewer of them.
 * The chunking never changes a result: every element of C sums its terms in
 * the same order on any cut (gemm.h). */
#ifndef CLIFF_GEMM_SPLIT_H
#define CLIFF_GEMM_SPLIT_H

/* Units per chunk (>= 1) for `units` units on `threads` threads (>= 1). */
static inline int cliff_gemm_split_per(int units, int threads, int shared)
{
    if (!shared) return (units + threads - 1) / threads;
    const int per = units / (4 * threads);
    return per < 1 ? 1 : per;
}

#endif
