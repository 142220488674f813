# Shared by compare.sh and soak.sh (sourced).

# self_signed_cert DIR: a throwaway P-256 certificate for localhost in
# DIR/cert.pem and DIR/key.pem (the benchmark clients do not verify it).
self_signed_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj /CN=localhost -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

# wait_for_port PORT: until something listens on 127.0.0.1:PORT (10 s).
wait_for_port() {
    for _ in $(seq 100); do
        (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
