# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make            build hcitrace into $(OUT) (default build/)
# make deps       install missing Debian packages, mount tracefs/bpffs/debugfs
# make demo       loop-device SSD + fio in a throwaway cgroup, traced
# make demo-guest a QEMU guest's I/O joined from guest to device (docs/guest.md)
# make test       build (with ASan/UBSan) and run the whole suite
# make bench      overhead vs. no tracer and vs. biolatency (docs/bench.md)
# make eval-throttle  container vs. VM contention, with and without hcithrottle
# V=1 for verbose output, O=DIR for out-of-tree output.

OUT := $(if $(O),$(O),build)
ARCH := x86
CLANG_BPF ?= clang-19
BPFTOOL ?= bpftool
CC ?= cc

VMLINUX := vmlinux/$(ARCH)/vmlinux.h
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	-Wall -Werror -Werror=undef -Iinclude -Ibpf -Ivmlinux/$(ARCH)
USER_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-Wno-missing-field-initializers -Iinclude -Isrc -I$(OUT)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
LIBS := -lbpf -lelf -lz

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps demo demo-guest eval-throttle test unit bench clean vmlinux

BPF_APPS := hcitrace
HCITRACE_OBJS := hcitrace tracer child guest chan join jout env origin hist output devs probe cgroups vmm wire
HCITHROTTLE_OBJS := hcithrottle tracer tconf policy enforce qmp json cgroups devs origin hist probe vmm
UNIT_TESTS := test_hist test_origin test_output test_env test_vmm test_wire test_join test_tconf test_policy test_json test_devs

all: $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hcithrottle $(OUT)/hcithrottle-static

deps:
	$(Q)tools/deps.sh

$(OUT) $(OUT)/asan:
	$(Q)mkdir -p $@

# BPF object -> linked object -> skeleton
$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/*.bpf.h include/*.h $(VMLINUX) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG_BPF) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# user space, plain and sanitized
$(OUT)/%.o: src/%.c src/*.h include/*.h $(OUT)/hcitrace.skel.h | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUT)/asan/%.o: src/%.c src/*.h include/*.h $(OUT)/hcitrace.skel.h | $(OUT)/asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUT)/hcitrace: $(addprefix $(OUT)/,$(addsuffix .o,$(HCITRACE_OBJS)))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

$(OUT)/hcithrottle: $(addprefix $(OUT)/,$(addsuffix .o,$(HCITHROTTLE_OBJS)))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -lm -o $@

# for the test guest's cgroup v2 scenario (tests/t/86-throttle-v2.t)
$(OUT)/hcithrottle-static: $(addprefix $(OUT)/,$(addsuffix .o,$(HCITHROTTLE_OBJS)))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -static $^ $(LIBS) -lm -o $@

$(OUT)/asan/hcithrottle: $(addprefix $(OUT)/asan/,$(addsuffix .o,$(HCITHROTTLE_OBJS)))
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -lm -o $@

# hcitrace guest runs inside VMs: one static binary, nothing to install there
$(OUT)/hcitrace-static: $(addprefix $(OUT)/,$(addsuffix .o,$(HCITRACE_OBJS)))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -static $^ $(LIBS) -o $@

$(OUT)/asan/hcitrace: $(addprefix $(OUT)/asan/,$(addsuffix .o,$(HCITRACE_OBJS)))
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -o $@

# unit tests: pure modules linked without the BPF skeleton, under sanitizers
UNIT_DEPS_test_hist := hist
UNIT_DEPS_test_origin := origin
UNIT_DEPS_test_output := output hist origin
UNIT_DEPS_test_env := env origin
UNIT_DEPS_test_vmm := vmm origin devs
UNIT_DEPS_test_wire := wire
UNIT_DEPS_test_join := join wire
UNIT_DEPS_test_tconf := tconf origin
UNIT_DEPS_test_policy := policy
UNIT_DEPS_test_json := json qmp
UNIT_DEPS_test_devs := devs
$(OUT)/asan/test_%: tests/unit/test_%.c tests/unit/tap.h src/*.c src/*.h | $(OUT)/asan
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $< \
		$(addprefix src/,$(addsuffix .c,$(UNIT_DEPS_test_$*))) $(LIBS) -o $@

# BPF tests: the real skeleton, driven with BPF_PROG_TEST_RUN (needs root)
$(OUT)/asan/test_kvm_bpf: tests/bpf/test_kvm_bpf.c tests/unit/tap.h $(OUT)/hcitrace.skel.h | $(OUT)/asan
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(LIBS) -o $@

# libFuzzer target for the guest stream parser (tests/t/15-fuzz-wire.t runs it)
$(OUT)/fuzz_wire: tests/fuzz/fuzz_wire.c src/wire.c include/hci_wire.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG_BPF) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Iinclude \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_wire.c src/wire.c -o $@

# libFuzzer target for the QMP JSON reader (tests/t/16-fuzz-json.t runs it)
$(OUT)/fuzz_json: tests/fuzz/fuzz_json.c src/json.c src/json.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG_BPF) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Isrc \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_json.c src/json.c -lm -o $@

unit: $(addprefix $(OUT)/asan/,$(UNIT_TESTS)) $(OUT)/asan/test_kvm_bpf $(OUT)/fuzz_wire $(OUT)/fuzz_json

test: deps $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hcithrottle $(OUT)/hcithrottle-static \
	$(OUT)/asan/hcitrace \
	$(OUT)/asan/hcithrottle unit
	$(Q)OUT=$(abspath $(OUT)) tests/run

demo: deps $(OUT)/hcitrace
	$(Q)OUT=$(abspath $(OUT)) tools/demo.sh

# a guest's I/O, joined end to end (docs/guest.md)
demo-guest: deps $(OUT)/hcitrace $(OUT)/hcitrace-static
	$(Q)OUT=$(abspath $(OUT)) tools/demo-guest.sh

bench: deps $(OUT)/hcitrace
	$(Q)OUT=$(abspath $(OUT)) tools/bench.sh

# the contention experiment, with and without hcithrottle (docs/bench.md)
eval-throttle: deps $(OUT)/hcithrottle
	$(Q)OUT=$(abspath $(OUT)) tools/eval-throttle.sh

vmlinux:
	$(Q)tools/gen-vmlinux-h

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)
