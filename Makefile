# SASE multi-account management: make help lists the targets.
SHELL := /bin/bash
GO ?= go
PKGS := ./...

.PHONY: help run test bench lint vet fmt clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-10s %s\n", $$1, $$2}'

run: ## Serve every function on 127.0.0.1:PORT (default 9000) with embedded store and simulated RD (data in .local/)
	$(GO) run ./scripts/localserver

test: vet ## Run every test offline, with the race detector
	$(GO) test -race -count=1 $(PKGS)

bench: ## Run the benchmarks of the hot paths (list/add on 10,000 members, token check, ...)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $${BENCHTIME:-100x} $(PKGS)

vet: ## go vet and a gofmt check
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

lint: vet ## Same as vet (no extra linters are fetched)

clean: ## Remove build output (keeps .local/ data)
	rm -rf dist bin
