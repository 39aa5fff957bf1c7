# cliff — plain Makefile. Everything generated or built goes under $(BUILD).
#   make            build the library, tools and tests
#   make test       install missing Debian packages, build, run the suite
#   make check      the suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz       libFuzzer runs of the config readers and image decoders (FUZZ_SECONDS)
#   make bench      speed and memory figures (see bench/)
#   make text-data  list the char-LSTM example's text files (build/data/fortunes/list.txt)
#   make adding-data the adding problem's HDF5 data (build/data/adding/)
#   make image-data  the ImageData example's PNG files (build/data/stripes/)
#   make mnist-lmdb  Fashion-MNIST as LMDBs for Caffe's LeNet (configs/caffe_lenet_*)
#   make cifar-lmdb  a CIFAR-shaped LMDB pair + mean for Caffe's cifar10_quick
#   make imagenet-lmdb a small ImageNet-shaped LMDB pair + mean for Caffe's CaffeNet
#   make mutants    apply each mutation of tests/mutants.txt and check the suite kills it
#   make fresh-check the README's commands on a bare Debian 12 (root, minutes)
#   make install    binaries, train(1), bash completion, example configs under
#                   $(DESTDIR)$(PREFIX) (PREFIX default /usr/local); make uninstall
# Parallel work: BUILD=build-foo keeps a separate tree.

BUILD    ?= build
# Every target builds with one job per core unless the command line says -jN:
# the README's `make test` and CI's steps would otherwise compile one file at a
# time (GNU make 4.3 honours -j added here).
ifeq ($(MAKELEVEL)$(filter -j% --jobs%,$(MAKEFLAGS)),0)
MAKEFLAGS += -j$(shell nproc)
endif
CC       ?= cc
OPT      ?= -O3
SAN      ?=
# ompi-c: OpenMPI, always linked; MPI starts only under mpirun (solver/comm.h).
PKGS     := libprotobuf-c openblas hdf5 yaml-0.1 libpng libjpeg ompi-c lmdb
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))
CFLAGS   += -std=c11 -D_GNU_SOURCE $(OPT) -g -Wall -Wextra -fopenmp $(SAN) \
            -I$(BUILD)/gen -I. $(PKG_CFLAGS)
# LevelDB ships no pkg-config file (Debian's libleveldb-dev has CMake files only).
LDLIBS   += $(PKG_LIBS) -lleveldb -lz -lm -fopenmp -pthread $(SAN)
DEPFLAGS  = -MMD -MP

