#!/usr/bin/python3
"""The clients of scripts/bench-dashboard.sh, against a running
wgu-dashboard.  Run with /usr/bin/python3 (python3-selenium).

    bench-dashboard.py sse --base URL --user U --password-file F
        --clients N --start-at EPOCH --seconds S
    bench-dashboard.py browser --base URL --user U --password-file F
        --nodes N --start-at EPOCH --seconds S

sse: N event streams (/events, each its own login and session) in one
process, read with non-blocking sockets; from EPOCH on for S seconds,
the readings of every stream counted and, on --probes of them, every
reading's latency = its arrival here minus its "received" time at the
hub (parsing them all would make this process the bottleneck).  browser: one headless Chromium on the overview; its load time
(from navigation to N tiles drawn, three loads), then the latency of the
readings as the page's own event handler gets them (wgu.onReading).
Each prints one JSON object on stdout.
"""
import argparse
import array
import json
import re
import selectors
import socket
import sys
import time
import urllib.parse

RECEIVED = re.compile(rb'"received":(\d+)')


def login(host, port, user, password):
    body = urllib.parse.urlencode({'username': user, 'password': password})
    s = socket.create_connection((host, port), timeout=30)
    s.sendall(('POST /login HTTP/1.0\r\nHost: %s\r\nContent-Type: '
               'application/x-www-form-urlencoded\r\nContent-Length: %d\r\n'
               '\r\n%s' % (host, len(body), body)).encode())
    data = b''
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    m = re.search(rb'Set-Cookie: (wgu_session=[0-9a-f]+)', data, re.I)
    if not m:
        raise SystemExit('login failed: %r' % data[:200])
    return m.group(1).decode()


class Hist:
    """Latencies in 1 ms buckets (negative ones, a clock step, in 0)."""

    def __init__(self):
        self.counts = array.array('q', [0] * 60001)
        self.n = 0

    def add(self, ms):
        self.counts[min(max(int(ms), 0), 60000)] += 1
        self.n += 1

    def pct(self, p):
        want = self.n * p / 100.0
        seen = 0
        for ms, c in enumerate(self.counts):
            seen += c
            if c and seen >= want:
                return ms
        return None

    def summary(self):
        return {'n': self.n, 'p50_ms': self.pct(50), 'p99_ms': self.pct(99),
                'max_ms': self.pct(100)}


def sse(a, password):
    u = urllib.parse.urlsplit(a.base)
    host, port = u.hostname, u.port or 80
    sel = selectors.DefaultSelector()
    clients = []
    # Every login first: a stream opened early would not be read while
    # the others log in, and the server drops a stream that falls behind.
    cookies = [login(host, port, a.user, password) for _ in range(a.clients)]
    for i, cookie in enumerate(cookies):
        s = socket.create_connection((host, port), timeout=30)
        # HTTP/1.0: the stream unchunked, ended by the close.
        s.sendall(('GET /events HTTP/1.0\r\nHost: %s\r\nCookie: %s\r\n'
                   'Accept: text/event-stream\r\n\r\n' % (host, cookie))
                  .encode())
        s.setblocking(False)
        c = {'sock': s, 'buf': b'', 'head': False, 'events': 0,
             'probe': i < a.probes}
        clients.append(c)
        sel.register(s, selectors.EVENT_READ, c)
    hist = Hist()
    end = a.start_at + a.seconds
    closed = 0
    while time.time() < end and closed < len(clients):
        for key, _ in sel.select(0.5):
            c = key.data
            try:
                data = c['sock'].recv(1 << 20)
            except BlockingIOError:
                continue
            now = time.time() * 1000
            if not data:
                sel.unregister(c['sock'])
                closed += 1
                continue
            buf = c['buf'] + data
            if not c['head']:
                i = buf.find(b'\r\n\r\n')
                if i < 0:
                    c['buf'] = buf
                    continue
                if not buf.startswith((b'HTTP/1.0 200', b'HTTP/1.1 200')):
                    raise SystemExit('events: %r' % buf[:200])
                c['head'] = True
                buf = buf[i + 4:]
            cut = buf.rfind(b'\n\n')
            if cut < 0:
                c['buf'] = buf
                continue
            done, c['buf'] = buf[:cut], buf[cut + 2:]
            if now < a.start_at * 1000:
                continue
            if not c['probe']:
                c['events'] += done.count(b'event: reading')
                continue
            for ev in done.split(b'\n\n'):
                if not ev.startswith(b'event: reading'):
                    continue
                c['events'] += 1
                m = RECEIVED.search(ev)
                if m:
                    hist.add(now - int(m.group(1)))
    out = hist.summary()
    out.update({'clients': len(clients), 'closed': closed,
                'events_min': min((c['events'] for c in clients), default=0),
                'events_max': max((c['events'] for c in clients), default=0)})
    return out


def browser(a, password):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    opts = webdriver.ChromeOptions()
    for arg in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage',
                '--window-size=1280,900', '--no-first-run'):
        opts.add_argument(arg)
    opts.binary_location = '/usr/bin/chromium'
    d = webdriver.Chrome(service=Service('/usr/bin/chromedriver'),
                         options=opts)
    d.set_script_timeout(60)
    try:
        d.get(a.base + '/login')
        d.find_element(By.ID, 'username').send_keys(a.user)
        d.find_element(By.ID, 'password').send_keys(password)
        d.find_element(By.ID, 'submit').click()
        deadline = time.monotonic() + 30
        while d.current_url.endswith('/login') and time.monotonic() < deadline:
            time.sleep(0.05)
        loads, api = [], []
        for _ in range(3):
            t0 = time.monotonic()
            d.get(a.base + '/')
            while time.monotonic() - t0 < 60:
                n = d.execute_script(
                    "return document.querySelectorAll('#tiles .tile')"
                    ".length;")
                if n >= a.nodes:
                    break
                time.sleep(0.01)
            loads.append(round(time.monotonic() - t0, 3))
            # How long /api/nodes itself took, as the page saw it.
            api.append(d.execute_script(
                "const r = performance.getEntriesByType('resource').filter("
                "e => e.name.indexOf('/api/nodes') >= 0)[0];"
                "return r ? Math.round(r.responseEnd - r.startTime) : null;"))
        d.execute_script('window.benchLat = [];'
                         'wgu.onReading(function (r) {'
                         ' window.benchLat.push(Date.now() - r.received); });')
        pause = a.start_at - time.time()
        if pause > 0:
            time.sleep(pause)
        d.execute_script('window.benchLat = [];')
        time.sleep(a.seconds)
        lat = d.execute_script('return window.benchLat;')
        hist = Hist()
        for ms in lat:
            hist.add(ms)
        out = hist.summary()
        out['loads_s'] = loads
        out['api_nodes_ms'] = api
        return out
    finally:
        d.quit()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=('sse', 'browser'))
    ap.add_argument('--base', required=True)
    ap.add_argument('--user', required=True)
    ap.add_argument('--password-file', required=True)
    ap.add_argument('--clients', type=int, default=1)
    ap.add_argument('--probes', type=int, default=5)
    ap.add_argument('--nodes', type=int, default=1)
    ap.add_argument('--start-at', type=float, required=True)
    ap.add_argument('--seconds', type=float, default=30)
    a = ap.parse_args()
    with open(a.password_file, encoding='utf-8') as f:
        password = f.readline().rstrip('\n')
    out = sse(a, password) if a.mode == 'sse' else browser(a, password)
    out['mode'] = a.mode
    print(json.dumps(out), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
