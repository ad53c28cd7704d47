-- wrk script: password sign-ins with a valid account, as a same-origin browser would post them.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Origin"] = os.getenv("BENCH_ORIGIN")
wrk.body = os.getenv("BENCH_BODY")
