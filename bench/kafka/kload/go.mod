module kbroker.dev/bench/kload

go 1.21
