/* The log format table (see log.h). */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"

const char *cliff_format_duration(double s, char *buf, size_t len)
{
    if (!(s >= 0) || !isfinite(s)) {
        snprintf(buf, len, "?");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
    return buf;
}

/* ---- human ---- */

static void human_iteration(FILE *f, const CliffIterRecord *r)
{
    char scale[64], eta[32];
    if (r->skipped)
        snprintf(scale, sizeof scale, "skipped (non-finite)");
    else if (r->clipped)
        snprintf(scale, sizeof scale, "clip scale = %.6g", r->clip_scale);
    else
        snprintf(scale, sizeof scale, "not clipped");
    fprintf(f,
            "Iteration %d/%d: loss = %.6g (smoothed %.6g), lr = %.6g, grad norm = %.6g, %s, "
            "last %d: %d clipped, %d skipped, %.4g it/s, ETA %s\n",
            r->iter, r->max_iter, r->loss, r->smoothed_loss, r->lr, r->grad_norm, scale,
            r->window, r->window_clipped, r->window_skipped, r->it_per_s,
            cliff_format_duration(r->eta_s, eta, sizeof eta));
    fflush(f);
}

static void human_output(FILE *f, const char *phase, int net_id, int iter, int index,
                         const char *name, double value, double loss_weight)
{
    (void)net_id, (void)iter;
    if (loss_weight != 0.0)
        fprintf(f, "    %s net output #%d: %s = %.6g (* %g = %.6g loss)\n", phase, index, name,
                value, loss_weight, loss_weight * value);
    else
        fprintf(f, "    %s net output #%d: %s = %.6g\n", phase, index, name, value);
    fflush(f);
}

static void human_event(FILE *f, int iter, const char *kind, const char *text)
{
    (void)kind;
    if (iter >= 0)
        fprintf(f, "Iteration %d: %s\n", iter, text);
    else
        fprintf(f, "%s\n", text);
    fflush(f);
}

/* ---- kv ---- */

static void kv_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*s, f);
    }
    fputc('"', f);
}

static void kv_iteration(FILE *f, const CliffIterRecord *r)
{
    fprintf(f,
            "event=iter iter=%d max_iter=%d loss=%.6g smoothed_loss=%.6g lr=%.6g grad_norm=%.6g "
            "clip_scale=%.6g clipped=%d skipped=%d window=%d window_clipped=%d "
            "window_skipped=%d it_per_s=%.4g eta_s=%.0f\n",
            r->iter, r->max_iter, r->loss, r->smoothed_loss, r->lr, r->grad_norm, r->clip_scale,
            r->clipped, r->skipped, r->window, r->window_clipped, r->window_skipped, r->it_per_s,
            r->eta_s);
    fflush(f);
}

static void kv_output(FILE *f, const char *phase, int net_id, int iter, int index,
                      const char *name, double value, double loss_weight)
{
    fprintf(f, "event=%s net=%d iter=%d output=%d name=", strcmp(phase, "Test") ? "train_output"
                                                                                : "test",
            net_id, iter, index);
    kv_string(f, name);
    fprintf(f, " value=%.6g loss_weight=%g\n", value, loss_weight);
    fflush(f);
}

static void kv_event(FILE *f, int iter, const char *kind, const char *text)
{
    fprintf(f, "event=%s iter=%d message=", kind, iter);
    kv_string(f, text);
    fputc('\n', f);
    fflush(f);
}

/* ---- json ---- */

static void json_num(FILE *f, const char *key, double v, int comma)
{
    if (isfinite(v))
        fprintf(f, "\"%s\":%.6g%s", key, v, comma ? "," : "");
    else
        fprintf(f, "\"%s\":null%s", key, comma ? "," : "");
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

void cliff_json_string(FILE *f, const char *s) { json_string(f, s); }

static void json_iteration(FILE *f, const CliffIterRecord *r)
{
    fprintf(f, "{\"event\":\"iter\",\"iter\":%d,\"max_iter\":%d,", r->iter, r->max_iter);
    json_num(f, "loss", r->loss, 1);
    json_num(f, "smoothed_loss", r->smoothed_loss, 1);
    json_num(f, "lr", r->lr, 1);
    json_num(f, "grad_norm", r->grad_norm, 1);
    json_num(f, "clip_scale", r->clip_scale, 1);
    fprintf(f, "\"clipped\":%d,\"skipped\":%d,\"window\":%d,\"window_clipped\":%d,"
               "\"window_skipped\":%d,",
            r->clipped, r->skipped, r->window, r->window_clipped, r->window_skipped);
    json_num(f, "it_per_s", r->it_per_s, 1);
    json_num(f, "eta_s", r->eta_s >= 0 ? r->eta_s : NAN, 0);
    fputs("}\n", f);
    fflush(f);
}

static void json_output(FILE *f, const char *phase, int net_id, int iter, int index,
                        const char *name, double value, double loss_weight)
{
    fprintf(f, "{\"event\":\"%s\",\"net\":%d,\"iter\":%d,\"output\":%d,\"name\":",
            strcmp(phase, "Test") ? "train_output" : "test", net_id, iter, index);
    json_string(f, name);
    fputc(',', f);
    json_num(f, "value", value, 1);
    json_num(f, "loss_weight", loss_weight, 0);
    fputs("}\n", f);
    fflush(f);
}

static void json_event(FILE *f, int iter, const char *kind, const char *text)
{
    fprintf(f, "{\"event\":");
    json_string(f, kind);
    fprintf(f, ",\"iter\":%d,\"message\":", iter);
    json_string(f, text);
    fputs("}\n", f);
    fflush(f);
}

static const CliffLogFormat formats[] = {
    {"human", human_iteration, human_output, human_event},
    {"kv", kv_iteration, kv_output, kv_event},
    {"json", json_iteration, json_output, json_event},
};

const CliffNameTable cliff_log_format_table = CLIFF_NAME_TABLE(formats, CliffLogFormat, name);

const CliffLogFormat *cliff_log_format_find(const char *name)
{
    return cliff_names_find(&cliff_log_format_table, name ? name : "human");
}

void cliff_log_event(const CliffLogFormat *fmt, FILE *f, int iter, const char *kind,
                     const char *text_fmt, ...)
{
    if (!f || !fmt) return;
    char text[1024];
    va_list ap;
    va_start(ap, text_fmt);
    vsnprintf(text, sizeof text, text_fmt, ap);
    va_end(ap);
    fmt->event(f, iter, kind, text);
}
