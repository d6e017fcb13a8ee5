# roster — build, run and test. `make run` and `make test` are the whole set-up.

GO        ?= go
BIN       := bin
PKGS      := ./...
FUZZTIME  ?= 1s
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/roster-registry/roster/internal/buildinfo.Version=$(VERSION)

.PHONY: all build run test test-unit fuzz bench fmt lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/ ./cmd/...

## run: build and start `roster integrated` (meta + data + session, SQLite under ./var/).
run: build
	./$(BIN)/roster integrated

## test: lint, every package's tests with the race detector, then a short fuzz of every decoder.
test: lint test-unit fuzz

test-unit:
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

## fuzz: run every fuzz target for FUZZTIME (seed corpora also run in test-unit).
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; \
			$(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg >/dev/null || \
				{ echo "FAIL: fuzz $$f in $$pkg (see testdata/fuzz for the failing input)"; exit 1; }; \
		done; \
	done

## bench: Go micro-benchmarks of all packages.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=1s $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

lint:
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf $(BIN) var
