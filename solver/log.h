/* The solver's log lines, one table row per log_format:
 *   human  "Iteration 100/10000: loss = 0.3124 (smoothed 0.331), lr = 0.01,
 *           grad norm = 1.78341, clip scale = 0.5607, last 100: 98 clipped,
 *           0 skipped, 45.2 it/s, ETA 3m39s"
 *          (Caffe's "Test net output #0: accuracy = 0.8932" for outputs)
 *   kv     "event=iter iter=100 max_iter=10000 loss=0.3124 ..." (stable keys)
 *   json   one JSON object per line, non-finite numbers as null
 * Numbers use %.6g (at least 4 significant digits). Every line ends in '\n'
 * and the stream is flushed so that a killed run leaves its last lines. */
#ifndef CLIFF_LOG_H
#define CLIFF_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "proto/names.h"

/* What one display line reports. */
typedef struct CliffIterRecord {
    int iter, max_iter;     /* the iteration just applied (0-based, as Caffe prints it) */
    double loss;            /* iter_size-averaged loss of this iteration */
    double smoothed_loss;   /* mean over the last average_loss iterations */
    double lr;              /* base rate from the lr policy */
    double grad_norm;       /* global L2 norm before clipping */
    double clip_scale;      /* factor applied; 1 when not clipped */
    int clipped, skipped;   /* this iteration */
    int window;             /* iterations covered since the previous display line */
    int window_clipped, window_skipped;
    double it_per_s, eta_s; /* eta_s < 0: unknown */
} CliffIterRecord;

typedef struct CliffLogFormat {
    const char *name;
    void (*iteration)(FILE *f, const CliffIterRecord *r);
    /* A net output averaged over a test (phase "Test") or of the current
     * train iteration (phase "Train"); loss_weight != 0 marks a loss. */
    void (*output)(FILE *f, const char *phase, int net_id, int iter, int index, const char *name,
                   double value, double loss_weight);
    /* Anything else: kind is a stable one-word tag (start, test, skip, stop,
     * snapshot, restore, weights, error, info, clip), text a human sentence. */
    void (*event)(FILE *f, int iter, const char *kind, const char *text);
} CliffLogFormat;

/* The formats by name (proto/names.h). find: NULL name means "human"; NULL
 * when unknown. */
extern const CliffNameTable cliff_log_format_table;
const CliffLogFormat *cliff_log_format_find(const char *name);

/* s as a JSON string literal, quotes included (the json format's escaping). */
void cliff_json_string(FILE *f, const char *s);

/* printf-style helper over format->event. */
void cliff_log_event(const CliffLogFormat *fmt, FILE *f, int iter, const char *kind,
                     const char *text_fmt, ...) __attribute__((format(printf, 5, 6)));

/* "3m39s", "1h02m", "12s" into buf. */
const char *cliff_format_duration(double seconds, char *buf, size_t len);

#endif
