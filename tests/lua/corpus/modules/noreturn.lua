noreturn_loaded = true
