# snkit — one target per job. `make help` lists them.
CARGO ?= cargo
TOOLS := keygen mnemonic swarm-of pow onion-wrap send retrieve ratchet snode testnet attach
PREFIX ?= /usr/local

.PHONY: help build test bench completions check-completions install demo lint fmt clean

help:
	@echo "make demo         start a local testnet, send a message between two identities, stop it"
	@echo "make test         every unit and end-to-end test (what CI runs)"
	@echo "make bench        benchmarks: figures against the targets in the issues"
	@echo "make completions  regenerate completions/ from the clap definitions"
	@echo "make install      install the commands into \$$(PREFIX)/bin"
	@echo "make lint         rustfmt + clippy"

build:
	$(CARGO) build --release --bins

test:
	$(CARGO) test --workspace

bench:
	$(CARGO) bench --bench snkit

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --lib --bins -- -D warnings

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

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	@for t in $(TOOLS); do install -m 0755 target/release/$$t $(DESTDIR)$(PREFIX)/bin/$$t; done

demo:
	$(CARGO) build --release --bins
	./scripts/demo.sh

clean:
	$(CARGO) clean
