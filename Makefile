# snkit — one target per job. `make help` lists them.
CARGO ?= cargo
# The commands: the root Cargo.toml's [[bin]] names, the one list of them (the e2e checks read it too).
TOOLS := $(shell awk '/^\[/ { bin = ($$0 == "[[bin]]") } bin && /^name *=/ { gsub(/^name *= *"|".*$$/, ""); print }' Cargo.toml)
PREFIX ?= /usr/local

.PHONY: help build test bench completions check-completions man check-man install demo lint fmt clean

help:
	@echo "make demo         start a local testnet, send a message between two identities, stop it"
	@echo "make test         every unit and end-to-end test (what CI runs)"
	@echo "make bench        benchmarks: figures against the targets in the issues"
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
