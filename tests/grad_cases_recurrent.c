/* Gradient-check cases for the recurrent layers (RNN, LSTM): backpropagation
 * through several steps, with sequence starts (cont 0) inside the batch,
 * cont values other than 0 and 1 (multiplied in, as in Caffe), a static
 * input, exposed initial and final states, and a carried state: the cases
 * named `carried` run one forward first (warm_forwards), so the checked
 * forward starts from the final states of another batch (gradcheck.h).
 * test_gradcheck requires each recurrent type to have the `resets`,
 * `static`, `expose_hidden` and a warm case.
 *
 * cont is an input without a gradient (no_propagate, and the layers mark it
 * in label_bottoms so force_backward leaves it alone too). */
#include "gradcheck.h"

#define X3(t, n, i) {3, {t, n, i}, FILL_GAUSSIAN, 0, 0, 0, NULL}
#define X4(t, n, a, b) {4, {t, n, a, b}, FILL_GAUSSIAN, 0, 0, 0, NULL}
#define CONT(t, n, v) {2, {t, n}, FILL_CONSTANT, 0, 0, 1, v}
#define STATE(n, h) {3, {1, n, h}, FILL_GAUSSIAN, 0, 0, 0, NULL}
#define STATIC(n, s) {2, {n, s}, FILL_GAUSSIAN, 0, 0, 0, NULL}
#define FILLERS "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 }"
#define LSTM(extra) "type: 'LSTM' recurrent_param { num_output: 3 " FILLERS " " extra " }"
#define RNN(extra) "type: 'RNN' recurrent_param { num_output: 3 " FILLERS " " extra " }"

/* T = 4 steps of N = 3 streams: stream 0 starts at t 0 and again at t 2,
 * stream 1 continues the carried state and restarts at t 3, stream 2 never
 * restarts. */
static const float resets[12] = {0, 1, 1, /**/ 1, 1, 1, /**/ 0, 1, 1, /**/ 1, 0, 1};
/* Values other than 0 and 1 scale the carried state. */
static const float scaled[12] = {0.5f, 1, 2, /**/ 1, 0.25f, 1, /**/ 0, 1, -1, /**/ 1, 1.5f, 1};
/* No restart at t 0: everything the warm forward left is used. */
static const float carried[12] = {1, 1, 1, /**/ 1, 0, 1, /**/ 1, 1, 1, /**/ 1, 1, 1};

const GradCase grad_cases_recurrent[] = {
    /* ---- LSTM ---- */
    {.name = "LSTM/resets", .layer = LSTM(""),
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, resets)}, .ntop = 1},
    {.name = "LSTM/cont_scaled_input_4d", .layer = LSTM(""),
     .nbottom = 2, .bottom = {X4(4, 3, 2, 2), CONT(4, 3, scaled)}, .ntop = 1},
    {.name = "LSTM/carried", .layer = LSTM(""), .warm_forwards = 1,
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, carried)}, .ntop = 1},
    {.name = "LSTM/carried_twice_recurrent_filler", .warm_forwards = 2,
     .layer = LSTM("recurrent_weight_filler { type: 'gaussian' std: 1.5 }"),
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, resets)}, .ntop = 1},
    {.name = "LSTM/static", .layer = LSTM(""), .warm_forwards = 1,
     .nbottom = 3, .bottom = {X3(4, 3, 2), CONT(4, 3, resets), STATIC(3, 2)}, .ntop = 1},
    {.name = "LSTM/expose_hidden", .layer = LSTM("expose_hidden: true"),
     .nbottom = 4, .bottom = {X3(4, 3, 2), CONT(4, 3, resets), STATE(3, 3), STATE(3, 3)},
     .ntop = 3},
    {.name = "LSTM/expose_hidden_static", .layer = LSTM("expose_hidden: true"),
     .nbottom = 5,
     .bottom = {X3(4, 3, 2), CONT(4, 3, carried), STATIC(3, 4), STATE(3, 3), STATE(3, 3)},
     .ntop = 3},
    {.name = "LSTM/one_step_one_stream", .layer = LSTM(""), .warm_forwards = 1,
     .nbottom = 2, .bottom = {X3(1, 1, 5), CONT(1, 1, carried)}, .ntop = 1},

    /* ---- RNN ---- */
    {.name = "RNN/resets", .layer = RNN(""),
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, resets)}, .ntop = 1},
    {.name = "RNN/cont_scaled_input_4d", .layer = RNN(""),
     .nbottom = 2, .bottom = {X4(4, 3, 2, 2), CONT(4, 3, scaled)}, .ntop = 1},
    {.name = "RNN/carried", .layer = RNN(""), .warm_forwards = 1,
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, carried)}, .ntop = 1},
    {.name = "RNN/carried_twice_recurrent_filler", .warm_forwards = 2,
     .layer = RNN("recurrent_weight_filler { type: 'gaussian' std: 1.5 }"),
     .nbottom = 2, .bottom = {X3(4, 3, 2), CONT(4, 3, resets)}, .ntop = 1},
    {.name = "RNN/static", .layer = RNN(""), .warm_forwards = 1,
     .nbottom = 3, .bottom = {X3(4, 3, 2), CONT(4, 3, resets), STATIC(3, 2)}, .ntop = 1},
    {.name = "RNN/expose_hidden", .layer = RNN("expose_hidden: true"),
     .nbottom = 3, .bottom = {X3(4, 3, 2), CONT(4, 3, resets), STATE(3, 3)}, .ntop = 2},
    /* With the gaussian fill of rng_normal.c, one static weight (param 3[7])
     * sits where the central difference at h = 1e-2 is off by 1.4e-3 (1.086759
     * against the analytic 1.088287), from truncation (h^2/6 |f'''|): at
     * h = 3e-3 and at 1e-3 every point agrees within 1e-3. */
    {.name = "RNN/expose_hidden_static", .layer = RNN("expose_hidden: true"), .step = 3e-3,
     .nbottom = 4, .bottom = {X3(4, 3, 2), CONT(4, 3, carried), STATIC(3, 4), STATE(3, 3)},
     .ntop = 2},
    {0},
};
