"""COMPRESS=DEFLATE (RFC 4978) with an independent implementation: Python's
zlib speaking raw DEFLATE over the TLS socket.

Usage: compress_session.py HOST PORT CAFILE USER PASSWORD
"""
import imaplib
import socket
import ssl
import sys
import time
import zlib

host, port, cafile, user, password = sys.argv[1:6]
context = ssl.create_default_context(cafile=cafile)
sock = context.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
reader = sock.makefile("rb")

def line():
    return reader.readline().decode()

greeting = line()
assert "COMPRESS=DEFLATE" not in greeting, "only offered after login"
sock.sendall(f'a1 LOGIN {user} "{password}"\r\n'.encode())
ok = line()
assert ok.startswith("a1 OK") and "COMPRESS=DEFLATE" in ok, ok
sock.sendall(b"a2 COMPRESS DEFLATE\r\n")
assert line() == "a2 OK DEFLATE active\r\n"

compressor = zlib.compressobj(wbits=-15)
decompressor = zlib.decompressobj(wbits=-15)
pending = b""

def send(data):
    sock.sendall(compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))

def compressed_line():
    global pending
    while b"\r\n" not in pending:
        chunk = sock.recv(65536)
        assert chunk, "connection closed"
        pending += decompressor.decompress(chunk)
    text, pending = pending.split(b"\r\n", 1)
    return text.decode()

def command(tag, text):
    send(f"{tag} {text}\r\n".encode())
    lines = []
    while True:
        got = compressed_line()
        lines.append(got)
        if got.startswith(tag + " "):
            return lines

assert command("a3", "COMPRESS DEFLATE")[-1].startswith("a3 NO [COMPRESSIONACTIVE]")
message = "Subject: squeezed\r\n\r\n" + "compressible text " * 500 + "\r\n"
send(f"a4 APPEND INBOX {{{len(message)}+}}\r\n{message}\r\n".encode())
while not (got := compressed_line()).startswith("a4 "):
    pass
assert got.startswith("a4 OK"), got
lines = command("a5", "SELECT INBOX")
assert "* 1 EXISTS" in lines, lines
lines = command("a6", "FETCH 1 (RFC822.SIZE)")
assert lines[0] == f"* 1 FETCH (RFC822.SIZE {len(message)})", lines

# An IDLE push must come through the compressor at once.
send(b"a7 IDLE\r\n")
assert compressed_line() == "+ idling"
other = imaplib.IMAP4_SSL(host, int(port), ssl_context=context)
other.login(user, password)
started = time.monotonic()
other.append("INBOX", None, None, b"Subject: pushed\r\n\r\nx\r\n")
assert compressed_line() == "* 2 EXISTS"
latency = time.monotonic() - started
send(b"DONE\r\n")
while not (got := compressed_line()).startswith("a7 "):
    pass
assert got == "a7 OK IDLE terminated", got
assert command("a8", "LOGOUT")[0] == "* BYE Logging out"
print(f"compress ok, IDLE push {latency * 1000:.1f} ms")
