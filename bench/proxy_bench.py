# Round trips and throughput direct and through `chaosdeck proxy` (see bench/proxy.sh).
import socket, threading, time, json, urllib.request, sys
api = sys.argv[1]
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(16)
def serve():
    while True:
        c,_ = srv.accept()
        def echo(c=c):
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                d = c.recv(65536)
                if not d: return
                c.sendall(d)
        threading.Thread(target=echo, daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
up = srv.getsockname()
req = urllib.request.Request(api + "/proxies", data=json.dumps({"name":"b","listen":"127.0.0.1:0","upstream":"%s:%d"%up}).encode(), method="POST")
listen = json.load(urllib.request.urlopen(req))["listen"]
h, p = listen.rsplit(":", 1)
def rtt(addr, n=3000):
    s = socket.create_connection(addr); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(200): s.sendall(b"x"*64); s.recv(64)
    t = time.perf_counter()
    for _ in range(n): s.sendall(b"x"*64); s.recv(64)
    return (time.perf_counter()-t)/n*1e3
def tput(addr, total=200*1024*1024):
    s = socket.create_connection(addr)
    buf = b"x"*65536; got = 0
    def reader():
        nonlocal got
        while got < total:
            d = s.recv(1<<20)
            if not d: break
            got += len(d)
    r = threading.Thread(target=reader); t = time.perf_counter(); r.start()
    sent = 0
    while sent < total: s.sendall(buf); sent += len(buf)
    r.join(); return total/(time.perf_counter()-t)/1e6
d = min(rtt(up) for _ in range(3)); x = min(rtt((h,int(p))) for _ in range(3))
print("direct rtt %.3f ms, via proxy %.3f ms, added %.3f ms" % (d, x, x-d))
print("throughput direct %.0f MB/s, via proxy %.0f MB/s (echo, both directions)" % (tput(up), tput((h,int(p)))))
