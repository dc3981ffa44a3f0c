# snkit — one target per job. `make help` lists them.
CARGO ?= cargo
# The commands: the root Cargo.toml's [[bin]] names, the one list of them (the e2e checks read it too).
TOOLS := $(shell awk '/^\[/ { bin = ($$0 == "[[bin]]") } bin && /^name *=/ { gsub(/^name *= *"|".*$$/, ""); print }' Cargo.toml)
PREFIX ?= /usr/local

.PHONY: help build test bench fuzz completions check-completions man check-man install demo lint fmt clean

help:
	@echo "make demo         start a local testnet, send a message between two identities, stop it"
	@echo "make test         every unit and end-to-end test (what CI runs)"
	@echo "make bench        benchmarks: figures against the targets in the issues"
	@echo "make fuzz         run every fuzz target for FUZZ_SECONDS each (default 60; needs cargo-fuzz)"
	@echo "make completions  regenerate completions/ from the clap definitions"
	@echo "make man          regenerate man/<cmd>.1 from the clap definitions"
	@echo "make install      install the commands into \$$(PREFIX)/bin, their man pages into \$$(PREFIX)/share/man/man1"
	@echo "make lint         rustfmt, clippy and rustdoc, warnings as errors (what CI runs before the tests)"

build:
	$(CARGO) build --release --bins

test:
	$(CARGO) test --workspace

bench:
	$(CARGO) bench --bench snkit

# The fuzz targets: lib/fuzz/Cargo.toml's [[bin]] names. Stable toolchain, no sanitizer (-s none):
# coverage comes from libFuzzer's sancov instrumentation, which needs no nightly flag. New inputs go
# to target/fuzz-corpus/<target> (scratch); the committed seeds in lib/fuzz/corpus/<target> are read
# only. A crash leaves its input in lib/fuzz/artifacts/<target>/ and fails the run.
FUZZ_TARGETS := $(shell awk '/^\[/ { bin = ($$0 == "[[bin]]") } bin && /^name *=/ { gsub(/^name *= *"|".*$$/, ""); print }' lib/fuzz/Cargo.toml)
FUZZ_SECONDS ?= 60

fuzz:
	@command -v cargo-fuzz >/dev/null || { echo "make fuzz needs cargo-fuzz: cargo install cargo-fuzz" >&2; exit 2; }
	cd lib && $(CARGO) fuzz build -s none -O --fuzz-dir fuzz
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p target/fuzz-corpus/$$t; \
	  (cd lib && $(CARGO) fuzz run -s none -O --fuzz-dir fuzz $$t ../target/fuzz-corpus/$$t fuzz/corpus/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -dict=fuzz/json.dict -print_final_stats=1) \
	    > target/fuzz-$$t.log 2>&1; rc=$$?; \
	  echo "$$t: $$(grep -o 'number_of_executed_units: [0-9]*' target/fuzz-$$t.log) executions in $(FUZZ_SECONDS) s"; \
	  if [ $$rc -ne 0 ]; then tail -40 target/fuzz-$$t.log; exit 1; fi; \
	done

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps

fmt:
	$(CARGO) fmt --all

# Every command prints its own completion script when SNKIT_GENERATE_COMPLETIONS names a shell.
completions:
	$(CARGO) build --bins
	@for t in $(TOOLS); do \
	  SNKIT_GENERATE_COMPLETIONS=bash target/debug/$$t > completions/bash/$$t && \
	  SNKIT_GENERATE_COMPLETIONS=zsh  target/debug/$$t > completions/zsh/_$$t && \
	  SNKIT_GENERATE_COMPLETIONS=fish target/debug/$$t > completions/fish/$$t.fish || exit 1; \
	done
	@echo "completions/ regenerated"

# Fails when a committed completion script differs from what its command generates now.
check-completions:
	$(CARGO) test --test e2e identity::committed_completions_match_the_commands

# Every command prints its man page when SNKIT_GENERATE_MAN is set.
man:
	$(CARGO) build --bins
	@mkdir -p man
	@for t in $(TOOLS); do SNKIT_GENERATE_MAN=1 target/debug/$$t > man/$$t.1 || exit 1; done
	@echo "man/ regenerated"

# Fails when a committed man page differs from what its command generates now.
check-man:
	$(CARGO) test --test e2e identity::committed_man_pages_match_the_commands

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	@for t in $(TOOLS); do install -m 0755 target/release/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done
	@for t in $(TOOLS); do install -m 0644 man/$$t.1 $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1; done

demo:
	$(CARGO) build --release --bins
	./scripts/demo.sh

clean:
	$(CARGO) clean
