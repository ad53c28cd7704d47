# The two commands of the README. Everything else is in scripts/.
.PHONY: run dev test e2e screenshots bench setup

run:   ## install what is missing, build, and serve http://localhost:3000
	@bash scripts/run.sh

dev:   ## the same with cargo leptos watch (live reload) for designers
	@bash scripts/run.sh --watch

test:  ## every check and test: fmt, shellcheck, clippy, unit, integration, .sqlx, Playwright
	@bash scripts/test.sh

e2e:   ## only the Playwright suite
	@bash scripts/test.sh e2e

screenshots: ## after an intended visual change: new gallery baselines (review, then commit them)
	@bash scripts/test.sh dev --update-snapshots

bench: ## bundle size and sign-in throughput
	@bash bench/run.sh

setup: ## only install the tools
	@bash scripts/setup.sh
