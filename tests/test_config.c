/* Config files: format choice, file errors and bounds, --set overrides, the
 * solver's net resolution and inlining, upgrades on read, and text round
 * trips of every file in configs/. Run from the repository root. */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cliff.pb-c.h"
#include "proto/config.h"
#include "proto/desc_walk.h"
#include "proto/textformat.h"

static char tmpdir[64];

/* Writes tmpdir/name with content; returns the path (static buffer rotation). */
static const char *put_file(const char *name, const char *content)
{
    static char paths[8][256];
    static int k;
    char *p = paths[k++ % 8];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    return p;
}

static Cliff__SolverParameter *load(const char *path, const char *const *ov, size_t n,
                                    CliffError *err)
{
    Cliff__SolverParameter *s = NULL;
    if (cliff_solver_load(path, NULL, ov, n, &s, NULL, err)) return NULL;
    return s;
}

static void free_msg(void *m)
{
    if (m) protobuf_c_message_free_unpacked(m, NULL);
}

static void test_format_choice(void)
{
    CliffFormat f;
    CliffError err;
    CHECK(cliff_config_format("a/b.yaml", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_YAML);
    CHECK(cliff_config_format("b.YML", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_YAML);
    CHECK(cliff_config_format("b.prototxt", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_TEXT);
    CHECK(cliff_config_format("b.solverprototxt", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_TEXT);
    CHECK(cliff_config_format("b.pt", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_TEXT);
    CHECK(cliff_config_format("x.yaml/b", NULL, &f, &err) == 0 && f == CLIFF_FORMAT_TEXT);
    CHECK(cliff_config_format("b.yaml", "text", &f, &err) == 0 && f == CLIFF_FORMAT_TEXT);
    CHECK(cliff_config_format("b.txt", "yaml", &f, &err) == 0 && f == CLIFF_FORMAT_YAML);
    CHECK(cliff_config_format("b.txt", "json", &f, &err) == -1);
    CHECK(strcmp(err.msg, "b.txt: error: unknown config format 'json' (use text or yaml)") == 0);

    /* the same content read as YAML because of the override */
    const char *p = put_file("net.txt", "name: plain\nlayer: [{name: a}]\n");
    ProtobufCMessage *m;
    CHECK(cliff_config_read_file(p, "yaml", &cliff__net_parameter__descriptor, &m, NULL, &err) == 0);
    CHECK(m && ((Cliff__NetParameter *)m)->n_layer == 1);
    free_msg(m);
    CHECK(cliff_config_read_file(p, NULL, &cliff__net_parameter__descriptor, &m, NULL, &err) == -1);
    CHECK(m == NULL && strstr(err.msg, "net.txt:1:7: error: expected a quoted string"));
}

static void test_file_errors(void)
{
    CliffError err;
    ProtobufCMessage *m = (void *)1;
    char want[512];
    CHECK(cliff_config_read_file("no/such.prototxt", NULL, &cliff__net_parameter__descriptor, &m,
                                 NULL, &err) == -1);
    snprintf(want, sizeof want, "no/such.prototxt: error: cannot open: %s", strerror(ENOENT));
    CHECK(m == NULL && strcmp(err.msg, want) == 0);
    CHECK(cliff_config_read_file(tmpdir, NULL, &cliff__net_parameter__descriptor, &m, NULL,
                                 &err) == -1);
    snprintf(want, sizeof want, "%s: error: cannot open: %s", tmpdir, strerror(EISDIR));
    CHECK(strcmp(err.msg, want) == 0);
    /* a sparse file over the bound is refused before it is read */
    const char *p = put_file("big.prototxt", "");
    FILE *f = fopen(p, "r+");
    CHECK(f && ftruncate(fileno(f), (off_t)CLIFF_CONFIG_MAX_BYTES + 1) == 0);
    if (f) fclose(f);
    CHECK(cliff_config_read_file(p, NULL, &cliff__net_parameter__descriptor, &m, NULL, &err) == -1);
    snprintf(want, sizeof want, "%s: error: file is larger than 64 MiB", p);
    CHECK(strcmp(err.msg, want) == 0);
    unlink(p);
    /* exactly at the bound is fine (a file of spaces: the empty message) */
    p = put_file("edge.prototxt", "");
    f = fopen(p, "r+");
    CHECK(f && ftruncate(fileno(f), (off_t)CLIFF_CONFIG_MAX_BYTES) == 0);
    if (f) fclose(f);
    CHECK(cliff_config_read_file(p, NULL, &cliff__net_parameter__descriptor, &m, NULL, &err) == -1);
    CHECK(strstr(err.msg, "edge.prototxt:1:1: error: NUL byte in input")); /* zeros, not spaces */
    unlink(p);
}

static const char *mlp_solver = "net: \"configs/mlp_train_test.prototxt\"\n"
                                "test_iter: 100\n"
                                "base_lr: 0.01\n"
                                "lr_policy: \"step\"\n";

static void test_overrides(void)
{
    CliffError err;
    const char *p = put_file("s.prototxt", mlp_solver);
    const char *ov[] = {
        "clip_gradients=1",
        "net_param.layer[2].inner_product_param.num_output=64",
        "test_iter=[7, 8]",
        "type=Adam",
        "snapshot_prefix=\"a b\"",
        "momentum=0.95",
        "base_lr=1e-3",
        "solver_mode=CPU",
        "net_param.layer[3].type='PReLU'",
        "net_param.state={phase: TEST level: 2}",
        "net_param.layer[4].inner_product_param.weight_filler.std=.5",
        "test_iter[1]=9",
        "net_param.layer[0].top[1]=lbl",
        "net_param.layer[5]={name: 'acc2' type: 'Accuracy' bottom: ['ip2', 'label']}",
    };
    Cliff__SolverParameter *s = load(p, ov, sizeof ov / sizeof *ov, &err);
    CHECK(s != NULL);
    if (!s) {
        printf("%s\n", err.msg);
        return;
    }
    CHECK(s->has_clip_gradients && s->clip_gradients == 1.0f);
    CHECK(s->net == NULL && s->net_param);
    Cliff__NetParameter *n = s->net_param;
    CHECK(n->n_layer == 7 && strcmp(n->layer[2]->name, "ip1") == 0);
    CHECK(n->layer[2]->inner_product_param->num_output == 64);
    /* appended after the file's 100, as a second test_iter line would be */
    CHECK(s->n_test_iter == 3 && s->test_iter[0] == 100 && s->test_iter[1] == 9 &&
          s->test_iter[2] == 8);
    CHECK(strcmp(s->type, "Adam") == 0 && strcmp(s->snapshot_prefix, "a b") == 0);
    CHECK(s->has_momentum && s->momentum == 0.95f && s->base_lr == 1e-3f);
    CHECK(s->solver_mode == CLIFF__SOLVER_PARAMETER__SOLVER_MODE__CPU);
    CHECK(strcmp(n->layer[3]->type, "PReLU") == 0);
    CHECK(n->state && n->state->phase == CLIFF__PHASE__TEST && n->state->level == 2);
    CHECK(n->layer[4]->inner_product_param->weight_filler->std == 0.5f);
    CHECK(strcmp(n->layer[0]->top[1], "lbl") == 0 && strcmp(n->layer[0]->top[0], "data") == 0);
    CHECK(strcmp(n->layer[5]->name, "acc2") == 0 && n->layer[5]->n_bottom == 2 &&
          n->layer[5]->n_include == 0); /* the whole element was replaced */
    CHECK(strcmp(s->lr_policy, "step") == 0); /* untouched */
    free_msg(s);

    /* a YAML solver takes the same overrides */
    p = put_file("s.yaml", "net: configs/mlp_train_test.yaml\ntest_iter: [100]\n");
    const char *yov[] = {"net_param.layer[2].inner_product_param.num_output=32", "type=RMSProp"};
    s = load(p, yov, 2, &err);
    CHECK(s && s->net_param && s->net_param->layer[2]->inner_product_param->num_output == 32 &&
          strcmp(s->type, "RMSProp") == 0);
    free_msg(s);
    p = put_file("s.prototxt", mlp_solver);

    /* errors name the override; the solver is not returned */
    static const struct {
        const char *ov, *want;
    } bad[] = {
        {"clip_gradient=1", "--set clip_gradient=1: error: SolverParameter has no field "
                            "'clip_gradient' (did you mean 'clip_gradients'?)"},
        {"net_param.layer[2].inner_product_param.num_ouput=64",
         "--set net_param.layer[2].inner_product_param.num_ouput=64: error: "
         "InnerProductParameter has no field 'num_ouput' (did you mean 'num_output'?)"},
        {"net_param.layr[0].name=x", "--set net_param.layr[0].name=x: error: NetParameter has "
                                     "no field 'layr' (did you mean 'layer'?)"},
        {"net_param.layer[7].name=x", "--set net_param.layer[7].name=x: error: index 7 is out "
                                      "of range: net_param.layer has 7 elements"},
        {"net_param.layer.name=x", "--set net_param.layer.name=x: error: net_param.layer is "
                                   "repeated: give an index, as in net_param.layer[0]"},
        {"base_lr[0]=1", "--set base_lr[0]=1: error: SolverParameter.base_lr is not repeated: "
                         "it takes no index"},
        {"base_lr.x=1", "--set base_lr.x=1: error: base_lr is float, not a message: it has no "
                        "field 'x'"},
        {"base_lr=fast", "--set base_lr=fast: error: invalid value 'fast' for "
                         "SolverParameter.base_lr (float) (expected a number)"},
        {"base_lr=", "--set base_lr=: error: expected a value for SolverParameter.base_lr "
                     "(float), found end of input"},
        {"max_iter=1 2", "--set max_iter=1 2: error: unexpected '2' after the value of max_iter"},
        {"max_iter=1 base_lr: 2", "--set max_iter=1 base_lr: 2: error: unexpected 'base_lr' "
                                  "after the value of max_iter"},
        {"net_param={name: 'a'} net_param {}", "--set net_param={name: 'a'} net_param {}: error: "
                                               "unexpected 'net_param' after the value of net_param"},
        {"solver_mode=GPUU", "--set solver_mode=GPUU: error: enum SolverMode has no value "
                             "'GPUU' (did you mean 'GPU'?) for SolverParameter.solver_mode "
                             "(enum SolverMode)"},
        {"test_iter[3]=1", "--set test_iter[3]=1: error: index 3 is out of range: test_iter "
                           "has 1 element"},
        {"test_iter[0]=[1, 2]", "--set test_iter[0]=[1, 2]: error: expected one value for the "
                                "element test_iter[0]"},
        {"noequals", "--set noequals: error: expected FIELD=VALUE"},
        {"=3", "--set =3: error: expected FIELD=VALUE"},
        {"a..b=3", "--set a..b=3: error: malformed field path 'a..b'"},
        {"a[x]=3", "--set a[x]=3: error: malformed field path 'a[x]'"},
        {"net_param.layer[0].include[0].phase=TRAINING",
         "--set net_param.layer[0].include[0].phase=TRAINING: error: enum Phase has no value "
         "'TRAINING' (did you mean 'TRAIN'?) for NetStateRule.phase (enum Phase)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        s = load(p, &bad[i].ov, 1, &err);
        CHECK(s == NULL);
        free_msg(s);
        if (!s && strcmp(err.msg, bad[i].want))
            CHECK_FAILF("%s:\n  got  '%s'\n  want '%s'", bad[i].ov, err.msg, bad[i].want);
    }
}

/* cliff_config_override on its own: a failed override leaves msg unchanged. */
static void test_override_atomic(void)
{
    CliffError err;
    const char *src = "base_lr: 0.5 test_iter: 3";
    ProtobufCMessage *m = cliff_text_parse(&cliff__solver_parameter__descriptor, "s", src,
                                           strlen(src), NULL, &err);
    CHECK(m != NULL);
    if (!m) return;
    ProtobufCMessage *copy = cliff_text_parse(&cliff__solver_parameter__descriptor, "s", src,
                                              strlen(src), NULL, &err);
    CHECK(cliff_config_override(m, "net_param.layer[0].name=x", NULL, &err) == -1);
    CHECK(cliff_config_override(m, "train_net_param.force_backward=maybe", NULL, &err) == -1);
    CHECK(cliff_config_override(m, "test_iter=[1, x]", NULL, &err) == -1);
    CHECK(cliff_msg_equal(m, copy) == 1); /* no train_net_param created, list kept */
    CHECK(cliff_config_override(m, "train_net_param.name=tn", NULL, &err) == 0);
    Cliff__SolverParameter *s = (Cliff__SolverParameter *)m;
    CHECK(s->train_net_param && strcmp(s->train_net_param->name, "tn") == 0);
    CHECK(cliff_config_override(m, "test_iter=[]", NULL, &err) == 0 && s->n_test_iter == 0);
    CHECK(cliff_config_override(m, "random_seed=-0x10", NULL, &err) == 0 && s->random_seed == -16);
    free_msg(m);
    free_msg(copy);
}

/* A repeated field given on the command line appends, like a second
 * occurrence in the file; an index replaces one element; [] empties it. */
static void test_override_repeated_appends(void)
{
    CliffError err;
    const char *src = "stepvalue: 10 test_net: \"a\" weights: \"w1\"";
    ProtobufCMessage *m = cliff_text_parse(&cliff__solver_parameter__descriptor, "s", src,
                                           strlen(src), NULL, &err);
    CHECK(m != NULL);
    if (!m) return;
    Cliff__SolverParameter *s = (Cliff__SolverParameter *)m;
    CHECK(cliff_config_override(m, "stepvalue=20", NULL, &err) == 0);
    CHECK(cliff_config_override(m, "stepvalue=[30, 40]", NULL, &err) == 0);
    CHECK(s->n_stepvalue == 4 && s->stepvalue[0] == 10 && s->stepvalue[1] == 20 &&
          s->stepvalue[2] == 30 && s->stepvalue[3] == 40);
    CHECK(cliff_config_override(m, "stepvalue[1]=25", NULL, &err) == 0);
    CHECK(s->n_stepvalue == 4 && s->stepvalue[1] == 25);
    CHECK(cliff_config_override(m, "weights=w2", NULL, &err) == 0);
    CHECK(s->n_weights == 2 && strcmp(s->weights[0], "w1") == 0 &&
          strcmp(s->weights[1], "w2") == 0);
    /* An empty list empties the field, so a list can be replaced; an index
     * into the emptied field is then out of range. */
    CHECK(cliff_config_override(m, "stepvalue= [ ] ", NULL, &err) == 0 && s->n_stepvalue == 0);
    CHECK(cliff_config_override(m, "stepvalue=[50, 60]", NULL, &err) == 0);
    CHECK(s->n_stepvalue == 2 && s->stepvalue[0] == 50 && s->stepvalue[1] == 60);
    CHECK(cliff_config_override(m, "weights=[]", NULL, &err) == 0 && s->n_weights == 0);
    CHECK(cliff_config_override(m, "stepvalue[2]=1", NULL, &err) == -1);
    CHECK(cliff_config_override(m, "test_state={stage: 'x'}", NULL, &err) == 0);
    CHECK(cliff_config_override(m, "test_state={stage: 'y'}", NULL, &err) == 0);
    CHECK(s->n_test_state == 2 && strcmp(s->test_state[1]->stage[0], "y") == 0);
    free_msg(m);
}

static void test_net_resolution(void)
{
    CliffError err;
    char want[1024];
    /* relative to the solver's folder first */
    put_file("n1.prototxt", "name: 'n1' layer { name: 'a' type: 'Input' top: 'x' }");
    put_file("n2.yaml", "name: n2\nlayer: [{name: b, type: Input, top: [y]}]\n");
    put_file("n3.prototxt", "name: 'n3'");
    const char *p = put_file("s1.prototxt", "train_net: 'n1.prototxt'\n"
                                            "test_net_param { name: 'inline' }\n"
                                            "test_net: \"n2.yaml\" test_net: 'n3.prototxt'\n");
    Cliff__SolverParameter *s = load(p, NULL, 0, &err);
    CHECK(s != NULL);
    if (s) {
        CHECK(s->train_net == NULL && s->train_net_param &&
              strcmp(s->train_net_param->name, "n1") == 0);
        CHECK(s->n_test_net == 0 && s->test_net == NULL && s->n_test_net_param == 3);
        if (s->n_test_net_param == 3) { /* Caffe's order: inline first, then the files */
            CHECK(strcmp(s->test_net_param[0]->name, "inline") == 0);
            CHECK(strcmp(s->test_net_param[1]->name, "n2") == 0);
            CHECK(strcmp(s->test_net_param[2]->name, "n3") == 0);
        }
        /* the result is self-contained: it prints and reads back without files */
        char *t = cliff_text_print(&s->base);
        ProtobufCMessage *again = t ? cliff_text_parse(&cliff__solver_parameter__descriptor, "p",
                                                       t, strlen(t), NULL, &err) : NULL;
        CHECK(again && cliff_msg_equal(again, &s->base) == 1 && !strstr(t, "test_net:"));
        free_msg(again);
        free(t);
        free_msg(s);
    } else {
        printf("%s\n", err.msg);
    }

    /* then relative to the working directory (the repository root here) */
    p = put_file("s2.prototxt", "# comment\nnet: \"configs/mlp_train_test.prototxt\"\n");
    CliffSrcMap map;
    cliff_srcmap_init(&map);
    Cliff__SolverParameter *s2 = NULL;
    CHECK(cliff_solver_load(p, NULL, NULL, 0, &s2, &map, &err) == 0);
    if (s2) {
        CHECK(s2->net_param && strcmp(s2->net_param->name, "MLP") == 0);
        CliffSrcPos pos; /* positions inside the net file were recorded */
        CHECK(s2->net_param->n_layer > 2 &&
              cliff_srcmap_find(&map, s2->net_param->layer[2], &pos) == 0 &&
              strcmp(pos.file, "./configs/mlp_train_test.prototxt") == 0 && pos.line == 30);
        free_msg(s2);
    }
    cliff_srcmap_free(&map);

    /* a missing file: error at the net: line, naming both places */
    p = put_file("s3.prototxt", "base_lr: 0.1\n  net: 'nope.prototxt'\n");
    CHECK(load(p, NULL, 0, &err) == NULL);
    snprintf(want, sizeof want,
             "%s:2:3: error: net file 'nope.prototxt' not found (looked in %s/nope.prototxt and "
             "./nope.prototxt)",
             p, tmpdir);
    CHECK(strcmp(err.msg, want) == 0);
    p = put_file("s4.yaml", "test_net: [n3.prototxt, gone.prototxt]\n");
    CHECK(load(p, NULL, 0, &err) == NULL);
    snprintf(want, sizeof want,
             "%s:1:25: error: net file 'gone.prototxt' not found (looked in %s/gone.prototxt and "
             "./gone.prototxt)",
             p, tmpdir);
    if (strcmp(err.msg, want)) CHECK_FAILF("got '%s'", err.msg);
    /* an absolute path is looked up as it is */
    p = put_file("s5.prototxt", "net: '/nonexistent/cliff/x.prototxt'");
    CHECK(load(p, NULL, 0, &err) == NULL);
    snprintf(want, sizeof want,
             "%s:1:1: error: net file '/nonexistent/cliff/x.prototxt' not found (looked in "
             "/nonexistent/cliff/x.prototxt)",
             p);
    CHECK(strcmp(err.msg, want) == 0);
    /* a net given twice */
    p = put_file("s6.prototxt", "net_param { name: 'a' }\nnet: 'n3.prototxt'");
    CHECK(load(p, NULL, 0, &err) == NULL);
    snprintf(want, sizeof want, "%s:2:1: error: both net and net_param are given; use one", p);
    CHECK(strcmp(err.msg, want) == 0);
    /* errors inside the net file carry its own path */
    put_file("broken.prototxt", "name: 'b'\nlayer { nam: 'x' }\n");
    p = put_file("s7.prototxt", "net: 'broken.prototxt'");
    CHECK(load(p, NULL, 0, &err) == NULL);
    snprintf(want, sizeof want,
             "%s/broken.prototxt:2:9: error: LayerParameter has no field 'nam' (did you mean "
             "'name'?)",
             tmpdir);
    CHECK(strcmp(err.msg, want) == 0);
    /* an override of the net path applies before resolution */
    p = put_file("s8.prototxt", "net: 'nope.prototxt'");
    const char *ov[] = {"net=n3.prototxt", "net_param.name=renamed"};
    s = load(p, ov, 2, &err);
    CHECK(s && s->net_param && strcmp(s->net_param->name, "renamed") == 0 && s->net == NULL);
    free_msg(s);
}

/* Caffe's V1 net upgrades on read to exactly the modern file. */
static void test_upgrades(void)
{
    CliffError err;
    Cliff__NetParameter *v1 = NULL, *modern = NULL;
    CHECK(cliff_net_load("tests/caffe/lenet_v1.prototxt", NULL, &v1, NULL, &err) == 0);
    CHECK(cliff_net_load("tests/caffe/lenet_train_test.prototxt", NULL, &modern, NULL, &err) == 0);
    CHECK(v1 && v1->n_layers == 0 && v1->n_layer == 11);
    CHECK(v1 && modern && cliff_msg_equal(&v1->base, &modern->base) == 1);
    free_msg(v1);
    free_msg(modern);
    /* a solver's solver_type (also from an override) becomes the type string */
    const char *p = put_file("up.prototxt", "solver_type: NESTEROV\nnet_param { name: 'x' }");
    Cliff__SolverParameter *s = load(p, NULL, 0, &err);
    CHECK(s && strcmp(s->type, "Nesterov") == 0 && !s->has_solver_type);
    free_msg(s);
    const char *ov[] = {"solver_type=ADAM"};
    p = put_file("up2.prototxt", "net_param { name: 'x' }");
    s = load(p, ov, 1, &err);
    CHECK(s && strcmp(s->type, "Adam") == 0);
    free_msg(s);
}

/* text -> message -> text -> message is the identity for every config file,
 * and YAML -> message -> text -> message too. */
static void test_configs_round_trip(void)
{
    glob_t g;
    int n = 0;
    const char *patterns[] = {"configs/*.prototxt", "tests/caffe/*.prototxt", "configs/*.yaml"};
    for (int k = 0; k < 3; k++) {
        if (glob(patterns[k], 0, NULL, &g) != 0) continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *path = g.gl_pathv[i];
            const ProtobufCMessageDescriptor *d = strstr(path, "solver")
                                                      ? &cliff__solver_parameter__descriptor
                                                      : &cliff__net_parameter__descriptor;
            CliffError err;
            ProtobufCMessage *m;
            if (cliff_config_read_file(path, NULL, d, &m, NULL, &err)) {
                CHECK_FAILF("%s", err.msg);
                continue;
            }
            char *t1 = cliff_text_print(m);
            ProtobufCMessage *m2 = t1 ? cliff_text_parse(d, path, t1, strlen(t1), NULL, &err) : NULL;
            char *t2 = m2 ? cliff_text_print(m2) : NULL;
            if (!m2) CHECK_FAILF("%s: reprint does not parse: %s", path, err.msg);
            else CHECK(cliff_msg_equal(m, m2) == 1 && t2 && strcmp(t1, t2) == 0);
            free(t1);
            free(t2);
            free_msg(m);
            free_msg(m2);
            n++;
        }
        globfree(&g);
    }
    CHECK(n >= 12);
}

static void rm_tree(void)
{
    glob_t g;
    char pat[128];
    snprintf(pat, sizeof pat, "%s/*", tmpdir);
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) unlink(g.gl_pathv[i]);
        globfree(&g);
    }
    rmdir(tmpdir);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cliff_config_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("FAIL test_config: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    RUN(test_format_choice);
    RUN(test_file_errors);
    RUN(test_overrides);
    RUN(test_override_atomic);
    RUN(test_override_repeated_appends);
    RUN(test_net_resolution);
    RUN(test_upgrades);
    RUN(test_configs_round_trip);
    rm_tree();
    return test_main_end();
}
