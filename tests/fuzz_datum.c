/* libFuzzer target for Caffe's Datum records as the Data layer reads them
 * (layers/data/datum.c, transform.c): the input's first 4 bytes choose the
 * transform (crop_size 0-7, mirror, phase, force_color / force_gray, scale,
 * one or three mean_value entries), the rest is the record's value. The value
 * is parsed (encoded images decoded, bounded to 2^18 pixels); a failure must
 * leave a one-line message. A parsed record must have a sane shape; the
 * transform's check either refuses it (one line, marked a data error) or it
 * is transformed twice, as two items of a batch, into an exactly sized buffer
 * (ASan sees any write past it). Anything else traps; ASan, UBSan and the
 * leak checker see the rest. Seeds: tests/fuzz_seeds/datum. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "layers/data/datum.h"

static void one_line(const CliffError *err)
{
    if (!err->msg[0] || strchr(err->msg, '\n')) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    const uint8_t o0 = data[0], o1 = data[1], o2 = data[2], o3 = data[3];
    Cliff__TransformationParameter p = CLIFF__TRANSFORMATION_PARAMETER__INIT;
    p.crop_size = o0 & 7;
    p.mirror = (o0 >> 3) & 1;
    p.force_color = (o0 >> 4) & 1;
    p.force_gray = !p.force_color && ((o0 >> 5) & 1);
    p.scale = (float)(o1 + 1) / 128.0f;
    float means[3] = {(float)o2, (float)o3, (float)(o2 ^ o3)};
    p.n_mean_value = (o0 >> 6) & 1 ? 3 : (size_t)(o0 >> 7);
    p.mean_value = means;
    const int phase = (o1 & 1) ? CLIFF__PHASE__TEST : CLIFF__PHASE__TRAIN;
    CliffTransform tf;
    CliffError err = {.msg = ""};
    if (cliff_transform_init(&tf, &p, phase, &err)) __builtin_trap(); /* no file, no conflict */
    CliffDatum d;
    if (cliff_datum_parse_bounded(data + 4, size - 4, tf.decode_channels, (size_t)1 << 18, &d,
                                  &err)) {
        one_line(&err);
        if (d.msg || d.decoded) __builtin_trap();
        cliff_transform_free(&tf);
        return 0;
    }
    const CliffImageView *v = &d.view;
    if (v->channels < 1 || v->height < 1 || v->width < 1 || !(v->u8 || v->f32) ||
        (d.encoded && v->channels != 1 && v->channels != 3) ||
        (d.encoded && tf.decode_channels && v->channels != tf.decode_channels))
        __builtin_trap();
    int out[3];
    err.msg[0] = 0;
    if (cliff_transform_check(&tf, v->channels, v->height, v->width, out, &err)) {
        one_line(&err);
        if (err.kind != CLIFF_ERR_DATA) __builtin_trap();
    } else {
        size_t item = (size_t)out[0] * (size_t)out[1] * (size_t)out[2];
        float *batch = malloc(2 * item * sizeof *batch);
        if (!batch) __builtin_trap();
        CliffRng rng;
        cliff_rng_seed(&rng, o2);
        cliff_transform_apply(&tf, v, &rng, batch);
        cliff_transform_apply(&tf, v, &rng, batch + item);
        free(batch);
    }
    cliff_datum_free(&d);
    cliff_transform_free(&tf);
    return 0;
}
