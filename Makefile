# SASE multi-account management: make help lists the targets.
SHELL := /bin/bash
GO ?= go
PKGS := ./...
BUNDLE ?= dist/sase-multiaccount.tar.gz

.PHONY: help run test test-short cover ots-sdk-suite bench lint vet clean build package deploy deploy-check role-policy tables screenshots

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*## "}{printf "  %-13s %s\n", $$1, $$2}'

run: ## Serve the console at http://127.0.0.1:PORT/ (default 9000) and every function at /<name>, embedded store and simulated RD (data in .local/)
	$(GO) run ./scripts/localserver

test: vet ## Run every test offline, with the race detector
	$(GO) test -race -count=1 $(PKGS)

test-short: vet ## The inner loop, under a minute: every test but the browser, the built-binary crash and start-up tests and README's walk-through; no race detector
	$(GO) test -short -count=1 $$($(GO) list $(PKGS) | grep -v /shared/console/browser)

cover: ## Run every test with coverage; writes coverage.out and prints the total (go tool cover -html=coverage.out for the detail)
	$(GO) test -count=1 -coverpkg=./shared/...,./deploy/...,./scripts/... -coverprofile=coverage.out $(PKGS) >/dev/null
	@$(GO) tool cover -func=coverage.out | tail -1

screenshots: ## Write docs/images/*.png (setup, member table, Added Member dialog, Auto-enrollment, Access, audit trail, Integrations) with headless Chromium
	SCREENSHOTS_DIR=$(CURDIR)/docs/images $(GO) test -count=1 -run '^TestScreenshots$$' ./shared/console/browser

bench: ## Run the benchmarks of the hot paths (list/add on 10,000 members, token check, ...)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $${BENCHTIME:-100x} $(PKGS)

vet: ## go vet and a gofmt check
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: vet ## vet, gofmt, go mod tidy -diff and staticcheck (fetched through the Go module proxy; ST1005 off: "Ref" is a ROS name)
	$(GO) mod tidy -diff
	$(GO) run $(STATICCHECK) -checks 'inherit,-ST1005' $(PKGS)

build: ## Build every function for FC (linux/amd64, CGO_ENABLED=0, -trimpath, stripped) into dist/<function>.zip; print sizes
	$(GO) run ./scripts/build

package: ## Build, then bundle s*.yaml, template.yaml, docs/DEPLOY.md and the zips (BUNDLE=dist/sase-multiaccount.tar.gz)
	$(GO) run ./scripts/build -bundle $(BUNDLE)

deploy-check: ## Check the deploy environment and resolve s.yaml offline, as make deploy would (docs/DEPLOY.md)
	$(GO) run ./scripts/deploy check

deploy: build ## Deploy with Serverless Devs: function role, tables, functions and triggers (s deploy); docs/DEPLOY.md
	$(GO) run ./scripts/deploy deploy

role-policy: ## Print the function role's trust and least-privilege policy for your instance and account
	$(GO) run ./scripts/deploy role-policy

tables: ## Create or check the Tablestore tables (operator credentials; make deploy runs it)
	$(GO) run ./scripts/create-tables

clean: ## Remove build output (keeps .local/ data)
	rm -rf dist bin coverage.out

ots-sdk-suite: ## Run the Tablestore SDK's own integration suite against the fake (at least 21 of its 22 in-scope tests must pass; 1-2 min)
	$(GO) run ./scripts/ots-sdk-suite
