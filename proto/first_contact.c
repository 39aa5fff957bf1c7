/* The solver file is the first thing a new user gets wrong: a net definition
 * given where the solver goes, or an empty file. These checks turn both into
 * an error that says what to write instead. */
#include <string.h>

#include "config.h"
#include "first_contact.h"

/* "net.prototxt" out of "some/dir/net.prototxt" (the solver goes next to it). */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int cliff_solver_not_a_net(const char *path, const char *format, CliffError *err)
{
    ProtobufCMessage *m = NULL;
    CliffError ignored;
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    int is_net = 0;
    const char *name = NULL;
    size_t nlayers = 0;
    if (cliff_config_read_file(path, format, &cliff__net_parameter__descriptor, &m, &map,
                               &ignored) == 0) {
        const Cliff__NetParameter *net = (const Cliff__NetParameter *)m;
        nlayers = net->n_layer + net->n_layers;
        is_net = nlayers > 0;
        name = net->name && net->name[0] ? net->name : NULL;
    }
    CliffFormat fmt = CLIFF_FORMAT_TEXT;
    (void)cliff_config_format(path, format, &fmt, &ignored);
    if (is_net) {
        const char *q = fmt == CLIFF_FORMAT_YAML ? "" : "\""; /* YAML strings go bare */
        const char *solver = fmt == CLIFF_FORMAT_YAML ? "solver.yaml" : "solver.prototxt";
        cliff_error_set(err,
                        "%s: error: this is a net definition (%s%s%s%zu layers), not a solver. "
                        "train reads a solver, which names the net and says how to train it; "
                        "a minimal one, saved next to it as %s:\n"
                        "  net: %s%s%s\n"
                        "  base_lr: 0.01\n"
                        "  lr_policy: %sfixed%s\n"
                        "  max_iter: 1000\n"
                        "  display: 100\n"
                        "then run: train %s",
                        path, name ? "net '" : "", name ? name : "", name ? "', " : "", nlayers,
                        solver, q, base_name(path), q, q, q, solver);
    }
    if (m) protobuf_c_message_free_unpacked(m, NULL);
    cliff_srcmap_free(&map);
    return is_net ? -1 : 0;
}

int cliff_solver_check_empty(const char *path, const Cliff__SolverParameter *s, CliffError *err)
{
    if (protobuf_c_message_get_packed_size(&s->base) > 0) return 0;
    return cliff_error_set(err,
                           "%s: error: the solver file sets nothing (empty, or comments only); "
                           "a solver names a net and how to train it, at least:\n"
                           "  net: \"train_val.prototxt\"\n"
                           "  base_lr: 0.01\n"
                           "  lr_policy: \"fixed\"\n"
                           "  max_iter: 1000",
                           path);
}
