# mlsh — build, test, install.
#
#   make            build ./mlsh
#   make deps       install the Debian packages mlsh needs (idempotent)
#   make test       run the whole suite (unit, regress, interactive); last line "N passed, N failed"
#   make asan       build ./mlsh-asan with ASan+UBSan; `make test ASAN=1` runs the suite with it
#   make fuzz       build and briefly run the libFuzzer targets
#   make check-layers  the include rules of docs/architecture.md (scripts/check-layers.sh)
#   make bench      benchmarks (never part of make test)
#   make demo       the README's main job: the whole session in the lab (root)
#   make tour       a short tour against a local moto (no root)
#   make install PREFIX=/usr/local

VERSION  := 0.1.0
PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := libedit libcurl openssl libcjson libssh2 lua5.4 expat
DEB_PKGS := build-essential pkg-config libedit-dev libcurl4-openssl-dev libssl-dev libcjson-dev \
            libssh2-1-dev liblua5.4-dev libexpat1-dev tmux clang openssh-server iproute2 nftables openssh-client sudo python3-numpy shellcheck \
            python3-torch python3-torchvision jupyter-notebook chromium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS   ?= -O2 -g
# Option tables (shell/cmd.h) list their fields in order and leave the
# trailing ones (a number's range) zero: no missing-field warning for them.
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
            -Wno-missing-field-initializers -MMD -MP \
            -I. -DMLSH_VERSION='"$(VERSION)"' $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) -lm

LIB_SRCS := $(filter-out shell/main.c, $(wildcard lib/*.c shell/*.c stack/*.c builtins/*.c aws/*.c remote/*.c lab/*.c))
GEN_SRCS := builtins/api_actions.inc builtins/api_shapes.inc
B        := build
ifeq ($(ASAN),1)
B        := build-asan
CC       := clang
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
MLSH_BIN := $(if $(filter 1,$(ASAN)),mlsh-asan,mlsh)

.PHONY: all deps test unit asan fuzz bench demo tour install clean docs check-layers

all: $(MLSH_BIN)

$(MLSH_BIN): $(B)/shell/main.o $(B)/libmlsh.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/libmlsh.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# Scripts carried in the binary (stack/userdata.c): user-data, the
# notebook's OnStart, the Grafana dashboard. They stay reviewable in scripts/.
EMBED := scripts/userdata/node.sh scripts/userdata/metrics.sh \
         scripts/userdata/autostop.sh \
         scripts/userdata/grafana.sh scripts/notebook-onstart.sh \
         scripts/notebook-autostop.py \
         scripts/grafana-dashboard.json
$(B)/gen/embedded.inc: $(EMBED) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $(EMBED) > $@.tmp && mv $@.tmp $@
$(B)/stack/userdata.o: $(B)/gen/embedded.inc
$(B)/stack/userdata.o: CFLAGS += -I$(B)/gen
# The lab's own Python (moto's SageMaker additions, the notebook's Jupyter
# configuration), carried the same way (lab/notebook.c).
LAB_EMBED := lab/motoext.py lab/jupyter_config.py
$(B)/gen/lab_embedded.inc: $(LAB_EMBED) scripts/embed.sh
	@mkdir -p $(dir $@)
	sh scripts/embed.sh $(LAB_EMBED) > $@.tmp && mv $@.tmp $@
$(B)/lab/notebook.o: $(B)/gen/lab_embedded.inc
$(B)/lab/notebook.o: CFLAGS += -I$(B)/gen

$(B)/tests/%: tests/unit/%.c $(B)/libmlsh.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(B)/libmlsh.a $(LDLIBS)

deps:
	@missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: all installed"; fi

unit: $(UNIT_BINS)

# Groups run in TEST_JOBS lanes at once (tests/run -j; 1 runs them in order).
TEST_JOBS ?= 2
test: check-layers $(MLSH_BIN) $(UNIT_BINS)
	@MLSH=$(CURDIR)/$(MLSH_BIN) B=$(B) DRIVER_CC="$(CC) $(LDFLAGS)" TEST_SANITIZED=$(if $(filter 1,$(ASAN)),1,0) tests/run -j$(TEST_JOBS)

asan:
	$(MAKE) ASAN=1

check-layers:
	@scripts/check-layers.sh

fuzz:
	@tests/fuzz/run

bench: all
	@bench/run

demo: all
	scripts/demo.sh

tour: all
	scripts/tour.sh

docs: all
	./mlsh --gen-docs > docs/commands.md

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 mlsh $(DESTDIR)$(PREFIX)/bin/mlsh
	install -m 0644 docs/mlsh.1 $(DESTDIR)$(PREFIX)/share/man/man1/mlsh.1
	install -m 0644 completions/mlsh.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/mlsh

clean:
	rm -rf build build-asan build-fuzz mlsh mlsh-asan

-include $(LIB_OBJS:.o=.d) $(B)/shell/main.d