# cliff.proto imports protobuf-c/protobuf-c.proto (libprotobuf-c-dev), which imports
# google/protobuf/descriptor.proto (libprotobuf-dev). Both folders are passed
# explicitly: protoc adds /usr/include on its own only when it happens to hold
# descriptor.proto, which hid a missing package on machines that had it.
PROTO_INCLUDES = $(sort $(foreach p,libprotobuf-c protobuf,--proto_path=$(shell pkg-config --variable=includedir $(p))))
GEN_C    := $(BUILD)/gen/cliff.pb-c.c
GEN_H    := $(BUILD)/gen/cliff.pb-c.h
LAYER_TABLE := $(BUILD)/gen/layer_table.inc
# Sources by folder (see README "Layout"): proto/, layers/ (layer types),
# layers/net/ (the net engine), layers/kernels/ (math), layers/data/ (data-layer
# helpers: transform_param, Datum records, databases, image codecs), solver/,
# solver/formats/.
LIB_SRC  := $(wildcard proto/*.c layers/*.c layers/net/*.c layers/kernels/*.c layers/data/*.c \
                       solver/*.c solver/formats/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/cliff.pb-c.o
# SHARED=1 (tools/mutants.py's scratch build): the library is a shared object that
# the programs load from beside them ($ORIGIN rpath) and are not relinked for, so a
# mutation costs one compile and one link of the library, not a relink of every
# program (8 tools and the man page for a test that runs them). Otherwise the
# library is a static archive linked into each program, as shipped.
ifeq ($(SHARED),1)
LIB      := $(BUILD)/libcliff.so
LIB_DEP  := | $(LIB)
LIB_LINK := -L$(BUILD) -lcliff -Wl,-rpath,'$$ORIGIN:$$ORIGIN/..'
CFLAGS   += -fPIC
else
LIB      := $(BUILD)/libcliff.a
LIB_DEP  := $(LIB)
LIB_LINK := $(LIB)
endif
TOOL_SRC := $(wildcard tools/*.c)
TOOLS    := $(TOOL_SRC:tools/%.c=$(BUILD)/%)
# Command-line reports (net summary, per-layer timing) and the data tools' flags and
# staged outputs (tools/cli/), linked into the tools.
TOOL_SUPPORT_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tools/report/*.c tools/cli/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_SUPPORT_SRC := $(filter-out tests/test_%.c tests/fuzz_%.c,$(wildcard tests/*.c))
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: install install-built uninstall all deps test test-run check fuzz fuzz-ci bench fresh-check clean example data text-data lstm-bench-data adding-data image-data mnist-lmdb cifar-lmdb imagenet-lmdb mutants FORCE
MAN      := $(BUILD)/man/train.1
all: $(LIB) $(TOOLS) $(TESTS) $(MAN)

# train(1), generated from the binary itself by help2man (Debian's help2man):
# its --help is the options and exit status, so the page cannot list an option
# train lacks or miss one it has (its "Exit status:" paragraph becomes the
# page's EXIT STATUS section); tools/man/train.h2m adds the description,
# files, environment and examples as plain text; tools/man/solver_fields.awk
# lists cliff's own solver fields with their comments from proto/cliff.proto.
$(MAN): $(BUILD)/train tools/man/train.h2m tools/man/solver_fields.awk proto/cliff.proto
	@mkdir -p $(dir $@)
	awk -f tools/man/solver_fields.awk proto/cliff.proto > $(BUILD)/man/solver_fields.h2m
	help2man --no-info --section=1 --source=cliff --manual="cliff manual" \
	  --version-string="$$($(BUILD)/train --version | sed -n 's/^cliff train //p')" \
	  --include=tools/man/train.h2m --include=$(BUILD)/man/solver_fields.h2m \
	  --output=$@.tmp $(BUILD)/train
	sed -i 's/^\.SS "Exit status:"$$/.SH "EXIT STATUS"/' $@.tmp
	@grep -q '^\.SH "EXIT STATUS"' $@.tmp || { echo "$@: no EXIT STATUS section" >&2; exit 1; }
	@mv $@.tmp $@

# Installation. The programs keep their short names (train, fmnist2h5,
# adding_problem, ...; tools/cliff-plot.sh as cliff-plot): see README "Installing".
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
MAN1DIR  = $(DESTDIR)$(PREFIX)/share/man/man1
COMPDIR  = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
SHAREDIR = $(DESTDIR)$(PREFIX)/share/cliff
CONFIGS := $(wildcard configs/*)
install: $(TOOLS) $(MAN)
	@$(MAKE) --no-print-directory install-built

# Copies what BUILD already holds and builds nothing (tests/install.test.sh
# runs it on any BUILD, e.g. the sanitizer tree, without remaking it).
install-built:
	install -d $(BINDIR) $(MAN1DIR) $(COMPDIR) $(SHAREDIR)/configs
	install -m 755 $(TOOLS) $(BINDIR)/
	install -m 755 tools/cliff-plot.sh $(BINDIR)/cliff-plot
	install -m 644 $(MAN) $(MAN1DIR)/train.1
	install -m 644 tools/completion/train.bash $(COMPDIR)/train
	install -m 644 $(CONFIGS) $(SHAREDIR)/configs/

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(notdir $(TOOLS)) cliff-plot) $(MAN1DIR)/train.1 \
	  $(COMPDIR)/train $(addprefix $(SHAREDIR)/configs/,$(notdir $(CONFIGS)))
	-rmdir $(SHAREDIR)/configs $(SHAREDIR) 2>/dev/null

# Keep the objects of tools and tests (pattern-rule intermediates) so that a
# second make does not rebuild them.
.SECONDARY:

deps:
	@tools/install-deps.sh

# One protoc-c run makes both files: a pattern rule with two targets says so to
# make (an explicit rule with two targets would run it once per target, and the
# second run, after the objects, made the next make rebuild them all).
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto $(PROTO_INCLUDES) --c_out=$(BUILD)/gen $<

# One X(Type) line per `const CliffLayerOps cliff_ops_Type =` in layers/.
$(LAYER_TABLE): $(wildcard layers/*.c)
	@mkdir -p $(BUILD)/gen
	@grep -ho '^const CliffLayerOps cliff_ops_[A-Za-z0-9_]*' layers/*.c | \
	  sed 's/.*cliff_ops_\(.*\)/X(\1)/' | sort > $@.tmp
	@cmp -s $@.tmp $@ 2>/dev/null && rm $@.tmp || mv $@.tmp $@

# Objects depend on the compiler flags: a build tree reused with other flags
# (OPT, SAN) is rebuilt instead of mixing objects.
FLAGS_STAMP := $(BUILD)/flags.txt
$(FLAGS_STAMP): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CC) $(CFLAGS)' | cmp -s - $@ || echo '$(CC) $(CFLAGS)' > $@
FORCE:

$(BUILD)/obj/gen/cliff.pb-c.o: $(GEN_C) $(GEN_H) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -w -c $< -o $@

# The recurrent layers' loops over kernels/fastmath.h vectorize on AVX2 and plain
# x86-64 only when a float compare may run unconditionally: no trapping math
# there (values are unchanged: no reassociation, no contraction).
$(BUILD)/obj/layers/lstm.o $(BUILD)/obj/layers/rnn.o: CFLAGS += -fno-trapping-math

$(BUILD)/obj/%.o: %.c $(GEN_H) $(LAYER_TABLE) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/libcliff.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcliff.so: $(LIB_OBJ)
	$(CC) -shared $^ $(LDLIBS) -o $@

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(TOOL_SUPPORT_OBJ) $(LIB_DEP)
	$(CC) $< $(TOOL_SUPPORT_OBJ) $(LIB_LINK) $(LDLIBS) -o $@

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(TEST_SUPPORT_OBJ) $(LIB_DEP)
	@mkdir -p $(dir $@)
	$(CC) $< $(TEST_SUPPORT_OBJ) $(LIB_LINK) $(LDLIBS) -o $@

# The README's main command: install, build, convert Fashion-MNIST, train LeNet.
DATA := build/data/fashion-mnist
example: deps
	@$(MAKE) --no-print-directory all data
	$(BUILD)/train configs/lenet_solver.prototxt

data: $(DATA)/train.txt
$(DATA)/train.txt: | $(BUILD)/fmnist2h5
	$(BUILD)/fmnist2h5 $(DATA)

# The char-LSTM example's text: the fortune files of Debian's fortunes and fortunes-min
# (files without extension; the .dat indexes and the .u8 links to the same files are
# skipped), listed in name order for TextData's source. The files are read as shipped:
# the '%' lines between fortunes stay, an end-of-text mark the model learns (stripping
# them would join unrelated fortunes with no cue). The list is checked for 43 files.
FORTUNES_DIR := /usr/share/games/fortunes
TEXT_DATA := build/data/fortunes
text-data: $(TEXT_DATA)/list.txt
$(TEXT_DATA)/list.txt:
	@mkdir -p $(TEXT_DATA)
	find $(FORTUNES_DIR) -maxdepth 1 -type f ! -name '*.dat' | LC_ALL=C sort > $@.tmp
	@n=$$(wc -l < $@.tmp); [ "$$n" -eq 43 ] || { echo "$(FORTUNES_DIR) holds $$n fortune files, not 43: run tools/install-deps.sh (fortunes fortunes-min)" >&2; rm -f $@.tmp; exit 1; }
	@mv $@.tmp $@

# The char-LSTM bench net's input (bench/nets/char_lstm_train.prototxt): random ids,
# next-symbol targets and cont as time-major HDF5 (bench/char_lstm_data.py; Debian's
# python3 with numpy and h5py). The net's source path is fixed, whatever BUILD is.
LSTM_BENCH_DATA := build/bench/char_lstm
lstm-bench-data: $(LSTM_BENCH_DATA)/list.txt
$(LSTM_BENCH_DATA)/list.txt: bench/char_lstm_data.py
	/usr/bin/python3 bench/char_lstm_data.py $(LSTM_BENCH_DATA)

# The adding problem's data (configs/adding_solver.prototxt): tools/adding_problem,
# sequences of 50 steps in 50 streams, time-major for HDF5Data with batch_size 50;
# 10000 training and 1000 test sequences from different seeds.
ADDING_DATA := build/data/adding
adding-data: $(ADDING_DATA)/train.txt $(ADDING_DATA)/test.txt
$(ADDING_DATA)/train.txt: | $(BUILD)/adding_problem
	@mkdir -p $(ADDING_DATA)
	$(BUILD)/adding_problem --out $(ADDING_DATA)/train --length 50 --count 10000 --streams 50 --seed 1
$(ADDING_DATA)/test.txt: | $(BUILD)/adding_problem
	@mkdir -p $(ADDING_DATA)
	$(BUILD)/adding_problem --out $(ADDING_DATA)/test --length 50 --count 1000 --streams 50 --seed 2

# The ImageData example's images (configs/stripes_solver.prototxt): tools/stripes_images,
# 16 x 16 PNG files of two classes (horizontal or vertical stripes), 1000 for
# training and 200 for testing from different seeds, each folder with its list.
IMAGE_DATA := build/data/stripes
image-data: $(IMAGE_DATA)/train/list.txt $(IMAGE_DATA)/test/list.txt
$(IMAGE_DATA)/train/list.txt: | $(BUILD)/stripes_images
	@mkdir -p $(IMAGE_DATA)
	$(BUILD)/stripes_images --out $(IMAGE_DATA)/train --count 1000 --seed 1
$(IMAGE_DATA)/test/list.txt: | $(BUILD)/stripes_images
	@mkdir -p $(IMAGE_DATA)
	$(BUILD)/stripes_images --out $(IMAGE_DATA)/test --count 200 --seed 2

# Caffe's own example nets (configs/caffe_*) read LMDBs that cliff's converters write,
# as Caffe's create_mnist.sh and create_cifar10.sh do:
#   mnist-lmdb: Fashion-MNIST (Debian's dataset-fashion-mnist) through
#     convert_mnist_data, train_lmdb (60000) and test_lmdb (10000);
#   cifar-lmdb: a CIFAR-shaped set (3 x 32 x 32 PNG files of 10 classes of oriented
#     stripes, tools/stripes_images --classes 10), 10000 training and 2000 test
#     images from different seeds, through convert_imageset (shuffled, seed 1),
#     and the training set's mean through compute_image_mean.
MNIST_LMDB := build/data/fashion-mnist-lmdb
FMNIST_SRC := /usr/share/datasets/fashion-mnist
mnist-lmdb: $(MNIST_LMDB)/train_lmdb $(MNIST_LMDB)/test_lmdb
$(MNIST_LMDB)/train_lmdb: | $(BUILD)/convert_mnist_data
	@mkdir -p $(MNIST_LMDB)
	$(BUILD)/convert_mnist_data $(FMNIST_SRC)/train-images-idx3-ubyte.gz \
	  $(FMNIST_SRC)/train-labels-idx1-ubyte.gz $@
$(MNIST_LMDB)/test_lmdb: | $(BUILD)/convert_mnist_data
	@mkdir -p $(MNIST_LMDB)
	$(BUILD)/convert_mnist_data $(FMNIST_SRC)/t10k-images-idx3-ubyte.gz \
	  $(FMNIST_SRC)/t10k-labels-idx1-ubyte.gz $@

CIFAR_LMDB := build/data/cifar-like
cifar-lmdb: $(CIFAR_LMDB)/train_lmdb $(CIFAR_LMDB)/test_lmdb $(CIFAR_LMDB)/mean.binaryproto
$(CIFAR_LMDB)/%/list.txt: | $(BUILD)/stripes_images
	@mkdir -p $(CIFAR_LMDB)
	$(BUILD)/stripes_images --out $(CIFAR_LMDB)/$* --size 32 --classes 10 \
	  --count $(if $(filter train,$*),10000,2000) --seed $(if $(filter train,$*),3,4)
$(CIFAR_LMDB)/%_lmdb: $(CIFAR_LMDB)/%/list.txt | $(BUILD)/convert_imageset
	$(BUILD)/convert_imageset -shuffle -seed 1 $(CIFAR_LMDB)/$*/ $< $@
$(CIFAR_LMDB)/mean.binaryproto: $(CIFAR_LMDB)/train_lmdb | $(BUILD)/compute_image_mean
	$(BUILD)/compute_image_mean $< $@

# imagenet-lmdb: Caffe's CaffeNet (configs/caffe_caffenet_*) on an ImageNet-shaped
#   set, small: 256 x 256 colour PNGs of 10 classes of oriented stripes
#   (stripes_images --classes 10), 800 for training and 200 for validation,
#   through convert_imageset (-shuffle, seed 1; raw records as create_imagenet.sh
#   writes them) and the training set's mean through compute_image_mean. The
#   PNG folders are removed once converted. About 10 s of CPU.
IMAGENET_LMDB := build/data/imagenet-like
IMAGENET_COUNT_train := 800
IMAGENET_COUNT_val := 200
imagenet-lmdb: $(IMAGENET_LMDB)/train_lmdb $(IMAGENET_LMDB)/val_lmdb $(IMAGENET_LMDB)/mean.binaryproto
$(IMAGENET_LMDB)/%_lmdb: | $(BUILD)/stripes_images $(BUILD)/convert_imageset
	@mkdir -p $(IMAGENET_LMDB)
	rm -rf $(IMAGENET_LMDB)/$*
	$(BUILD)/stripes_images --out $(IMAGENET_LMDB)/$* --size 256 --classes 10 \
	  --count $(IMAGENET_COUNT_$*) --seed $(if $(filter train,$*),5,6)
	$(BUILD)/convert_imageset -shuffle -seed 1 $(IMAGENET_LMDB)/$*/ $(IMAGENET_LMDB)/$*/list.txt $@
	rm -rf $(IMAGENET_LMDB)/$*
$(IMAGENET_LMDB)/mean.binaryproto: $(IMAGENET_LMDB)/train_lmdb | $(BUILD)/compute_image_mean
	$(BUILD)/compute_image_mean $< $@

# The README's test command: installs what is missing, then builds and runs.
test: deps
	@$(MAKE) --no-print-directory test-run

test-run: all
	@tests/run.sh $(BUILD)

check: deps
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  test-run

# Speed and memory figures on this machine, written to bench/results.md (see
# bench/run.sh; BENCH_ITERS, BENCH_RUNS, BENCH_SNAPSHOT_REPS scale it; bench/fma_peak
# measures the core's FMA peak). PyTorch is installed for the reference column only.
bench:
	@CLIFF_EXTRA_PKGS="python3-torch time" tools/install-deps.sh
	@$(MAKE) --no-print-directory $(BUILD)/train $(BUILD)/bench/snapshot_time $(BUILD)/bench/fma_peak \
	  $(BUILD)/stripes_images $(BUILD)/convert_imageset $(BUILD)/compute_image_mean
	@test -e $(DATA)/train.txt || $(MAKE) --no-print-directory data
	@$(MAKE) --no-print-directory lstm-bench-data imagenet-lmdb
	bench/run.sh $(BUILD)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(TOOL_SUPPORT_OBJ) $(LIB_DEP)
	@mkdir -p $(dir $@)
	$(CC) $< $(TOOL_SUPPORT_OBJ) $(LIB_LINK) $(LDLIBS) -o $@

# One libFuzzer target per tests/fuzz_<name>.c (FUZZ_TARGETS), each run for
# FUZZ_SECONDS from the seeds in FUZZ_SEEDS_<name>: the config readers (text),
# the image decoders (image), the binary .solverstate reader with the restore
# checks (solverstate), the binary .caffemodel reader (caffemodel) and Caffe's
# Datum records through transform_param (datum).
# clang at -O1 reports the `omp simd` loops it leaves scalar (-Wpass-failed): an
# optimization note of the fuzz build, not a defect, so it is silenced there.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= text image solverstate caffemodel datum
FUZZ_SEEDS_text := configs tests/bad
FUZZ_SEEDS_image := tests/fuzz_seeds/image
FUZZ_MAXLEN_image := 16384
FUZZ_SEEDS_solverstate := tests/fuzz_seeds/solverstate
FUZZ_SEEDS_caffemodel := tests/fuzz_seeds/caffemodel
FUZZ_SEEDS_datum := tests/fuzz_seeds/datum
FUZZ_MAXLEN_datum := 16384
fuzz: deps
	@$(MAKE) --no-print-directory BUILD=build/fuzz CC=clang OPT=-O1 \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined -Wno-pass-failed" build/fuzz/libcliff.a
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: FORCE
	clang -std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=fuzzer,address,undefined \
	  -Ibuild/fuzz/gen -I. $(PKG_CFLAGS) tests/fuzz_$*.c build/fuzz/libcliff.a \
	  $(PKG_LIBS) -lleveldb -lz -lm -fopenmp -pthread -o build/fuzz/fuzz_$*
	@mkdir -p build/fuzz/corpus_$*
	build/fuzz/fuzz_$* -max_total_time=$(or $(FUZZ_SECONDS_$*),$(FUZZ_SECONDS)) -max_len=$(or $(FUZZ_MAXLEN_$*),4096) \
	  -timeout=5 build/fuzz/corpus_$* $(FUZZ_SEEDS_$*)

# Every mutation in tests/mutants.txt applied to a scratch copy (build/mutants),
# rebuilt, and run against the tests named for it; fails if any survives.
mutants: deps
	@tools/mutants.py

# CI's bounded run: every target in FUZZ_CI_TARGETS for FUZZ_CI_SECONDS_<name>
# (default FUZZ_CI_SECONDS): the config readers 20 s, the others 8 s, 52 s
# of fuzzing in all, one target per core at a time (CI's whole run must stay
# under 20 minutes; make fuzz runs each target for a minute). Findings are kept in tests/fuzz_findings/ and replayed by
# the ordinary suite (tests/test_fuzz_findings.c).
FUZZ_CI_TARGETS ?= text image solverstate caffemodel datum
FUZZ_CI_SECONDS ?= 8
FUZZ_CI_SECONDS_text := 20
fuzz-ci:
	@$(MAKE) --no-print-directory fuzz FUZZ_TARGETS="$(FUZZ_CI_TARGETS)" FUZZ_SECONDS=$(FUZZ_CI_SECONDS) \
	  $(foreach t,$(FUZZ_CI_TARGETS),$(if $(FUZZ_CI_SECONDS_$(t)),FUZZ_SECONDS_$(t)=$(FUZZ_CI_SECONDS_$(t))))

# The README's "two commands" block, run as written in a clean clone of HEAD inside
# a bare Debian 12 root (debootstrap minbase, cached in $(BUILD)/fresh). Needs root
# and the Debian mirror, takes minutes: not part of make test.
fresh-check:
	@tools/fresh-check.sh $(BUILD)

clean:
	rm -rf build build-*

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
