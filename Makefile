# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# make            build hcitrace into $(OUT) (default build/)
# make deps       install missing Debian packages, mount tracefs/bpffs/debugfs
# make demo       loop-device SSD + fio in a throwaway cgroup, traced
# make demo-guest a QEMU guest's I/O joined from guest to device (docs/guest.md)
# make test       build (with ASan/UBSan) and run the whole suite
# make bench      overhead vs. no tracer and vs. biolatency (docs/bench.md)
# make eval-throttle  container vs. VM contention, with and without hcithrottle
# make install    PREFIX (/usr/local), DESTDIR; make uninstall removes it again
# make deb        the Debian package, in $(OUT)/deb, with lintian (docs/install.md)
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
	-Wno-missing-field-initializers -Iinclude -Ilib -I. -I$(OUT)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
# libmicrohttpd: the /metrics server (lib/fmt/httpd.c); the static binaries
# link lib/fmt/static/httpd_none.c instead, so they never pull it in
LIBS := -lbpf -lelf -lz -lmicrohttpd
HTTPD_NONE := $(OUT)/obj/lib/fmt/static/httpd_none.o

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

# One folder per program over one library (docs/architecture.md):
#   lib/      libhci.a, shared by every program (core, bpf, host, wire)
#   trace/    hcitrace; guest/ its "guest" command, linked into it
#   throttle/ hcithrottle
# Each folder's .c files are its objects: a new file needs no edit here.
LIB_SRCS := $(sort $(wildcard lib/*/*.c))
TRACE_SRCS := $(sort $(wildcard trace/*.c guest/*.c))
THROTTLE_SRCS := $(sort $(wildcard throttle/*.c))
# objects under $(OUT)/obj (plain) and $(OUT)/asan (sanitized), by source path
objs = $(patsubst %.c,$(OUT)/$(1)/%.o,$(2))
# a program's objects but its main, for the unit tests
nomain = $(filter-out %/main.o,$(1))
UNIT_TESTS := $(sort $(notdir $(basename $(wildcard tests/unit/test_*.c))))

all: $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hcithrottle $(OUT)/hcithrottle-static \
	$(OUT)/hci-join-replay

deps:
	$(Q)tools/deps.sh

$(OUT) $(OUT)/asan:
	$(Q)mkdir -p $@

# BPF: one object per layer file (bpf/*.bpf.c), linked by libbpf's static
# linker into one object, then one skeleton (bpf/maps.bpf.c says why)
# maps.bpf.c first: libbpf 1.1's linker resolves an extern map only against
# a definition it has already seen
BPF_SRCS := bpf/maps.bpf.c $(filter-out bpf/maps.bpf.c,$(sort $(wildcard bpf/*.bpf.c)))
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))

$(OUT)/bpf:
	$(Q)mkdir -p $@

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.bpf.h include/*.h $(VMLINUX) | $(OUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(CLANG_BPF) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/hcitrace.bpf.o: $(BPF_OBJS) | $(OUT)
	$(call msg,GEN-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $(BPF_OBJS)

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# User space, plain and sanitized. The compiler writes each object's header
# dependencies (-MMD): a module that does not include the skeleton is not
# rebuilt when the BPF side changes; the skeleton only has to exist first.
$(OUT)/obj/%.o: %.c | $(OUT)/hcitrace.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/asan/%.o: %.c | $(OUT)/hcitrace.skel.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -MMD -MP -c $< -o $@

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)

.SECONDEXPANSION:

$(OUT)/%/libhci.a: $$(call objs,$$*,$(LIB_SRCS))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

# the programs' own modules, for unit tests of them
$(OUT)/%/libtrace.a: $$(call nomain,$$(call objs,$$*,$(TRACE_SRCS)))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/%/libthrottle.a: $$(call nomain,$$(call objs,$$*,$(THROTTLE_SRCS)))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUT)/hcitrace: $(call objs,obj,$(TRACE_SRCS)) $(OUT)/obj/libhci.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

# hcitrace guest runs inside VMs: one static binary, nothing to install there
$(OUT)/hcitrace-static: $(call objs,obj,$(TRACE_SRCS)) $(HTTPD_NONE) $(OUT)/obj/libhci.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -static $^ $(LIBS) -o $@

$(OUT)/asan/hcitrace: $(call objs,asan,$(TRACE_SRCS)) $(OUT)/asan/libhci.a
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -o $@

$(OUT)/hcithrottle: $(call objs,obj,$(THROTTLE_SRCS)) $(OUT)/obj/libhci.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -lm -o $@

# for the test guest's cgroup v2 scenario (tests/t/86-throttle-v2.t)
$(OUT)/hcithrottle-static: $(call objs,obj,$(THROTTLE_SRCS)) $(HTTPD_NONE) $(OUT)/obj/libhci.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) -static $^ $(LIBS) -lm -o $@

$(OUT)/asan/hcithrottle: $(call objs,asan,$(THROTTLE_SRCS)) $(OUT)/asan/libhci.a
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) $^ $(LIBS) -lm -o $@

# the join's cost offline, on a recorded or synthetic guest (tools/join-replay.sh)
$(OUT)/hci-join-replay: tools/join-replay.c $(OUT)/obj/libtrace.a $(OUT)/obj/libhci.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LIBS) -o $@

# unit tests, under sanitizers: each links the program modules and the
# library, and the linker takes only the objects it needs
UNIT_LIBS := $(OUT)/asan/libthrottle.a $(OUT)/asan/libtrace.a $(OUT)/asan/libhci.a
$(OUT)/asan/test_%: tests/unit/test_%.c tests/unit/tap.h $(UNIT_LIBS) | $(OUT)/asan
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(UNIT_LIBS) $(LIBS) -lm -o $@

# BPF tests: the real skeleton, driven with BPF_PROG_TEST_RUN (needs root)
$(OUT)/asan/test_kvm_bpf: tests/bpf/test_kvm_bpf.c tests/unit/tap.h $(OUT)/hcitrace.skel.h | $(OUT)/asan
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $< $(LIBS) -o $@

# libFuzzer target for the guest stream parser (tests/t/15-fuzz-wire.t runs it)
$(OUT)/fuzz_wire: tests/fuzz/fuzz_wire.c lib/wire/wire.c include/hci_wire.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG_BPF) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Iinclude \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_wire.c lib/wire/wire.c -o $@

# libFuzzer target for the record file reader (tests/t/17-fuzz-record.t runs it)
$(OUT)/fuzz_record: tests/fuzz/fuzz_record.c trace/record_read.c trace/record_read.h include/hci_record.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG_BPF) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -Iinclude -I. \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_record.c trace/record_read.c -o $@

# libFuzzer target for the QMP reply reader (tests/t/16-fuzz-qmp-reply.t runs it)
$(OUT)/fuzz_qmp_reply: tests/fuzz/fuzz_qmp_reply.c throttle/qmp_reply.c throttle/qmp_reply.h | $(OUT)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG_BPF) -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -I. \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		tests/fuzz/fuzz_qmp_reply.c throttle/qmp_reply.c -lm -o $@

# a VMM thread that reads with io_uring, then through the page cache (40-vmm.t)
$(OUT)/uring_then_read: tests/helpers/uring_then_read.c | $(OUT)
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< -luring -o $@

unit: $(addprefix $(OUT)/asan/,$(UNIT_TESTS)) $(OUT)/asan/test_kvm_bpf $(OUT)/fuzz_wire $(OUT)/fuzz_qmp_reply $(OUT)/fuzz_record \
	$(OUT)/uring_then_read

test: deps $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hcithrottle $(OUT)/hcithrottle-static \
	$(OUT)/hci-join-replay $(OUT)/asan/hcitrace \
	$(OUT)/asan/hcithrottle unit
	$(Q)OUT=$(abspath $(OUT)) tests/run

demo: deps $(OUT)/hcitrace
	$(Q)OUT=$(abspath $(OUT)) tools/demo.sh

# a guest's I/O, joined end to end (docs/guest.md)
demo-guest: deps $(OUT)/hcitrace $(OUT)/hcitrace-static
	$(Q)OUT=$(abspath $(OUT)) tools/demo-guest.sh

# issue 13's table (docs/bench.md); the guest rows need the static hcitrace,
# the join replay row hci-join-replay
bench: deps $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hci-join-replay
	$(Q)OUT=$(abspath $(OUT)) tools/bench.sh

# the contention experiment, with and without hcithrottle (docs/bench.md)
eval-throttle: deps $(OUT)/hcithrottle
	$(Q)OUT=$(abspath $(OUT)) tools/eval-throttle.sh

# make install [PREFIX=/usr/local] [DESTDIR=...]: the programs, the static
# hcitrace for guests, man pages, the systemd unit (its paths follow
# SBINDIR; its config stays /etc/hcikit/hcithrottle.conf, the programs'
# default), bash completion, the example config and the user docs.
# make uninstall with the same variables removes exactly those files.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/hcikit
UNITDIR ?= $(PREFIX)/lib/systemd/system
# bash-completion's own directory, moved under PREFIX (its .pc file has
# datadir=/usr/share); without bash-completion, the same path
ifeq ($(origin BASHCOMPDIR),undefined)
BASHCOMPDIR := $(or $(shell pkg-config --define-variable=datadir=$(PREFIX)/share \
	--variable=completionsdir bash-completion 2>/dev/null), \
	$(PREFIX)/share/bash-completion/completions)
endif
INSTALL ?= install
INST_DOCS := README.md docs/hcitrace.md docs/guest.md docs/hcithrottle.md docs/formats.md \
	$(wildcard docs/monitoring*.md docs/install.md)
INST_MAN8 := docs/man/hcitrace.8 docs/man/hcithrottle.8
INST_MAN5 := docs/man/hcithrottle.conf.5

.PHONY: install uninstall deb
install: $(OUT)/hcitrace $(OUT)/hcitrace-static $(OUT)/hcithrottle
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR)/hcikit \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR)/examples
	$(Q)$(INSTALL) -m 755 $(OUT)/hcitrace $(OUT)/hcithrottle $(DESTDIR)$(SBINDIR)/
	$(Q)$(INSTALL) -m 755 $(OUT)/hcitrace-static $(DESTDIR)$(LIBDIR)/hcikit/
	$(Q)$(INSTALL) -m 644 $(INST_MAN8) $(DESTDIR)$(MANDIR)/man8/
	$(Q)$(INSTALL) -m 644 $(INST_MAN5) $(DESTDIR)$(MANDIR)/man5/
	$(Q)sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/usr/share/doc/hcikit/|$(DOCDIR)/|g' \
		tools/hcithrottle.service > $(DESTDIR)$(UNITDIR)/hcithrottle.service
	$(Q)chmod 644 $(DESTDIR)$(UNITDIR)/hcithrottle.service
	$(Q)$(INSTALL) -m 644 tools/completion/hcikit.bash $(DESTDIR)$(BASHCOMPDIR)/hcitrace
	$(Q)ln -sf hcitrace $(DESTDIR)$(BASHCOMPDIR)/hcithrottle
	$(Q)$(INSTALL) -m 644 tools/hcithrottle.conf.example $(DESTDIR)$(DOCDIR)/examples/hcithrottle.conf
	$(Q)$(INSTALL) -m 644 $(INST_DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/hcitrace $(DESTDIR)$(SBINDIR)/hcithrottle \
		$(DESTDIR)$(LIBDIR)/hcikit/hcitrace-static \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(INST_MAN8))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(INST_MAN5))) \
		$(DESTDIR)$(UNITDIR)/hcithrottle.service \
		$(DESTDIR)$(BASHCOMPDIR)/hcitrace $(DESTDIR)$(BASHCOMPDIR)/hcithrottle \
		$(DESTDIR)$(DOCDIR)/examples/hcithrottle.conf \
		$(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INST_DOCS)))
	$(Q)rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBDIR)/hcikit 2>/dev/null || true

# make deb: the Debian package (debian/), built by dpkg-buildpackage -b in a
# copy of this tree's files (tracked, and new ones not ignored; outside git,
# all but build/) under
# $(OUT)/deb, so that nothing is written here; the .deb lands in $(OUT)/deb.
# lintian's tags are printed, not enforced (docs/install.md lists them).
# The copy's build runs with none of this make's variables: its clean
# target would otherwise remove O= (this very directory).
DEB_DIR := $(OUT)/deb
deb:
	$(call msg,DEB,$(DEB_DIR))
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	$(Q){ git ls-files -z --cached --others --exclude-standard 2>/dev/null || \
		find . \( -path ./build -o -path ./.git \) -prune -o -type f -print0; } | \
		tar -c --null -T - --ignore-failed-read -f - 2>/dev/null | tar -x -C $(DEB_DIR)/src -f -
	$(Q)cd $(DEB_DIR)/src && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u O -u OUT \
		dpkg-buildpackage -b -us -uc > ../build.log 2>&1 || \
		{ tail -30 ../build.log; echo "Error: dpkg-buildpackage failed: $(DEB_DIR)/build.log" >&2; exit 1; }
	$(Q)rm -rf $(DEB_DIR)/src	# its build's *.d files would join this make's
	$(Q)ls $(DEB_DIR)/*.deb
	$(Q)lintian --display-info --show-overrides --tag-display-limit 0 $(DEB_DIR)/*.changes 2>&1 | \
		grep -v 'root privileges' | tee $(DEB_DIR)/lintian.txt; \
		echo "lintian: $$(grep -c '^[EW]:' $(DEB_DIR)/lintian.txt) errors and warnings ($(DEB_DIR)/lintian.txt)"

vmlinux:
	$(Q)tools/gen-vmlinux-h

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)
