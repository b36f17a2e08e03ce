# crest: checkpoint/restore for Linux process trees.
#   make deps    install build/test dependencies (Debian, as root), then build
#   make         build ./crest, libcrest.a and the test programs
#   make test    run the C/R test suite (as root)
#   make bench   run the benchmarks
CC      ?= gcc
BUILD   ?= build
CREST_BIN ?= crest
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -fno-strict-aliasing \
           -D_GNU_SOURCE -Iinclude -Ilib -I$(BUILD)/images
SAN     ?=
CFLAGS  += $(SAN)
LDLIBS  := -lprotobuf-c -lxxhash -lzstd -lmnl -lnftables -larchive

PROTOS  := $(wildcard images/*.proto)
PB_C    := $(patsubst images/%.proto,$(BUILD)/images/%.pb-c.c,$(PROTOS))
PB_H    := $(PB_C:.c=.h)
LIB_SRC := $(wildcard lib/*/*.c)
LIB_OBJ := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC)) $(PB_C:.c=.o)
TEST_SRC := $(wildcard tests/progs/*.c)
TEST_BIN := $(patsubst tests/progs/%.c,tests/bin/%,$(TEST_SRC))
TEST_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE -Itests/lib

all: $(CREST_BIN) tests $(BUILD)/counter

$(BUILD)/counter: examples/counter.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

demo: $(CREST_BIN) $(BUILD)/counter
	bash scripts/demo.sh

$(CREST_BIN): $(BUILD)/cli/crest.o $(BUILD)/libcrest.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libcrest.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/images/%.pb-c.c $(BUILD)/images/%.pb-c.h: images/%.proto
	@mkdir -p $(BUILD)/images
	protoc-c --c_out=$(BUILD)/images -Iimages $<

$(BUILD)/images/%.pb-c.o: $(BUILD)/images/%.pb-c.c
	$(CC) $(filter-out -Werror,$(CFLAGS)) -c -o $@ $<

# a schema may import another (files.proto imports anonfd.proto)
$(PB_C:.c=.o): $(PB_H)

$(BUILD)/lib/%.o: lib/%.c $(PB_H) $(wildcard lib/*/*.h) include/crest.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/cli/%.o: cli/%.c include/crest.h
	@mkdir -p $(BUILD)/cli
	$(CC) $(CFLAGS) -c -o $@ $<

tests: $(TEST_BIN)

tests/bin/%: tests/progs/%.c $(wildcard tests/lib/*.h) $(wildcard tests/lib/*.c)
	@mkdir -p tests/bin
	$(CC) $(TEST_CFLAGS) -o $@ $< $(wildcard tests/lib/*.c) -lrt -lpthread

deps:
	bash scripts/deps.sh
	$(MAKE) all

test: all
	bash tests/run

$(BUILD)/bigmem: bench/bigmem.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

$(BUILD)/tree: bench/tree.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

bench: all $(BUILD)/bigmem $(BUILD)/tree
	bash bench/run

# crest built with AddressSanitizer + UBSan, run through the whole suite
check-san:
	$(MAKE) BUILD=build-san CREST_BIN=crest-san SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" crest-san
	bash tests/run --crest ./crest-san

# libFuzzer target over image reading (fuzz/fuzz_show.c), libcrest built
# with clang, ASan and UBSan; fuzz-run: FUZZ_TIME seconds from fuzz/seeds
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
fuzz:
	$(MAKE) BUILD=build-fuzz CC=$(FUZZ_CC) SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libcrest.a
	$(FUZZ_CC) -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Ilib -Ibuild-fuzz/images \
		-o build-fuzz/fuzz_show fuzz/fuzz_show.c build-fuzz/libcrest.a $(LDLIBS)

fuzz-run: fuzz
	mkdir -p build-fuzz/corpus
	build-fuzz/fuzz_show -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
		build-fuzz/corpus fuzz/seeds 2>build-fuzz/fuzz.log || { tail -40 build-fuzz/fuzz.log; exit 1; }
	tail -1 build-fuzz/fuzz.log

clean:
	rm -rf $(BUILD) build-san build-fuzz crest crest-san tests/bin

.PHONY: all tests deps test bench clean demo check-san fuzz fuzz-run
.SECONDARY: $(PB_C) $(PB_H)
