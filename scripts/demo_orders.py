#!/usr/bin/env python3
"""The demo's tiny TCP service and its clients (scripts/demo.sh part 3, docs/quickstart.md).

  demo_orders.py serve PORT NAME      the provider's service: reads an optional PROXY protocol v2
                                      header (what privlink writes when the private link service
                                      has enableProxyProtocol), answers HTTP GETs with what it
                                      learned about the connection (TCP source, PROXY v2 client,
                                      endpoint and LinkID TLV 0xEE), echoes "ping N" lines with
                                      "pong N"; connections that send nothing (health probes) are
                                      closed quietly
  demo_orders.py stream HOST PORT     keeps one connection busy: "ping N" every 0.2 s, prints each
                                      "pong N", and "stream cut after N round trips: <why>" when
                                      the connection breaks
  demo_orders.py listen PORT          prints "ACCEPTED a connection from A:P" for every connection
"""
import socket, struct, sys, threading, time

SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"

def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data

def proxy_header(conn):
    """Returns (description or None, bytes already read that belong to the payload)."""
    head = b""
    while len(head) < 16:  # read on only while the bytes can still be a PROXY v2 header
        chunk = conn.recv(16 - len(head))
        if not chunk:
            break
        head += chunk
        if not SIGNATURE.startswith(head[:12]):
            return None, head
    if len(head) < 16:
        return None, head
    length = struct.unpack("!H", head[14:16])[0]
    body = read_exact(conn, length)
    if head[13] != 0x11 or len(body) < 12:  # TCP over IPv4
        return "PROXY v2 (family %#x)" % head[13], b""
    src, dst = socket.inet_ntoa(body[0:4]), socket.inet_ntoa(body[4:8])
    sport, dport = struct.unpack("!HH", body[8:12])
    link, tlvs = None, body[12:]
    while len(tlvs) >= 3:
        kind, size = tlvs[0], struct.unpack("!H", tlvs[1:3])[0]
        value, tlvs = tlvs[3:3 + size], tlvs[3 + size:]
        if kind == 0xEE and len(value) == 5 and value[0] == 0x01:
            link = struct.unpack("<I", value[1:5])[0]
    return "client=%s:%d endpoint=%s:%d linkid=%s" % (src, sport, dst, dport, link), b""

def read_lines(conn, data):
    while True:
        while b"\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                if data:
                    yield data
                return
            data += chunk
        line, data = data.split(b"\n", 1)
        yield line + b"\n"

def serve_one(conn, peer, me):
    try:
        header, rest = proxy_header(conn)
        if not rest and header is None:
            return  # a health probe: connects and closes
        lines = read_lines(conn, rest)
        first = next(lines, b"")
        print("connection from %s:%d%s" % (peer[0], peer[1],
              "" if header is None else "; PROXY v2 " + header), flush=True)
        if first.startswith(b"GET "):
            for line in lines:
                if line in (b"\r\n", b"\n"):
                    break
            text = "Contoso orders service on %s\n" % me
            text += "  TCP source seen here: %s:%d\n" % peer
            text += "  PROXY v2 header: %s\n" % (header or "none")
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(text)).encode() + b"\r\n\r\n" + text.encode())
            return
        line = first
        while line.startswith(b"ping"):
            conn.sendall(b"pong" + line[4:])
            line = next(lines, b"")
    except OSError:
        pass
    finally:
        conn.close()

def listen_on(port, backlog):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", port))
    listener.listen(backlog)
    print("listening on port %d" % port, flush=True)
    return listener

def serve(port, me):
    listener = listen_on(port, 64)
    while True:
        conn, peer = listener.accept()
        threading.Thread(target=serve_one, args=(conn, peer, me), daemon=True).start()

def stream(host, port):
    sock = socket.create_connection((host, port), timeout=3)
    reader = sock.makefile("rb")
    n = 0
    try:
        while True:
            n += 1
            sock.sendall(b"ping %d\n" % n)
            line = reader.readline()
            if not line:
                raise ConnectionError("the connection was closed")
            print(line.decode().strip(), flush=True)
            time.sleep(0.2)
    except (OSError, ConnectionError) as e:
        print("stream cut after %d round trips: %s" % (n - 1, e), flush=True)

def listen_once(port):
    listener = listen_on(port, 8)
    while True:
        conn, peer = listener.accept()
        print("ACCEPTED a connection from %s:%d" % peer, flush=True)
        conn.close()

if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "stream":
        stream(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "listen":
        listen_once(int(sys.argv[2]))
