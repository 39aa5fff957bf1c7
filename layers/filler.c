#include "filler.h"

#include <math.h>
#include <string.h>

#include "proto/names.h"

typedef struct FillShape {
    int num_axes;
    const int *shape;
    size_t count;
} FillShape;

typedef void (*FillFn)(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng);

static void fill_constant(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    (void)rng;
    for (size_t i = 0; i < s.count; i++) data[i] = fp->value;
}

static void fill_uniform(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    for (size_t i = 0; i < s.count; i++) data[i] = cliff_rng_uniform(rng, fp->min, fp->max);
}

/* Gaussian(mean, std) through the bulk generator (one draw of rng keys the
 * whole fill; rng.h); with sparse = k >= 0 each weight is kept with
 * probability k / shape[0] (Caffe: expected k non-zero inputs per output). */
static void fill_gaussian(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    cliff_rng_normal_fill(cliff_rng_next(rng), data, s.count, fp->mean, fp->std);
    if (fp->sparse >= 0 && s.num_axes >= 1) {
        float keep = (float)fp->sparse / (float)s.shape[0];
        for (size_t i = 0; i < s.count; i++)
            if (!cliff_rng_bernoulli(rng, keep)) data[i] = 0;
    }
}

/* Uniform [0, 1), then every row (count / shape[0] elements) scaled to sum 1. */
static void fill_positive_unitball(const Cliff__FillerParameter *fp, float *data, FillShape s,
                                   CliffRng *rng)
{
    (void)fp;
    for (size_t i = 0; i < s.count; i++) data[i] = cliff_rng_uniform01(rng);
    size_t rows = s.num_axes ? (size_t)s.shape[0] : 1, dim = rows ? s.count / rows : 0;
    for (size_t r = 0; r < rows; r++) {
        double sum = 0;
        for (size_t j = 0; j < dim; j++) sum += data[r * dim + j];
        for (size_t j = 0; j < dim; j++) data[r * dim + j] = (float)(data[r * dim + j] / sum);
    }
}

/* Caffe's fan_in = count / shape[0], fan_out = count / shape[1]. */
static double fan(const Cliff__FillerParameter *fp, FillShape s)
{
    double fan_in = (double)s.count / s.shape[0];
    double fan_out = s.num_axes > 1 ? (double)s.count / s.shape[1] : (double)s.count;
    switch (fp->variance_norm) {
    case CLIFF__FILLER_PARAMETER__VARIANCE_NORM__FAN_OUT: return fan_out;
    case CLIFF__FILLER_PARAMETER__VARIANCE_NORM__AVERAGE: return (fan_in + fan_out) / 2;
    default: return fan_in;
    }
}

/* Uniform(-sqrt(3/n), sqrt(3/n)). */
static void fill_xavier(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    float scale = (float)sqrt(3.0 / fan(fp, s));
    for (size_t i = 0; i < s.count; i++) data[i] = cliff_rng_uniform(rng, -scale, scale);
}

/* Gaussian(0, sqrt(2/n)). */
static void fill_msra(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    float std = (float)sqrt(2.0 / fan(fp, s));
    cliff_rng_normal_fill(cliff_rng_next(rng), data, s.count, 0, std);
}

/* Bilinear upsampling kernel for Deconvolution: K x K, f = ceil(K/2),
 * c = (2f - 1 - f%2) / 2f, w(x, y) = (1 - |x/f - c|)(1 - |y/f - c|). */
static void fill_bilinear(const Cliff__FillerParameter *fp, float *data, FillShape s, CliffRng *rng)
{
    (void)fp;
    (void)rng;
    int k = s.shape[3];
    double f = ceil(k / 2.0), c = (2 * f - 1 - fmod(f, 2.0)) / (2 * f);
    for (size_t i = 0; i < s.count; i++) {
        double x = (double)(i % (size_t)k), y = (double)((i / (size_t)k) % (size_t)k);
        data[i] = (float)((1 - fabs(x / f - c)) * (1 - fabs(y / f - c)));
    }
}

static const struct FillerRow {
    const char *name;
    FillFn fill;
    int needs_axes; /* minimum number of axes */
} fillers[] = {
    {"constant", fill_constant, 0},
    {"uniform", fill_uniform, 0},
    {"gaussian", fill_gaussian, 0},
    {"positive_unitball", fill_positive_unitball, 1},
    {"xavier", fill_xavier, 1},
    {"msra", fill_msra, 1},
    {"bilinear", fill_bilinear, 4},
};
static const CliffNameTable filler_table = CLIFF_NAME_TABLE(fillers, struct FillerRow, name);

static int find_filler(const Cliff__FillerParameter *fp)
{
    const struct FillerRow *row =
        cliff_names_find(&filler_table, fp->type ? fp->type : "constant");
    return row ? (int)(row - fillers) : -1;
}

int cliff_filler_validate(const Cliff__FillerParameter *fp, int num_axes, const int *shape,
                          CliffError *err)
{
    if (!fp) return 0;
    int i = find_filler(fp);
    if (i < 0)
        return cliff_error_unknown_name(err, "filler type", fp->type, &filler_table);
    if (num_axes < fillers[i].needs_axes)
        return cliff_error_set(err, "filler '%s' needs a blob with at least %d axes, got %d",
                               fp->type, fillers[i].needs_axes, num_axes);
    if (strcmp(fillers[i].name, "bilinear") == 0 && shape[2] != shape[3])
        return cliff_error_set(err, "filler 'bilinear' needs a square kernel, got %dx%d",
                               shape[2], shape[3]);
    if (strcmp(fillers[i].name, "uniform") == 0 && !(fp->min <= fp->max))
        return cliff_error_set(err, "filler 'uniform' has min %g > max %g", fp->min, fp->max);
    if (strcmp(fillers[i].name, "gaussian") == 0 && !(fp->std >= 0))
        return cliff_error_set(err, "filler 'gaussian' has negative std %g", fp->std);
    return 0;
}

int cliff_filler_fill(const Cliff__FillerParameter *fp, float default_value, float *data,
                      int num_axes, const int *shape, CliffRng *rng, CliffError *err)
{
    FillShape s = {num_axes, shape, 1};
    for (int i = 0; i < num_axes; i++) s.count *= (size_t)shape[i];
    if (!fp) {
        for (size_t i = 0; i < s.count; i++) data[i] = default_value;
        return 0;
    }
    if (cliff_filler_validate(fp, num_axes, shape, err)) return -1;
    fillers[find_filler(fp)].fill(fp, data, s, rng);
    return 0;
}
