/* Forward checks (GradCase.check_forward) for the neuron, normalization and
 * loss layers of tests/grad_cases_neuron.c. Each recomputes the tops from the
 * bottoms with a straightforward double-precision formula, or overwrites the
 * bottoms with hand-derived inputs, reruns forward and compares with values
 * worked out by hand. All return 0 when the tops are right, else -1 with why. */
#ifndef CLIFF_NEURON_CHECKS_H
#define CLIFF_NEURON_CHECKS_H

#include "gradcheck.h"

#define NEURON_CHECK(name)                                                               \
    int name(CliffLayer *l, CliffTensor *const *bottom, int nb, CliffTensor *const *top, \
             int nt, char *why, size_t len)

/* Elementwise layers: y against the type's formula (reads the type and its
 * parameters from l->param). */
NEURON_CHECK(check_elementwise);

/* SoftmaxWithLoss: the loss (and the probabilities when there are two tops). */
NEURON_CHECK(check_sml_valid);       /* axis 1, VALID, no ignore label */
NEURON_CHECK(check_sml_full);        /* axis 1, FULL */
NEURON_CHECK(check_sml_batch);       /* axis 1, BATCH_SIZE */
NEURON_CHECK(check_sml_none);        /* axis 1, NONE */
NEURON_CHECK(check_sml_ignore2);     /* axis 1, VALID, ignore_label 2 */
NEURON_CHECK(check_sml_axis2);       /* axis 2, VALID */
NEURON_CHECK(check_sml_bad_labels);  /* out-of-range labels are clamped */

/* SigmoidCrossEntropyLoss */
NEURON_CHECK(check_sce_batch);
NEURON_CHECK(check_sce_valid_ignore2);
NEURON_CHECK(check_sce_full);

NEURON_CHECK(check_euclidean);
NEURON_CHECK(check_hinge_l1);
NEURON_CHECK(check_hinge_l2);
NEURON_CHECK(check_multinomial);
NEURON_CHECK(check_contrastive);      /* margin 1, labels set to 1 0 1 0 ... */
NEURON_CHECK(check_contrastive_legacy);
NEURON_CHECK(check_infogain);         /* H from bottom 2, VALID */

/* Accuracy on hand-made scores (4 items, 3 classes; see neuron_checks.c). */
NEURON_CHECK(check_accuracy_top1);
NEURON_CHECK(check_accuracy_top2);
NEURON_CHECK(check_accuracy_ignore2);
NEURON_CHECK(check_accuracy_per_class);
NEURON_CHECK(check_accuracy_spatial);

/* Dropout */
NEURON_CHECK(check_dropout_identity);   /* TEST, scale_train */
NEURON_CHECK(check_dropout_test_scaled); /* TEST, !scale_train, p = 0.3: y = 0.7 x */
NEURON_CHECK(check_dropout_train);      /* TRAIN, p = 0.5: y in {0, 2x}, ~half kept */
NEURON_CHECK(check_dropout_train_noscale); /* TRAIN, !scale_train: y in {0, x} */

/* BatchNorm */
NEURON_CHECK(check_bn_train);  /* batch statistics and the running-average update */
NEURON_CHECK(check_bn_global); /* sets the stored statistics, reruns forward */
NEURON_CHECK(check_bn_test);   /* TEST phase: stored (zero) statistics, no update */

/* Scale / Bias broadcasting */
NEURON_CHECK(check_scale_param);    /* y = x s[c] (+ b[c]) for bottom N x C x ... */
NEURON_CHECK(check_scale_bottom);   /* y = x s[c] with s from bottom 1, axis 1 */
NEURON_CHECK(check_scale_bottom01); /* y = x s[n, c] with s from bottom 1, axis 0 */
NEURON_CHECK(check_bias_param);     /* y = x + b[c] */
NEURON_CHECK(check_bias_bottom);    /* y = x + b[c] with b from bottom 1, axis 1 */

NEURON_CHECK(check_mvn); /* every row: mean 0 and, when normalizing, std 1 */

/* Writes the InfogainLoss fixture (a 4 x 4 binary BlobProto) to NEURON_INFOGAIN_FILE. */
void write_infogain_fixture(void);
#define NEURON_INFOGAIN_FILE "/tmp/cliff-gradcheck-infogain.binaryproto"
NEURON_CHECK(check_infogain_file); /* against the fixture's matrix */

/* Helpers shared by neuron_checks*.c. */
/* |a - b| <= tol * max(1, |a|, |b|) */
int nc_near(double a, double b, double tol);
/* got[0..n) against want[0..n) with nc_near; names the first mismatch. */
int nc_compare(const char *what, const float *got, const double *want, size_t n, double tol,
               char *why, size_t len);
/* Product of t->shape[from..to). */
size_t nc_prod(const CliffTensor *t, int from, int to);

#endif
